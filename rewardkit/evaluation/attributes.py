"""What a multi-objective model's attributes are worth: per-attribute Pearson and Spearman against held-out
ratings, and, on a pair suite, the pairwise accuracy of the gated reward beside each attribute alone and the
equal-weight mean of the attributes, plus each attribute's mean value, gate weight and contribution, overall and
per section. Accuracies and correlations carry a percentile-bootstrap CI (evaluation/pairwise.py). The tables
are drawn by report_attributes.py.

    >>> report = attribute_metrics(model, pairs, ratings)          # doctest: +SKIP
    >>> report["pairs"]["gated"]["accuracy"], report["ratings"]["safety"]["spearman"]   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from rewardkit.data.schemas import PreferencePair, RatedResponse
from rewardkit.errors import ConfigError
from rewardkit.evaluation.pairwise import accuracy_with_ci, bootstrap_ci
from rewardkit.models.base import RewardModel, Scores


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank.

    >>> ranks(np.array([10.0, 30.0, 20.0, 20.0])).tolist()
    [1.0, 4.0, 2.5, 2.5]
    """
    order = np.argsort(values, kind="mergesort")
    position = np.empty(len(values), dtype=int)
    position[order] = np.arange(len(values))
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])   # first index of each run of equal values
    group = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1
    bounds = np.r_[starts, len(values)]
    return ((bounds[group] + bounds[group + 1] - 1) / 2 + 1)[position]


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Σ(x − x̄)(y − ȳ) / √(Σ(x − x̄)² Σ(y − ȳ)²); 0 when either is constant."""
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denominator) if denominator > 0 else 0.0


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of the ranks (ties averaged)."""
    return pearson(ranks(x), ranks(y))


def correlation_with_ci(x: np.ndarray, y: np.ndarray, seed: int = 0, n_resamples: int = 1000) -> dict[str, Any]:
    """{"pearson", "pearson_ci", "spearman", "spearman_ci", "n"}, rows resampled together."""
    index = np.arange(len(x), dtype=float)
    out: dict[str, Any] = {"n": int(len(x))}
    for name, fn in (("pearson", pearson), ("spearman", spearman)):
        out[name] = fn(x, y)
        out[f"{name}_ci"] = list(bootstrap_ci(index, lambda i: fn(x[i.astype(int)], y[i.astype(int)]),
                                              n_resamples=n_resamples, seed=seed))
    return out


def _scores(model: RewardModel, samples, batch_size: int) -> Scores:
    rewards, attributes, weights = [], {}, {}
    for at in range(0, len(samples), batch_size):
        part = model.score(list(samples[at: at + batch_size]))
        if part.attributes is None:
            raise ConfigError(f"{type(model).__name__} gives one number per sample and no per-attribute values to "
                              "evaluate (attribute figures and --ratings need a multi model or a regression model "
                              "with several outputs)")
        rewards += part.rewards
        for name, values in part.attributes.items():
            attributes.setdefault(name, []).extend(values)
        for name, values in (part.weights or {}).items():
            weights.setdefault(name, []).extend(values)
    return Scores(rewards, attributes=attributes, weights=weights or None)


def rating_correlations(scores: Scores, rated: Sequence[RatedResponse], seed: int = 0) -> dict[str, dict]:
    """Per attribute the model predicts (`scores` of `rated`, in order) and the data rates: correlations over the
    rows that carry a rating."""
    out = {}
    for name, predicted in scores.attributes.items():
        rows = [(p, r.ratings.get(name)) for p, r in zip(predicted, rated) if r.ratings.get(name) is not None]
        if len(rows) > 2:
            x, y = np.array(rows, dtype=float).T
            out[name] = correlation_with_ci(x, y, seed)
    return out


