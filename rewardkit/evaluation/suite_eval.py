"""Run a reward model over an evaluation suite and build the metrics dict that metrics.json and the report show.

Every pairwise suite goes through `score_pairs` (timed) and `pairwise_metrics`: accuracy with bootstrap CIs
overall, per section and per subset (ties count as wrong), the length-only baseline and length bias, and
calibration of σ(margin). Lengths are counted in words, so they compare across tokenizers. The verifiable suite
and pair files also get the shortcut battery (shortcuts.py): the best prompt-blind surface baseline's accuracy
per section and subset, beside the model's. A gated (multi) model's attribute values and gate weights from that
same scoring give its attribute figures (attributes.py): each attribute's mean value, weight and contribution per
section.

    >>> result = evaluate_verifiable(model, n_per_subset=50)        # doctest: +SKIP
    >>> result.metrics["sections"]["chat-hard"]["accuracy"]         # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Hashable, Sequence

import numpy as np

from rewardkit.data.schemas import PreferencePair, Sample
from rewardkit.evaluation.calibration import calibration_report
from rewardkit.evaluation.length_bias import length_bias_summary
from rewardkit.evaluation.pairwise import accuracy_by_subset, accuracy_with_ci
from rewardkit.evaluation.resumable import journal_for
from rewardkit.evaluation.shortcuts import shortcut_battery
from rewardkit.models.base import RewardModel, Scores, needs_reference_answer

OnProgress = Callable[[int, int], None]
"""on_progress(samples done, samples in total)."""


@dataclass
class EvalResult:
    """The metrics (JSON-ready) and the per-pair arrays the report's figures need."""

    metrics: dict[str, Any]
    arrays: dict[str, list[float]] = field(default_factory=dict)
    bad_rows: list = field(default_factory=list)
    """Broken rows of a pairs file skipped under on_bad_rows="skip" (data.jsonl.BadRow), to write out."""
    judgements: list[dict] = field(default_factory=list)
    """A generative judge's text per pair ({"id", "subset", "margin", "unparseable", "text"}), to write out."""


@dataclass
class ScoredSamples:
    rewards: list[float]
    seconds: float
    truncated: int
    gated: Scores | None = None
    """A gated (multi) model's full scores, attribute values and gate weights included; None for other models."""


def score_samples(model: RewardModel, samples: Sequence[Sample], batch_size: int = 64,
                  on_progress: OnProgress | None = None) -> ScoredSamples:
    """`model.score` over `samples` in chunks of `batch_size`, timed, reporting progress after each chunk; inside
    `resumable.journaling`, each chunk is journaled and a resumed run starts after the chunks journaled before
    (their seconds count in the time)."""
    rewards: list[float] = []
    attributes: dict[str, list[float]] = {}
    weights: dict[str, list[float]] = {}
    truncated, seconds = 0, 0.0
    journal = journal_for("samples", samples, batch_size)

    def take(chunk: dict) -> None:
        nonlocal truncated, seconds
        rewards.extend(chunk["rewards"])
        truncated += chunk["truncated"]
        seconds += chunk["seconds"]
        for name, values in chunk["attributes"].items():
            attributes.setdefault(name, []).extend(values)
        for name, values in chunk["weights"].items():
            weights.setdefault(name, []).extend(values)

    for chunk in journal.chunks() if journal else []:
        take(chunk)
    for at in range(len(rewards), len(samples), batch_size):
        start = time.perf_counter()
        scores = model.score(list(samples[at: at + batch_size]))
        chunk = {"rewards": [float(r) for r in scores.rewards], "truncated": scores.truncated,
                 "attributes": dict(scores.attributes) if scores.weights and scores.attributes else {},
                 "weights": dict(scores.weights or {}), "seconds": time.perf_counter() - start}
        take(chunk)
        if journal is not None:
            journal.add(chunk)
        if on_progress is not None:
            on_progress(len(rewards), len(samples))
    gated = Scores(list(rewards), attributes=attributes, weights=weights) if weights else None
    return ScoredSamples(rewards, seconds, truncated, gated)


def word_lengths(texts: Sequence[str]) -> np.ndarray:
    """Whitespace word counts."""
    return np.array([len(t.split()) for t in texts], dtype=float)


