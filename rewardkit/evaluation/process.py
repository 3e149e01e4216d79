"""Process reward evaluation: where does a solution first go wrong, and does step-level scoring pick better
solutions?

**First error (ProcessBench-style).** A trace's predicted first wrong step is the first step whose reward
falls below a threshold τ (−1 when none does). τ is chosen on a dev split of the problems to maximise F1
below, then applied to the held-out problems:

    error_accuracy   = P(predicted == true first error | trace has an error)
    correct_accuracy = P(predicted == −1              | trace is correct)
    f1               = 2·a_err·a_cor / (a_err + a_cor)      (their harmonic mean, ProcessBench's F1)

**Best-of-N.** Among N traces of a problem, pick the highest by the process rewards aggregated with `min`
(weakest step) or `last` (final step), by an outcome reward model, or by majority vote over final answers;
report the chance the pick is right as a function of the pool size n (exact expectation over pools).

The CLI (`rewardkit eval --suite process`) should call:

    from rewardkit.evaluation.process import evaluate_process, process_suite
    report = evaluate_process(model, process_suite(), outcome_model=None)   # or traces from read_traces(path)
"""

from __future__ import annotations

import random
from collections import Counter
from math import comb
from typing import Sequence

import numpy as np

from rewardkit.models.steps import aggregate_steps
from rewardkit.synth.traces import Trace, generate_traces, split_by_problem


def first_error(step_values: Sequence[float], threshold: float) -> int:
    """Index of the first step below `threshold`, or −1.

    >>> first_error([0.9, 0.2, 0.1], 0.5), first_error([0.9, 0.8], 0.5)
    (1, -1)
    """
    return next((k for k, value in enumerate(step_values) if value < threshold), -1)


def first_error_scores(predicted: Sequence[int], truth: Sequence[int]) -> dict[str, float]:
    """error_accuracy, correct_accuracy and their harmonic mean f1 (see the module docstring).

    >>> first_error_scores([1, -1, 0, -1], [1, 2, -1, -1])["f1"]    # a_err = 1/2, a_cor = 1/2
    0.5
    """
    pairs = list(zip(predicted, truth))
    wrong = [p == t for p, t in pairs if t >= 0]
    right = [p == -1 for p, t in pairs if t < 0]
    a_err = sum(wrong) / len(wrong) if wrong else 0.0
    a_cor = sum(right) / len(right) if right else 0.0
    f1 = 2 * a_err * a_cor / (a_err + a_cor) if a_err + a_cor > 0 else 0.0
    return {"error_accuracy": a_err, "correct_accuracy": a_cor, "f1": f1,
            "n_erroneous": len(wrong), "n_correct": len(right)}


def _predictions(step_values: Sequence[Sequence[float]], thresholds: np.ndarray) -> np.ndarray:
    """[C, T] predicted first errors for C thresholds and T traces, vectorised over running minima."""
    width = max(len(v) for v in step_values)
    grid = np.full((len(step_values), width), np.inf)
    for row, values in enumerate(step_values):
        grid[row, : len(values)] = values
    below = grid[None, :, :] < thresholds[:, None, None]          # [C, T, S]
    return np.where(below.any(-1), below.argmax(-1), -1)