def contributions(values: np.ndarray, weights: np.ndarray, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per attribute over pairs (values and weights [P, 2, A]: chosen then rejected): the mean value, gate weight
    and contribution (weight × value) over both responses, and the mean margin of the contribution (chosen −
    rejected; the margins add up to the mean reward margin, so they say which attributes decided the pairs).

    >>> v = np.array([[[2.0, 1.0], [0.0, 3.0]]]); w = np.array([[[0.5, 0.5], [0.5, 0.5]]])
    >>> contributions(v, w, ["a", "b"])["a"]
    {'value': 1.0, 'weight': 0.5, 'contribution': 0.5, 'margin': 1.0}
    """
    parts = weights * values
    return {name: {"value": float(values[:, :, i].mean()), "weight": float(weights[:, :, i].mean()),
                   "contribution": float(parts[:, :, i].mean()),
                   "margin": float((parts[:, 0, i] - parts[:, 1, i]).mean())} for i, name in enumerate(names)}


def contributions_by_section(values: np.ndarray, weights: np.ndarray, names: Sequence[str],
                             sections: Sequence[str]) -> dict[str, Any]:
    """{"overall": {"n", "attributes"}, "sections": {section: {"n", "attributes"}}} with `contributions` as
    "attributes"; "sections" only when the pairs fall in two or more."""
    labels = np.asarray(sections, dtype=object)
    out: dict[str, Any] = {"overall": {"n": int(len(values)), "attributes": contributions(values, weights, names)}}
    groups = list(dict.fromkeys(sections))
    if len(groups) > 1:
        out["sections"] = {str(g): {"n": int((labels == g).sum()),
                                    "attributes": contributions(values[labels == g], weights[labels == g], names)}
                           for g in groups}
    return out


def pair_attribution(scores: Scores, sections: Sequence[str] | None = None, seed: int = 0) -> dict[str, Any]:
    """From `scores` of pairs' samples (chosen, rejected, chosen, …): accuracy (with CI) of the gated reward, of
    each attribute alone and of their equal-weight mean; and, for a gated model, the attribute contributions
    overall and per section of the pairs (`sections`, one per pair)."""
    names = list(scores.attributes)
    values = np.array([scores.attributes[n] for n in names], dtype=float).T.reshape(-1, 2, len(names))  # [P, 2, A]
    rewards = np.asarray(scores.rewards, dtype=float)
    out: dict[str, Any] = {"gated": accuracy_with_ci(rewards[0::2] - rewards[1::2], seed=seed),
                           "equal_weight": accuracy_with_ci(values[:, 0].mean(1) - values[:, 1].mean(1), seed=seed),
                           "only": {n: accuracy_with_ci(values[:, 0, i] - values[:, 1, i], seed=seed)
                                    for i, n in enumerate(names)}}
    if scores.weights is not None:
        weights = np.array([scores.weights[n] for n in names], dtype=float).T.reshape(-1, 2, len(names))
        out["contributions"] = contributions_by_section(values, weights, names,
                                                        sections or ["all"] * len(values))
    return out


def decorrelation_check(scores: Scores, decorrelation: dict[str, dict], verbosity: str) -> dict[str, dict]:
    """Per decorrelated attribute: λ and the correlations with `verbosity` that training measured on its reference
    set (before / after subtracting λ·verbosity), beside |corr| measured here on the scored responses."""
    if verbosity not in scores.attributes:
        return {}
    reference = np.asarray(scores.attributes[verbosity], dtype=float)
    return {name: {**entry, "corr_here": pearson(np.asarray(scores.attributes[name], dtype=float), reference)}
            for name, entry in decorrelation.items() if name in scores.attributes}


def model_figures(model: RewardModel, scores: Scores) -> dict[str, Any]:
    """"decorrelation" (decorrelation_check on `scores`) and "steering" (its weights) for a model whose options
    record them (multi)."""
    options, out = getattr(model, "options", None), {}
    if getattr(options, "decorrelation", None):
        out["decorrelation"] = decorrelation_check(scores, options.decorrelation, options.verbosity_attribute)
    if getattr(options, "weights", None):
        out["steering"] = options.weights
    return out


def gated_pair_metrics(model: RewardModel, scores: Scores, sections: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """What a suite's evaluation adds for a gated model from the scores it already has (pairs' samples, chosen
    then rejected): {"pairs": pair_attribution, **model_figures}."""
    return {"pairs": pair_attribution(scores, sections, seed), **model_figures(model, scores)}


def attribute_metrics(model: RewardModel, pairs: Sequence[PreferencePair] = (),
                      rated: Sequence[RatedResponse] = (), batch_size: int = 64, seed: int = 0,
                      sections: Sequence[str] | None = None) -> dict[str, Any]:
    """{"pairs": pair_attribution, "ratings": rating_correlations}, each present when its data is given, plus
    `model_figures` on the pairs (else on the rated responses)."""
    out: dict[str, Any] = {}
    checked = None
    if rated:
        checked = _scores(model, [r.sample() for r in rated], batch_size)
        out["ratings"] = rating_correlations(checked, rated, seed)
    if pairs:
        checked = _scores(model, [s for p in pairs for s in p.samples()], batch_size)
        out["pairs"] = pair_attribution(checked, sections, seed)
    return out if checked is None else {**out, **model_figures(model, checked)}


def suite_attribute_metrics(model: RewardModel, suite: str, ratings: str | None = None, *, n: int | None = None,
                            seed: int | None = None, batch_size: int = 64, strict_rows: bool = False,
                            on_bad_rows: str = "error", known: dict[str, Any] | None = None,
                            sections: list[str] | None = None) -> dict[str, Any]:
    """`known` (what the suite's evaluation found for a gated model: `gated_pair_metrics`), plus
    `attribute_metrics` on the rated responses of the file `ratings` (HelpSteer2 or UltraFeedback rows) and, when
    `known` has no pair figures (a model without a gate), on the pairs of `suite` (`suite_pairs`)."""
    known = known or {}
    pairs, pair_sections = ([], []) if "pairs" in known else suite_pairs(suite, n, seed, strict_rows, on_bad_rows,
                                                                         sections)
    names = getattr(getattr(model, "options", None), "attributes", None)  # the ratings columns to read
    rated = load_rated_any(ratings, names) if ratings else []
    return {**attribute_metrics(model, pairs, rated, batch_size, seed or 0, pair_sections), **known}


def suite_pairs(suite: str, n: int | None, seed: int | None, strict_rows: bool, on_bad_rows: str,
                sections: list[str] | None = None) -> tuple[list[PreferencePair], list[str]]:
    """(pairs, the section of each) of a pairs file (read with the evaluation's `strict_rows` / `on_bad_rows`;
    sections are its subsets) or of the verifiable suite (all or some `sections`); ([], []) for other suites."""
    from pathlib import Path

    if Path(suite).exists():
        from rewardkit.data.loaders import load_pairs

        pairs = list(load_pairs(suite, strict_rows=strict_rows, on_bad_rows=on_bad_rows))
        return pairs, [p.subset or "all" for p in pairs]
    if suite == "verifiable":
        from rewardkit.synth import suite as verifiable

        pairs = [sp.pair for sp in verifiable.build_suite(n or 100, verifiable.DEFAULT_SEED if seed is None else seed,
                                                          sections)]
        return pairs, [verifiable.section_of(p.subset) for p in pairs]
    return [], []


def load_rated_any(path: str, attributes: Sequence[str] | None) -> list[RatedResponse]:
    """Rated responses from HelpSteer2-style rows or UltraFeedback rows (told apart by `completions`)."""
    from rewardkit.data.loaders import load_rated, open_rows
    from rewardkit.data.ultrafeedback import load_ultrafeedback

    _, rows = open_rows(path)
    first = next(iter(rows()), (0, {}))[1]
    if isinstance(first, dict) and "completions" in first:
        return list(load_ultrafeedback(path))
    return list(load_rated(path, attributes))