def pairwise_metrics(chosen: np.ndarray, rejected: np.ndarray, pairs: Sequence[PreferencePair],
                     section_of: Callable[[str], str] | None = None, heldout: Sequence[str] = (),
                     seed: int = 0) -> dict[str, Any]:
    """accuracy / sections / subsets (each with CI), generalisation, length bias and calibration."""
    margins = chosen - rejected
    subsets = [p.subset or "all" for p in pairs]
    by_subset = accuracy_by_subset(margins, subsets, seed=seed)
    sections = accuracy_by_subset(margins, [section_of(s) for s in subsets], seed=seed) if section_of else by_subset
    metrics: dict[str, Any] = {"accuracy": accuracy_with_ci(margins, seed=seed), "sections": _str_keys(sections),
                               "subsets": _str_keys(by_subset)}
    if section_of:
        for name, values in metrics["subsets"].items():
            values.update(section=section_of(name), heldout=name in heldout)
    if heldout:
        metrics["generalisation"] = _generalisation(margins, subsets, set(heldout), seed)
    lengths = word_lengths([p.chosen for p in pairs]), word_lengths([p.rejected for p in pairs])
    metrics["length_bias"] = length_bias_summary(chosen, rejected, *lengths)
    metrics["length_baseline"] = metrics["length_bias"]["baseline"]
    metrics["calibration"] = _calibration(margins)
    return metrics


def _str_keys(groups: dict[Hashable, dict]) -> dict[str, dict]:
    return {str(k): dict(v) for k, v in groups.items()}


def _generalisation(margins: np.ndarray, subsets: list[str], heldout: set[str], seed: int) -> dict[str, Any]:
    labels = ["heldout" if s in heldout else "in_distribution" for s in subsets]
    return _str_keys(accuracy_by_subset(margins, labels, seed=seed))


def _calibration(margins: np.ndarray) -> dict[str, Any]:
    """`calibration_report` plus its headline numbers at the top: ece and brier at T = 1, the fitted T."""
    report = calibration_report(margins)
    return {"ece": report["before"]["ece"], "brier": report["before"]["brier"],
            "ece_fitted": report["after"]["ece"], **report}