def choose_threshold(step_values: Sequence[Sequence[float]], truth: Sequence[int], candidates: int = 200) -> float:
    """The τ with the best first-error F1 on these (dev) traces, among midpoints of the step values' quantiles;
    when several tie, the median of them (the middle of the best interval generalises better than its edge)."""
    values = np.unique(np.concatenate([np.asarray(v, dtype=float) for v in step_values if len(v)]))
    if len(values) > candidates:
        values = np.unique(np.quantile(values, np.linspace(0, 1, candidates)))
    thresholds = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    predictions = _predictions(step_values, thresholds)
    f1 = np.array([first_error_scores(row.tolist(), truth)["f1"] for row in predictions])
    best = thresholds[f1 == f1.max()]
    return float(best[(len(best) - 1) // 2])


def majority_vote_curve(answers: Sequence[Sequence[str]], correct: Sequence[Sequence[int]], ns: Sequence[int],
                        samples: int = 512, seed: int = 0) -> list[float]:
    """Accuracy of the most common answer in a pool of n traces, averaged over problems and over pools
    (every n-subset when there are at most `samples` of them, else `samples` random ones); a tie among the
    most common answers is broken uniformly at random (its expectation is used)."""
    rng = random.Random(seed)
    curve = []
    for n in ns:
        per_problem = []
        for row_answers, row_correct in zip(answers, correct):
            right = {a for a, c in zip(row_answers, row_correct) if c}
            total = len(row_answers)
            pools = (_all_pools(total, n) if comb(total, n) <= samples
                     else [rng.sample(range(total), n) for _ in range(samples)])
            per_problem.append(np.mean([_vote_accuracy([row_answers[i] for i in pool], right) for pool in pools]))
        curve.append(float(np.mean(per_problem)))
    return curve


def _all_pools(total: int, n: int) -> list[tuple[int, ...]]:
    from itertools import combinations

    return list(combinations(range(total), n))


def _vote_accuracy(pool: Sequence[str], right: set[str]) -> float:
    counts = Counter(pool)
    top = max(counts.values())
    winners = [a for a, c in counts.items() if c == top]
    return sum(a in right for a in winners) / len(winners)


def _groups(traces: Sequence[Trace]) -> list[list[int]]:
    """Indices of traces per problem, keeping the problems that have the most common pool size N ≥ 2."""
    by_problem: dict[str, list[int]] = {}
    for i, trace in enumerate(traces):
        by_problem.setdefault(trace.problem_id, []).append(i)
    sizes = Counter(len(g) for g in by_problem.values() if len(g) >= 2)
    if not sizes:
        return []
    size = sizes.most_common(1)[0][0]
    return [g for g in by_problem.values() if len(g) == size]


def best_of_n_process(traces: Sequence[Trace], steps: Sequence[Sequence[float]],
                      outcome_rewards: Sequence[float] | None = None, ns: Sequence[int] | None = None) -> dict:
    """Accuracy vs pool size n for picks by process min / last, outcome reward, majority vote, plus the
    oracle (any right trace in the pool) and random pick."""
    from rewardkit.evaluation.best_of_n import best_of_n_curve

    groups = _groups(traces)
    if not groups:
        return {}
    utility = np.array([[traces[i].outcome for i in g] for g in groups], dtype=float)
    pickers = {"process_min": [aggregate_steps(s, "min") for s in steps],
               "process_last": [aggregate_steps(s, "last") for s in steps]}
    if outcome_rewards is not None:
        pickers["outcome"] = list(outcome_rewards)
    out: dict[str, list] = {}
    for name, rewards in pickers.items():
        curve = best_of_n_curve(np.array([[rewards[i] for i in g] for g in groups]), utility, ns)
        out.update({"n": curve["n"], name: curve["picked"], "oracle": curve["oracle"], "random": curve["random"]})
    answers = [[traces[i].answer for i in g] for g in groups]
    out["majority"] = majority_vote_curve(answers, utility.astype(int).tolist(), out["n"])
    out["problems"] = len(groups)
    return out


def process_suite(n_problems: int = 60, per_problem: int = 8, seed: int = 1234) -> list[Trace]:
    """The default evaluation traces: `per_problem` solutions (half wrong on average) of `n_problems` synthetic
    arithmetic problems, seeded apart from the training default (seed 0)."""
    return generate_traces(n_problems, per_problem=per_problem, error_rate=0.5, seed=seed)


def evaluate_process(model, traces: Sequence[Trace], *, outcome_model=None, dev_fraction: float = 0.3,
                     ns: Sequence[int] | None = None, seed: int = 0) -> dict:
    """First-error metrics (τ chosen on a `dev_fraction` of the problems, scored on the rest) and Best-of-N
    curves over all problems with N ≥ 2 traces. `model` must return `Scores.steps` (a process model)."""
    outcome = outcome_model.score([t.sample() for t in traces]).rewards if outcome_model is not None else None
    return process_report(traces, model.score([t.sample() for t in traces]), outcome, type(model).__name__,
                          dev_fraction=dev_fraction, ns=ns, seed=seed)


def process_report(traces: Sequence[Trace], scores, outcome: Sequence[float] | None = None, scorer: str = "model",
                   *, dev_fraction: float = 0.3, ns: Sequence[int] | None = None, seed: int = 0) -> dict:
    """`evaluate_process` from the Scores of the traces (and optional outcome rewards), already computed."""
    if scores.steps is None:
        raise ValueError(f"{scorer} returns no per-step values; first-error evaluation needs "
                         "a process reward model")
    step_of = {id(t): s for t, s in zip(traces, scores.steps)}
    dev, test = split_by_problem(traces, dev_fraction, seed=seed)
    tau = choose_threshold([step_of[id(t)] for t in dev], [t.first_error for t in dev])
    predicted = [first_error(step_of[id(t)], tau) for t in test]
    report = {"first_error": {"threshold": tau, "dev_traces": len(dev), "test_traces": len(test),
                              **first_error_scores(predicted, [t.first_error for t in test])}}
    report["best_of_n"] = best_of_n_process(traces, scores.steps, outcome, ns)
    report["truncated"] = scores.truncated
    return report
