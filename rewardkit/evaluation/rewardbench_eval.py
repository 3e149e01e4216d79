"""RewardBench v1 and 2 runs: score the rows, then aggregate with the published rules of rewardbench.py.

v1: per-subset pairwise accuracy (ties wrong) → `rewardbench_v1` (sections weighted by example counts, the
overall score 2:2:2:2:1, given only when all four core sections ran, and called "Score" only when the four prior
sets ran too: otherwise "Score (excl. prior sets)"). "sections" in the metrics pool each
section's pairs without weights, so their CIs are plain bootstrap intervals; "rewardbench" holds the
official weighted numbers.

v2: each row is scored in full; a non-Ties item earns `v2_item_credit` (chosen first, then the rejected
completions), Ties rows go to `ties_score`; "sections" hold mean item credit per domain with bootstrap CIs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rewardkit.data.schemas import Sample
from rewardkit.evaluation import rewardbench
from rewardkit.evaluation.pairwise import bootstrap_ci
from rewardkit.evaluation.rewardbench_data import BenchItem, load_rewardbench_v1, load_rewardbench_v2, ties_kind
from rewardkit.evaluation.suite_eval import EvalResult, OnProgress, evaluate_pairs, score_samples
from rewardkit.models.base import RewardModel, Scores

_V1_SECTION_OF = {s: name for name, subsets in rewardbench.V1_SECTIONS.items() for s in subsets}


def _v1_section(subset: str) -> str:
    if subset in rewardbench.V1_PRIOR_SETS:
        return "Prior Sets"
    if subset in rewardbench.V1_PRIOR_SETS_UNSCORED:
        return "Prior Sets (not in score)"
    return _V1_SECTION_OF.get(subset, "Other")


def evaluate_rewardbench_v1(model: RewardModel, source: str | None = None, *, prior_source: str | None = None,
                            batch_size: int = 64, on_progress: OnProgress | None = None, seed: int = 0) -> EvalResult:
    """RewardBench v1 from the hub (`source` None) or a local copy in the same format.

    The prior sets come from `prior_source` when given, else from the hub when the core set did; without
    them the overall is "Score (excl. prior sets)" and metrics["prior_sets_included"] is False.
    """
    pairs = load_rewardbench_v1(source)
    prior, prior_info = _prior_pairs(source, prior_source)
    result = evaluate_pairs(model, pairs + prior, section_of=_v1_section, batch_size=batch_size,
                            on_progress=on_progress, seed=seed)
    subset_scores = {name: v["accuracy"] for name, v in result.metrics["subsets"].items()
                     if name in rewardbench.V1_EXAMPLE_COUNTS or name in rewardbench.V1_PRIOR_SETS}
    result.metrics["rewardbench"] = _v1_scores(subset_scores)
    result.metrics["prior_sets_included"] = rewardbench.V1_SCORE in result.metrics["rewardbench"]
    result.metrics["prior_sets"] = {**prior_info, "ran": sorted({p.subset for p in prior})}
    result.metrics["unscored_subsets"] = sorted(set(result.metrics["subsets"]) - set(subset_scores))
    result.metrics["suite"] = {"name": "rewardbench", "version": "v1", "source": source or "allenai/reward-bench",
                               "split": "filtered", "pairs": len(pairs), "prior_pairs": len(prior), "seed": seed,
                               "length_unit": "words"}
    return result


def _prior_pairs(source: str | None, prior_source: str | None) -> tuple[list, dict[str, Any]]:
    """(prior-set pairs, where they came from or why there are none). A hub failure is not an error: the
    score is then labelled as excluding the prior sets."""
    from rewardkit.errors import DataError
    from rewardkit.evaluation.rewardbench_prior import PRIOR_HUB_ID, load_prior_sets

    if prior_source is not None:
        return load_prior_sets(prior_source), {"source": prior_source}
    if source is not None:
        return [], {"source": None, "note": "core set read from a local copy; pass --prior-data FILE for the "
                                            "prior sets"}
    try:
        return load_prior_sets(None), {"source": PRIOR_HUB_ID}
    except DataError as err:
        return [], {"source": None, "note": str(err)}


def _v1_scores(subset_scores: dict[str, float]) -> dict[str, float]:
    sections = rewardbench.v1_section_scores(subset_scores)
    if all(name in sections for name in rewardbench.V1_SECTIONS):
        sections[rewardbench.v1_score_label(subset_scores)] = rewardbench.v1_overall(sections)
    return sections


def _item_scores(items: list[BenchItem], rewards: list[float]) -> list[list[float]]:
    out, at = [], 0
    for item in items:
        size = len(item.responses())
        out.append(rewards[at: at + size])
        at += size
    return out


def _domain_summary(credits: list[float], seed: int) -> dict[str, float | int]:
    low, high = bootstrap_ci(credits, seed=seed)
    return {"accuracy": float(np.mean(credits)), "ci_low": low, "ci_high": high, "n": len(credits)}


def v2_metrics(items: list[BenchItem], scores: list[list[float]], seed: int = 0) -> dict[str, Any]:
    """"rewardbench" (domain scores and Score) and "sections" (mean item credit per domain, with CIs)."""
    by_domain: dict[str, list[list[float]]] = {}
    ties = []
    for item, values in zip(items, scores):
        if item.subset == "Ties":
            kind, prompt_id = ties_kind(item.id)
            ties.append(rewardbench.TiesPrompt(prompt_id, kind, values, item.num_correct))
        else:
            by_domain.setdefault(item.subset, []).append([values[0], *values[len(item.chosen):]])
    official = rewardbench.rewardbench_v2(by_domain, ties or None)
    sections = {name: _domain_summary([rewardbench.v2_item_credit(i) for i in domain], seed)
                for name, domain in by_domain.items()}
    credits = [c for name in sections for c in (rewardbench.v2_item_credit(i) for i in by_domain[name])]
    metrics: dict[str, Any] = {"rewardbench": official, "sections": sections}
    if credits:
        metrics["accuracy"] = _domain_summary(credits, seed)
    if ties:
        metrics["ties"] = rewardbench.ties_score(ties)
    return metrics


def evaluate_rewardbench_v2(model: RewardModel, source: str | None = None, *, batch_size: int = 64,
                            on_progress: OnProgress | None = None, seed: int = 0) -> EvalResult:
    """RewardBench 2 from the hub (`source` None) or a local copy in the same format."""
    items = load_rewardbench_v2(source)
    samples = [Sample(item.prompt, response) for item in items for response in item.responses()]
    scored = score_samples(model, samples, batch_size, on_progress)
    metrics = v2_metrics(items, _item_scores(items, scored.rewards), seed)
    metrics.update(ms_per_pair=1000.0 * scored.seconds / max(len(samples) / 2, 1), parameters=model.parameter_count(),
                   truncated=scored.truncated)
    metrics["suite"] = {"name": "rewardbench2", "version": "v2", "source": source or "allenai/reward-bench-2",
                        "split": "test", "items": len(items), "seed": seed}
    if scored.gated is not None:  # a multi model: what each attribute contributed, per domain, from the same scores
        from rewardkit.evaluation.attributes import gated_pair_metrics

        pair_scores, domains = v2_pairs_of(items, scored.gated)
        metrics["attributes"] = gated_pair_metrics(model, pair_scores, domains, seed)
    return EvalResult(metrics)


def v2_pairs_of(items: list[BenchItem], scores: Scores) -> tuple[Scores, list[str]]:
    """RewardBench 2 items as pairs for attribute figures: every correct completion of an item against each of its
    incorrect ones (Ties rows too), their `scores` rows reordered chosen, rejected, chosen, ...; and each pair's
    domain. (Pairs, not the item credit: an attribute's "accuracy" there is how often the correct completion
    outscores an incorrect one on that attribute.)"""
    order, domains, at = [], [], 0
    for item in items:
        correct = range(at, at + len(item.chosen))
        incorrect = range(at + len(item.chosen), at + len(item.responses()))
        for c in correct:
            for r in incorrect:
                order += [c, r]
                domains.append(item.subset)
        at += len(item.responses())

    def rows(columns):
        return {name: [values[i] for i in order] for name, values in columns.items()}

    return Scores([scores.rewards[i] for i in order], attributes=rows(scores.attributes),
                  weights=rows(scores.weights)), domains
