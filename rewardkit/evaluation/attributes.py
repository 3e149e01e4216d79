"""What a multi-objective model's attributes are worth: per-attribute Pearson and Spearman against held-out
ratings, and, on a pair suite, the pairwise accuracy of the gated reward beside each attribute alone and the
equal-weight mean of the attributes, plus each attribute's mean gate weight and contribution. Every figure
carries a percentile-bootstrap CI (evaluation/pairwise.py).

    >>> report = attribute_metrics(model, pairs, ratings)          # doctest: +SKIP
    >>> report["pairs"]["gated"]["accuracy"], report["ratings"]["safety"]["spearman"]   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from rewardkit.data.schemas import PreferencePair, RatedResponse
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
            raise ValueError(f"{type(model).__name__} gives no per-attribute values to evaluate")
        rewards += part.rewards
        for name, values in part.attributes.items():
            attributes.setdefault(name, []).extend(values)
        for name, values in (part.weights or {}).items():
            weights.setdefault(name, []).extend(values)
    return Scores(rewards, attributes=attributes, weights=weights or None)


def rating_correlations(model: RewardModel, rated: Sequence[RatedResponse], batch_size: int = 64,
                        seed: int = 0) -> dict[str, dict]:
    """Per attribute the model predicts and the data rates: correlations over the rows that carry a rating."""
    scores = _scores(model, [r.sample() for r in rated], batch_size)
    out = {}
    for name, predicted in scores.attributes.items():
        rows = [(p, r.ratings.get(name)) for p, r in zip(predicted, rated) if r.ratings.get(name) is not None]
        if len(rows) > 2:
            x, y = np.array(rows, dtype=float).T
            out[name] = correlation_with_ci(x, y, seed)
    return out


def pair_attribution(model: RewardModel, pairs: Sequence[PreferencePair], batch_size: int = 64,
                     seed: int = 0) -> dict[str, Any]:
    """Accuracy (with CI) of the gated reward, of each attribute alone and of their equal-weight mean; and per
    attribute its mean gate weight and mean contribution (weight × value) over every scored response."""
    scores = _scores(model, [s for p in pairs for s in p.samples()], batch_size)
    names = list(scores.attributes)
    values = np.array([scores.attributes[n] for n in names]).T            # [2P, A]
    rewards = np.asarray(scores.rewards)
    out: dict[str, Any] = {"gated": accuracy_with_ci(rewards[0::2] - rewards[1::2], seed=seed),
                           "equal_weight": accuracy_with_ci(values[0::2].mean(1) - values[1::2].mean(1), seed=seed),
                           "only": {n: accuracy_with_ci(values[0::2, i] - values[1::2, i], seed=seed)
                                    for i, n in enumerate(names)}}
    if scores.weights is not None:
        weights = np.array([scores.weights[n] for n in names]).T
        out["mean_weight"] = dict(zip(names, weights.mean(0).tolist()))
        out["mean_contribution"] = dict(zip(names, (weights * values).mean(0).tolist()))
    return out


def attribute_metrics(model: RewardModel, pairs: Sequence[PreferencePair] = (),
                      rated: Sequence[RatedResponse] = (), batch_size: int = 64, seed: int = 0) -> dict[str, Any]:
    """{"pairs": pair_attribution, "ratings": rating_correlations}, each present when its data is given."""
    out: dict[str, Any] = {}
    if pairs:
        out["pairs"] = pair_attribution(model, pairs, batch_size, seed)
    if rated:
        out["ratings"] = rating_correlations(model, rated, batch_size, seed)
    return out


def print_attribute_table(metrics: dict[str, Any], console) -> None:
    """One rich table: per attribute, its accuracy alone, mean weight and contribution, and correlations."""
    from rich.table import Table

    pairs, ratings = metrics.get("pairs", {}), metrics.get("ratings", {})
    names = list(dict.fromkeys([*pairs.get("only", {}), *ratings]))
    table = Table("attribute", "accuracy alone", "mean weight", "mean contribution", "pearson [CI]",
                  "spearman [CI]", title="attributes")

    def fmt(value):
        return "" if value is None else f"{value:.3f}"

    def corr(entry, key):
        return "" if entry is None else f"{entry[key]:.3f} [{entry[key + '_ci'][0]:.2f}, {entry[key + '_ci'][1]:.2f}]"

    for name in names:
        alone = pairs.get("only", {}).get(name)
        table.add_row(name, fmt(alone and alone["accuracy"]), fmt(pairs.get("mean_weight", {}).get(name)),
                      fmt(pairs.get("mean_contribution", {}).get(name)), corr(ratings.get(name), "pearson"),
                      corr(ratings.get(name), "spearman"))
    if pairs:
        for label in ("gated", "equal_weight"):
            entry = pairs[label]
            table.add_row(f"({label})", f"{entry['accuracy']:.3f} [{entry['ci_low']:.2f}, {entry['ci_high']:.2f}]",
                          "", "", "", "")
    console.print(table)


def suite_attribute_metrics(model: RewardModel, suite: str, ratings: str | None = None, *, n: int | None = None,
                            seed: int | None = None, batch_size: int = 64,
                            sections: list[str] | None = None) -> dict[str, Any]:
    """`attribute_metrics` on the pairs of `suite` (a pairs file, or the verifiable suite, all or some
    `sections`; other suites give no pairs) and on the rated responses of the file `ratings` (HelpSteer2 or
    UltraFeedback rows)."""
    from pathlib import Path

    pairs: list[PreferencePair] = []
    if Path(suite).exists():
        from rewardkit.data.loaders import load_pairs

        pairs = list(load_pairs(suite))
    elif suite == "verifiable":
        from rewardkit.synth import suite as verifiable

        pairs = [sp.pair for sp in verifiable.build_suite(n or 100, verifiable.DEFAULT_SEED if seed is None else seed,
                                                          sections)]
    names = getattr(getattr(model, "options", None), "attributes", None)  # the ratings columns to read
    rated = load_rated_any(ratings, names) if ratings else []
    return attribute_metrics(model, pairs, rated, batch_size, seed or 0)


def load_rated_any(path: str, attributes: Sequence[str] | None) -> list[RatedResponse]:
    """Rated responses from HelpSteer2-style rows or UltraFeedback rows (told apart by `completions`)."""
    from rewardkit.data.loaders import load_rated, open_rows
    from rewardkit.data.ultrafeedback import load_ultrafeedback

    _, rows = open_rows(path)
    first = next(iter(rows()), (0, {}))[1]
    if isinstance(first, dict) and "completions" in first:
        return list(load_ultrafeedback(path))
    return list(load_rated(path, attributes))
