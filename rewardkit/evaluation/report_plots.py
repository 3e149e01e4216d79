"""The report's figures, each rendered to PNG bytes with matplotlib's Agg canvas.

Figures are built with the object API (`Figure` + `FigureCanvasAgg`), so nothing here touches
pyplot's global state or the caller's backend. matplotlib is imported inside each function.
"""

from __future__ import annotations

import io
from typing import Any, Mapping, Sequence

import numpy as np

CHOSEN, REJECTED, NEUTRAL = "#1b7837", "#c2185b", "#555555"


def _figure(width: float = 6.4, height: float = 3.6, ncols: int = 1) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def section_accuracy(sections: Mapping[str, Mapping[str, float]]) -> bytes:
    """Horizontal bars of accuracy per section/subset, with the bootstrap CI as error bars."""
    names = list(sections)
    acc = np.array([sections[n]["accuracy"] for n in names], dtype=float)
    low = np.array([sections[n].get("ci_low", sections[n]["accuracy"]) for n in names], dtype=float)
    high = np.array([sections[n].get("ci_high", sections[n]["accuracy"]) for n in names], dtype=float)
    fig, (ax,) = _figure(height=1.2 + 0.38 * len(names))
    y = np.arange(len(names))[::-1]
    ax.barh(y, acc, xerr=[acc - low, high - acc], color="#4c72b0", capsize=3, ecolor="#222222")
    for yi, a, n in zip(y, acc, names):
        ax.text(min(a, 1.0) + 0.01, yi + 0.18, f"{a:.3f}  (n={sections[n].get('n', '?')})", fontsize=8)
    ax.axvline(0.5, color=NEUTRAL, linestyle="--", linewidth=1, label="chance (0.5)")
    ax.set(yticks=y, yticklabels=names, xlim=(0, 1.18), xlabel="pairwise accuracy (ties wrong)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Accuracy by section, with 95% bootstrap CI")
    return _png(fig)


def reward_distributions(chosen: Sequence[float], rejected: Sequence[float]) -> bytes:
    """Overlaid histograms of chosen and rejected rewards on shared bins."""
    c, r = np.asarray(chosen, dtype=float), np.asarray(rejected, dtype=float)
    both = np.concatenate([c, r])
    bins = np.histogram_bin_edges(both, bins="auto")
    if bins.size > 61:  # "auto" can ask for thousands of bins on heavy-tailed rewards
        bins = np.linspace(both.min(), both.max(), 61)
    fig, (ax,) = _figure()
    ax.hist(r, bins=bins, alpha=0.55, color=REJECTED, label=f"rejected (mean {r.mean():.2f})")
    ax.hist(c, bins=bins, alpha=0.55, color=CHOSEN, label=f"chosen (mean {c.mean():.2f})")
    ax.set(xlabel="reward", ylabel="responses", title="Reward distributions: chosen vs rejected")
    ax.legend(fontsize=8)
    return _png(fig)


