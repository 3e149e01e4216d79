"""`--suite process`: first-error F1 and Best-of-N for a process reward model on the synthetic traces.

The traces are scored once; `process.process_report` and the report's Best-of-N curve (picks by the weakest
step, `min`) both read the same step scores.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rewardkit.models.base import RewardModel
from rewardkit.evaluation.suite_eval import EvalResult


def _min_step_curve(traces: Sequence, steps: Sequence[Sequence[float]]) -> dict[str, list]:
    """best_of_n_curve with each trace's reward = its weakest step, utility = final answer right."""
    from rewardkit.evaluation.best_of_n import best_of_n_curve
    from rewardkit.models.steps import aggregate_steps

    groups: dict[str, list[int]] = {}
    for i, trace in enumerate(traces):
        groups.setdefault(trace.problem_id, []).append(i)
    size = max(len(g) for g in groups.values())
    rows = [g for g in groups.values() if len(g) == size]
    rewards = np.array([[aggregate_steps(steps[i], "min") for i in g] for g in rows], dtype=float)
    utility = np.array([[traces[i].outcome for i in g] for g in rows], dtype=float)
    return best_of_n_curve(rewards, utility)


def evaluate_process_suite(model: RewardModel, n_problems: int = 60, seed: int = 1234) -> EvalResult:
    """First-error metrics, Best-of-N by process min / last / majority, and the report's min-step curve."""
    import time

    from rewardkit.evaluation.process import process_report, process_suite

    traces = process_suite(n_problems=n_problems, seed=seed)
    start = time.perf_counter()
    scores = model.score([t.sample() for t in traces])
    seconds = time.perf_counter() - start
    report = process_report(traces, scores, scorer=f"the {model.family} model")
    metrics = {"first_error": report["first_error"], "process_best_of_n": report["best_of_n"],
               "best_of_n": _min_step_curve(traces, scores.steps), "truncated": report["truncated"],
               "ms_per_pair": 1000.0 * seconds / max(len(traces) / 2, 1), "parameters": model.parameter_count(),
               "suite": {"name": "process", "version": "1.0", "seed": seed, "problems": n_problems,
                         "traces": len(traces)}}
    return EvalResult(metrics)