def score_pairs(model: RewardModel, pairs: Sequence[PreferencePair], batch_size: int = 64,
                on_progress: OnProgress | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(chosen rewards, rejected rewards, cost) where cost has ms_per_pair, parameters, truncated and
    generated_tokens_per_pair (0 for a model that generates nothing). A generative judge (a model with
    `compare_pairs`) judges the pairs itself; its report (unparseable rate, position consistency, usage) is
    returned under cost["judge"] and its texts under cost["judgements"]; a gated (multi) model's full scores
    under cost["gated"]."""
    if hasattr(model, "compare_pairs"):
        return _judge_pairs(model, pairs, batch_size, on_progress)
    samples = [s for p in pairs for s in p.samples()]
    scored = score_samples(model, samples, batch_size, on_progress)
    rewards = np.asarray(scored.rewards, dtype=float)
    cost = {"ms_per_pair": 1000.0 * scored.seconds / max(len(pairs), 1), "parameters": model.parameter_count(),
            "truncated": scored.truncated, "generated_tokens_per_pair": 0.0}
    if scored.gated is not None:
        cost["gated"] = scored.gated
    return rewards[0::2], rewards[1::2], cost


def _judge_pairs(model, pairs: Sequence[PreferencePair], batch_size: int,
                 on_progress: OnProgress | None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """`model.compare_pairs` in chunks, timed, with the judge's counters reset first; inside
    `resumable.journaling`, each chunk is journaled with the counters so far, and a resumed run starts after the
    chunks journaled before, with their counters."""
    model.reset_stats()
    chosen, rejected, judgements = [], [], []
    seconds = 0.0
    journal = journal_for("pairs", pairs, batch_size)

    def take(chunk: dict) -> None:
        nonlocal seconds
        chosen.extend(chunk["chosen"])
        rejected.extend(chunk["rejected"])
        judgements.extend(chunk["judgements"])
        seconds += chunk["seconds"]

    for chunk in journal.chunks() if journal else []:
        take(chunk)
        model.restore_stats(chunk["counters"])
    for at in range(len(chosen), len(pairs), batch_size):
        start = time.perf_counter()
        part = list(pairs[at: at + batch_size])
        judged = model.compare_pairs(part)
        chunk = {"chosen": list(judged.chosen_rewards), "rejected": list(judged.rejected_rewards),
                 "judgements": [{"id": p.id, "subset": p.subset, "margin": m, "unparseable": bad, "text": text}
                                for p, m, bad, text in zip(part, judged.margins, judged.unparseable,
                                                           judged.texts or [None] * len(part))],
                 "seconds": time.perf_counter() - start, "counters": model.stats_state()}
        take(chunk)
        if journal is not None:
            journal.add(chunk)
        if on_progress is not None:
            on_progress(len(chosen), len(pairs))
    report = model.judge_report()
    n = max(len(pairs), 1)
    cost = {"ms_per_pair": 1000.0 * seconds / n, "parameters": model.parameter_count(), "truncated": 0,
            "generated_tokens_per_pair": report["usage"]["generated_tokens"] / n, "judge": report,
            "judgements": judgements}
    return np.asarray(chosen, dtype=float), np.asarray(rejected, dtype=float), cost


def null_model_section(model: RewardModel, pairs: Sequence[PreferencePair], batch_size: int = 64) -> dict[str, Any]:
    """The model on `null_model.null_model_pairs(pairs)`: how often the constant non-answer wins."""
    from rewardkit.evaluation.null_model import null_model_pairs, null_model_summary

    null_pairs = null_model_pairs(pairs)
    if hasattr(model, "compare_pairs"):
        model.reset_stats()
        judged = model.compare_pairs(null_pairs)
        return null_model_summary(judged.margins, judged.unparseable)
    chosen, rejected, _ = score_pairs(model, null_pairs, batch_size)
    return null_model_summary(chosen - rejected)


def pair_arrays(chosen: np.ndarray, rejected: np.ndarray, pairs: Sequence[PreferencePair]) -> dict[str, list[float]]:
    """The report's per-pair arrays."""
    return {"chosen_rewards": chosen.tolist(), "rejected_rewards": rejected.tolist(),
            "chosen_lengths": word_lengths([p.chosen for p in pairs]).tolist(),
            "rejected_lengths": word_lengths([p.rejected for p in pairs]).tolist()}


def evaluate_pairs(model: RewardModel, pairs: Sequence[PreferencePair], *,
                   section_of: Callable[[str], str] | None = None, heldout: Sequence[str] = (), batch_size: int = 64,
                   on_progress: OnProgress | None = None, seed: int = 0) -> EvalResult:
    """Score `pairs` and build `pairwise_metrics` plus the cost entries; for a gated (multi) model, also the
    attribute figures of those same scores (evaluation/attributes.py) under "attributes"."""
    chosen, rejected, cost = score_pairs(model, pairs, batch_size, on_progress)
    judgements, gated = cost.pop("judgements", []), cost.pop("gated", None)
    metrics = {**pairwise_metrics(chosen, rejected, pairs, section_of, heldout, seed), **cost}
    if gated is not None:  # a multi model: what each attribute contributed, per section, from the same scores
        from rewardkit.evaluation.attributes import gated_pair_metrics

        subsets = [p.subset or "all" for p in pairs]
        metrics["attributes"] = gated_pair_metrics(model, gated, [section_of(s) for s in subsets] if section_of
                                                   else subsets, seed)
    return EvalResult(metrics, pair_arrays(chosen, rejected, pairs), judgements=judgements)


def best_of_n_on_traces(model: RewardModel, n_problems: int = 60, per_problem: int = 8, seed: int = 1234,
                        batch_size: int = 64) -> dict[str, list]:
    """Best-of-N curve when the model picks among `per_problem` solutions of each synthetic arithmetic problem
    (`process_suite` traces, about half wrong); the utility of a solution is 1 when its final answer is right."""
    from rewardkit.evaluation.best_of_n import best_of_n_curve
    from rewardkit.evaluation.process import process_suite

    traces = process_suite(n_problems=n_problems, per_problem=per_problem, seed=seed)
    truth = {t.problem_id: t.answer for t in traces if t.outcome}  # a right trace's answer is the problem's
    if needs_reference_answer(model):  # a problem no trace gets right has no known answer: left out
        traces = [t for t in traces if t.problem_id in truth]
        n_problems = len(traces) // per_problem
    samples = [replace(t.sample(), reference_answer=truth.get(t.problem_id)) for t in traces]
    rewards = score_samples(model, samples, batch_size).rewards
    grid = np.asarray(rewards, dtype=float).reshape(n_problems, per_problem)
    utility = np.asarray([t.outcome for t in traces], dtype=float).reshape(n_problems, per_problem)
    return best_of_n_curve(grid, utility)


def evaluate_verifiable(model: RewardModel, n_per_subset: int = 100, seed: int | None = None, *, batch_size: int = 64,
                        on_progress: OnProgress | None = None, bon_problems: int | None = None,
                        sections: Sequence[str] | None = None) -> EvalResult:
    """The verifiable suite (rewardkit.synth.suite), or only its `sections`: pairwise metrics by section and
    subset, generalisation to held-out subsets, and a Best-of-N curve on `bon_problems` arithmetic problems of 8
    solutions each (default min(60, max(4, n_per_subset)))."""
    from rewardkit.synth import suite

    bon_problems = min(60, max(4, n_per_subset)) if bon_problems is None else bon_problems
    seed = suite.DEFAULT_SEED if seed is None else seed
    pairs = [answered(sp) for sp in suite.build_suite(n_per_subset, seed, sections)]
    unanswered = sorted({p.subset or "" for p in pairs if p.reference_answer is None})
    if needs_reference_answer(model):  # only subsets whose checks state the answer can be graded against it
        pairs = [p for p in pairs if p.reference_answer is not None]
    result = evaluate_pairs(model, pairs, section_of=suite.section_of, heldout=suite.HELDOUT_SUBSETS,
                            batch_size=batch_size, on_progress=on_progress, seed=seed)
    fit_pairs = [sp.pair for sp in suite.build_suite(n_per_subset, seed + 1, sections)]
    result.metrics["shortcuts"] = shortcut_battery(pairs, section_of=suite.section_of, seed=seed, fit_pairs=fit_pairs)
    result.metrics["null_model"] = null_model_section(model, pairs, batch_size)
    if getattr(model, "generative", False):  # 8 generations per problem: too dear to run by default
        result.metrics["best_of_n_source"] = ("skipped for a generative judge (cost); score a Best-of-N set with "
                                              "`rewardkit score` and a pointwise judge")
    else:
        result.metrics["best_of_n"] = best_of_n_on_traces(model, bon_problems, seed=seed, batch_size=batch_size)
        result.metrics["best_of_n_source"] = (f"{bon_problems} synthetic arithmetic problems x 8 solutions "
                                              "(process_suite); utility 1 when the final answer is right")
    result.metrics["suite"] = {"name": "verifiable", **suite.describe(), "seed": seed, "n_per_subset": n_per_subset,
                               "pairs": len(pairs), "length_unit": "words",
                               "sections_run": list(sections or suite.SECTIONS)}
    if needs_reference_answer(model):
        result.metrics["suite"]["left_out_without_reference_answer"] = unanswered
    return result


def answered(synth_pair):
    """The pair with its check's stated answer (numeric and fact checks) as its reference answer."""
    answer = synth_pair.check.get("answer")
    return synth_pair.pair if answer is None else replace(synth_pair.pair, reference_answer=str(answer))


def evaluate_pair_file(model: RewardModel, path: str, *, batch_size: int = 64,
                       on_progress: OnProgress | None = None, seed: int = 0, strict_rows: bool = False,
                       on_bad_rows: str = "error") -> EvalResult:
    """Pairs from a JSONL/dataset file in any format `load_pairs` reads; sections are its `subset` values.
    `strict_rows` / `on_bad_rows` as rewardkit.data.loaders; the row counts go into metrics["suite"]["rows"]."""
    from rewardkit.data.loaders import load_pairs

    source = load_pairs(path, strict_rows=strict_rows, on_bad_rows=on_bad_rows)
    pairs = list(source)
    result = evaluate_pairs(model, pairs, batch_size=batch_size, on_progress=on_progress, seed=seed)
    result.metrics["shortcuts"] = shortcut_battery(pairs, seed=seed)
    result.metrics["null_model"] = null_model_section(model, pairs, batch_size)
    result.metrics["suite"] = {"name": "file", "path": str(path), "pairs": len(pairs), "seed": seed,
                               "version": None, "length_unit": "words", "rows": source.stats.summary()}
    result.bad_rows = source.stats.bad_rows
    return result