def reliability(calibration: Mapping[str, Any]) -> bytes:
    """Accuracy vs confidence per bin before and after temperature scaling; marker area ∝ count."""
    fig, (ax,) = _figure(width=5.2, height=4.4)
    ax.plot([0.5, 1], [0.5, 1], color=NEUTRAL, linestyle="--", linewidth=1, label="perfect calibration")
    t = calibration["temperature"]
    for key, colour, label in (("before", REJECTED, "T = 1"), ("after", CHOSEN, f"T = {t:.2f}")):
        diagram = calibration[key]["reliability"]
        points = [(c, a, n) for c, a, n in zip(diagram["confidence"], diagram["accuracy"], diagram["counts"]) if n]
        conf, acc, counts = (np.array(v, dtype=float) for v in zip(*points))
        sizes = 15 + 300 * counts / counts.max()
        ece = calibration[key]["ece"]
        ax.plot(conf, acc, color=colour, linewidth=1)
        ax.scatter(conf, acc, s=sizes, color=colour, alpha=0.7, label=f"{label}: ECE {ece:.3f}")
    ax.set(xlim=(0.48, 1.02), ylim=(0, 1.02), xlabel="confidence of predicted winner", ylabel="accuracy")
    ax.set_title("Reliability diagram (σ of reward margin)")
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def length_scatter(margins: Sequence[float], length_gaps: Sequence[float], spearman: float | None) -> bytes:
    """Reward margin against length difference (chosen − rejected), coloured by correctness."""
    m, gap = np.asarray(margins, dtype=float), np.asarray(length_gaps, dtype=float)
    fig, (ax,) = _figure()
    right = m > 0
    ax.scatter(gap[right], m[right], s=9, alpha=0.6, color=CHOSEN, label="ranked right")
    ax.scatter(gap[~right], m[~right], s=9, alpha=0.6, color=REJECTED, label="ranked wrong / tie")
    ax.axhline(0, color=NEUTRAL, linewidth=0.8)
    ax.axvline(0, color=NEUTRAL, linewidth=0.8)
    title = "Length bias: margin vs length difference"
    if spearman is not None and np.isfinite(spearman):
        title += f"  (Spearman ρ reward~length = {spearman:.2f})"
    ax.set(xlabel="len(chosen) − len(rejected)", ylabel="r(chosen) − r(rejected)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return _png(fig)


def best_of_n_curve(curve: Mapping[str, Sequence[float]]) -> bytes:
    """Utility of the reward model's pick vs oracle and random, and win rate, against n."""
    n = np.asarray(curve["n"], dtype=float)
    fig, (left, right) = _figure(width=8.4, height=3.6, ncols=2)
    for key, colour, style in (("oracle", NEUTRAL, "--"), ("picked", "#4c72b0", "-"), ("random", REJECTED, ":")):
        left.plot(n, curve[key], style, color=colour, marker="o", markersize=4, label=key)
    right.plot(n, curve["win_rate"], "-", color="#4c72b0", marker="o", markersize=4)
    right.axhline(0.5, color=NEUTRAL, linestyle=":", linewidth=1)
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(n, [str(int(v)) for v in n])
        ax.set_xlabel("n (candidates per prompt)")
    left.set(ylabel="mean gold utility", title="Best-of-n utility")
    left.legend(fontsize=8)
    right.set(ylabel="win rate vs a random sample", title="Best-of-n win rate", ylim=(0, 1))
    return _png(fig)


def _pareto_front(cost: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Indices of models no other model beats on both cost (lower) and accuracy (higher), by cost."""
    order = np.lexsort((-acc, cost))
    front, best = [], -np.inf
    for i in order:
        if acc[i] > best:
            front.append(i)
            best = acc[i]
    return np.array(front, dtype=int)


def human_number(value: float) -> str:
    """Compact count: 22000000 → "22M", 1.5e9 → "1.5B", 3.1 → "3.1".

    >>> human_number(1.5e9)
    '1.5B'
    """
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _log_axis(ax: Any, symmetric: bool = False) -> None:
    """Log x axis labelled with plain compact numbers and no crowded minor labels; `symmetric`: linear near 0
    (symlog), for a cost some models do not spend at all."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if symmetric:
        ax.set_xscale("symlog", linthresh=1.0)
    else:
        ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: human_number(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())


def pareto_axes(models: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(cost key, axis label) for each cost that two or more models report."""
    costs = (("parameters", "parameters"), ("ms_per_pair", "ms per pair"),
             ("generated_tokens_per_pair", "generated tokens per pair"))
    return [(key, label) for key, label in costs if sum(m.get(key) is not None for m in models) >= 2
            and (key != "generated_tokens_per_pair" or any(m.get(key) for m in models))]


def pareto(models: Sequence[Mapping[str, Any]]) -> bytes:
    """Accuracy against parameters and against ms/pair, with each Pareto front drawn as a step line."""
    axes_spec = pareto_axes(models)
    if not axes_spec:
        raise ValueError("a Pareto plot needs two or more models with the same cost measured")
    fig, axes = _figure(width=4.2 * len(axes_spec), height=3.8, ncols=len(axes_spec))
    for ax, (key, label) in zip(axes, axes_spec):
        chosen = [m for m in models if m.get(key) is not None]
        cost = np.array([m[key] for m in chosen], dtype=float)
        acc = np.array([m["accuracy"] for m in chosen], dtype=float)
        ax.scatter(cost, acc, color="#4c72b0", zorder=3)
        for m, x, y in zip(chosen, cost, acc):
            ax.annotate(str(m["name"]), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        front = _pareto_front(cost, acc)
        ax.step(cost[front], acc[front], where="post", color=CHOSEN, linewidth=1.2, label="Pareto front")
        _log_axis(ax, symmetric=key == "generated_tokens_per_pair")  # scalar models generate 0 tokens
        ax.margins(x=0.25, y=0.12)
        ax.set(xlabel=f"{label} (log scale)", ylabel="accuracy", title=f"Accuracy vs {label}")
        ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def attribute_contributions(contributions: Mapping[str, Any]) -> bytes:
    """Heatmaps of the mean gate weight and the mean contribution (weight × value) of each attribute (columns)
    overall and per section (rows), each cell labelled with its value."""
    groups = {"overall": contributions["overall"], **contributions.get("sections", {})}
    names = list(contributions["overall"]["attributes"])
    fig, axes = _figure(width=4.0 + 1.6 * len(names), height=1.8 + 0.42 * len(groups), ncols=2)
    for ax, key, title, cmap in ((axes[0], "weight", "mean gate weight", "Blues"),
                                 (axes[1], "contribution", "mean contribution (weight × value)", "RdBu")):
        grid = np.array([[groups[g]["attributes"][n][key] for n in names] for g in groups], dtype=float)
        limit = float(np.abs(grid).max()) or 1.0
        ax.imshow(grid, cmap=cmap, vmin=0.0 if key == "weight" else -limit, vmax=limit, aspect="auto")
        for (row, column), value in np.ndenumerate(grid):
            dark = abs(value) > 0.6 * limit  # the far ends of both colour maps are dark
            ax.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(groups)), list(groups), fontsize=8)
        ax.set_title(title, fontsize=9)
    return _png(fig)
