"""A static, offline HTML report of an evaluation, and a compact terminal table.

`write_report` takes a `ReportMetrics` dict (every key optional) plus raw per-pair arrays, and
writes `report.html` with every figure embedded as a base64 PNG, so the file can be mailed or
opened without a server. A figure whose data are missing is skipped and listed as such.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypedDict

import numpy as np

from rewardkit.atomic import atomic_file


class ReportMetrics(TypedDict, total=False):
    """What a report can show; each key feeds one table row or figure and may be left out."""

    title: str
    """Page heading (default "rewardkit evaluation report")."""
    model: str
    """Name of the evaluated model."""
    accuracy: dict[str, float]
    """Overall pairwise accuracy: `pairwise.accuracy_with_ci` output {"accuracy","ci_low","ci_high","n"}."""
    sections: dict[str, dict[str, float]]
    """Per section or subset, as `pairwise.accuracy_by_subset` returns: the accuracy bar chart."""
    rewardbench: dict[str, float]
    """`rewardbench.rewardbench_v1` or `rewardbench_v2` output (section → score, plus the overall: "Score", or for
    v1 without all four prior sets "Score (excl. prior sets)" / "Score (incomplete prior sets)")."""
    calibration: dict[str, Any]
    """`calibration.calibration_report` output: the reliability diagram."""
    length_bias: dict[str, Any]
    """`length_bias.length_bias_summary` output (needs the arrays below for the scatter)."""
    best_of_n: dict[str, list]
    """`best_of_n.best_of_n_curve` output: the Best-of-N curve."""
    shortcuts: dict[str, Any]
    """`shortcuts.shortcut_battery` output: the shortcut ceiling beside each section's accuracy."""
    models: list[dict[str, Any]]
    """Several models, each {"name", "accuracy", "parameters", "ms_per_pair", "generated_tokens_per_pair", …}
    (comparison.model_row; costs may be None): the accuracy-vs-cost Pareto plot, drawn when two or more models
    have a cost."""
    judge: dict[str, Any]
    """A generative judge's `judge_report()`: unparseable rate, position consistency, ties, backend usage."""
    null_model: dict[str, Any]
    """`null_model.null_model_summary` output: how often a constant structured non-answer wins."""
    attributes: dict[str, Any]
    """A multi-objective model's `attributes.attribute_metrics` output: the attribute tables (report_attributes.py)
    and the heatmap of mean gate weights and contributions by section."""
    attributes_by_model: dict[str, Any]
    """With several models: each later model's `attributes` (its tables, after the first model's)."""


REPORT_ARRAYS: dict[str, str] = {
    "chosen_rewards": "reward of each pair's chosen response",
    "rejected_rewards": "reward of each pair's rejected response",
    "chosen_lengths": "length of each chosen response (tokens or characters)",
    "rejected_lengths": "length of each rejected response, same unit",
}
"""Keys accepted in `extra_arrays`, all aligned by pair."""


def _validate(metrics: Mapping[str, Any], arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
    unknown = sorted(set(metrics) - set(ReportMetrics.__annotations__))
    if unknown:
        raise ValueError(f"unknown report metrics {unknown}; known: {sorted(ReportMetrics.__annotations__)}")
    unknown = sorted(set(arrays) - set(REPORT_ARRAYS))
    if unknown:
        raise ValueError(f"unknown extra_arrays {unknown}; known: {sorted(REPORT_ARRAYS)}")
    out = {key: np.asarray(value, dtype=float).ravel() for key, value in arrays.items()}
    sizes = {key: value.size for key, value in out.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"extra_arrays must be aligned by pair, got sizes {sizes}")
    return out


def _figures(metrics: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> list[tuple[str, bytes | str]]:
    """(caption, PNG bytes) for each figure whose data are present, else (caption, what is missing)."""
    from rewardkit.evaluation import report_plots as plots

    rewards = "chosen_rewards" in arrays and "rejected_rewards" in arrays
    lengths = rewards and "chosen_lengths" in arrays and "rejected_lengths" in arrays
    margins = arrays["chosen_rewards"] - arrays["rejected_rewards"] if rewards else None
    costed = bool(plots.pareto_axes(metrics.get("models", [])))
    spearman = metrics.get("length_bias", {}).get("spearman")
    contributions = metrics.get("attributes", {}).get("pairs", {}).get("contributions")
    jobs: list[tuple[str, bool, str, Callable[[], bytes]]] = [
        ("Accuracy by section", bool(metrics.get("sections")), "needs metrics['sections']",
         lambda: plots.section_accuracy(metrics["sections"])),
        ("Reward distributions", rewards, "needs chosen_rewards and rejected_rewards arrays",
         lambda: plots.reward_distributions(arrays["chosen_rewards"], arrays["rejected_rewards"])),
        ("Calibration", bool(metrics.get("calibration")), "needs metrics['calibration']",
         lambda: plots.reliability(metrics["calibration"])),
        ("Length bias", lengths, "needs reward and length arrays",
         lambda: plots.length_scatter(margins, arrays["chosen_lengths"] - arrays["rejected_lengths"], spearman)),
        ("Best-of-N", bool(metrics.get("best_of_n")), "needs metrics['best_of_n']",
         lambda: plots.best_of_n_curve(metrics["best_of_n"])),
        ("Accuracy vs cost", costed, "needs two or more models with the same cost measured",
         lambda: plots.pareto(metrics["models"])),
        ("Attribute weights and contributions by section", bool(contributions), "needs a multi-objective model",
         lambda: plots.attribute_contributions(contributions)),
    ]  # fmt: skip
    return [(caption, render() if ready else missing) for caption, ready, missing, render in jobs]


def _with_ci(a: Mapping[str, Any]) -> str:
    return f"{a['accuracy']:.3f} [{a['ci_low']:.3f}, {a['ci_high']:.3f}] (n={a['n']})"


def _shortcut(ceiling: Mapping[str, Any] | None) -> str:
    """' · shortcut ceiling 0.98 (words shorter)': the best surface baseline there (evaluation/shortcuts.py)."""
    return "" if not ceiling else f" · shortcut ceiling {ceiling['accuracy']:.2f} ({ceiling['baseline']})"


def _length_rows(lb: Mapping[str, Any]) -> list[tuple[str, str]]:
    base = lb["baseline"]
    rows = [("Length-only baseline (longer wins)", f"{base['longer_is_better']:.3f} (data favour {base['direction']})")]
    for group, g in lb.get("by_length_order", {}).items():
        value = "—" if g["accuracy"] is None else f"{g['accuracy']:.3f}"
        rows.append((f"  accuracy, {group.replace('_', ' ')}", f"{value} (n={g['n']})"))
    return rows + [("Spearman ρ(reward, length)", f"{lb['spearman']:.3f}")]


def summary_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows shared by the HTML summary table and `print_table`."""
    ceiling = metrics.get("shortcuts", {}).get("ceiling", {})
    rows = [("Pairwise accuracy", _with_ci(metrics["accuracy"]) + _shortcut(ceiling.get("overall")))
            ] if "accuracy" in metrics else []
    rows += [(f"  {name}", _with_ci(s) + _shortcut(ceiling.get("sections", ceiling.get("subsets", {})).get(name)))
             for name, s in metrics.get("sections", {}).items()]
    rows += [(f"RewardBench {name}", f"{v:.3f}") for name, v in metrics.get("rewardbench", {}).items()]
    if "calibration" in metrics:
        before, after, t = (metrics["calibration"][k] for k in ("before", "after", "temperature"))
        rows.append(("ECE (T=1 → fitted)", f"{before['ece']:.3f} → {after['ece']:.3f} (T={t:.2f})"))
        rows.append(("Brier (T=1 → fitted)", f"{before['brier']:.3f} → {after['brier']:.3f}"))
    if "length_bias" in metrics:
        rows += _length_rows(metrics["length_bias"])
    rows += _judge_rows(metrics)
    if "best_of_n" in metrics:
        b = {key: values[-1] for key, values in metrics["best_of_n"].items()}
        rows.append((f"Best-of-{b['n']} picked / oracle / random",
                     f"{b['picked']:.3f} / {b['oracle']:.3f} / {b['random']:.3f}"))
        rows.append((f"Best-of-{b['n']} regret, win rate", f"{b['regret']:.3f}, {b['win_rate']:.3f}"))
    return rows


def _judge_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A judge's parsing, consistency and cost rows, and the null-model win rate (any model)."""
    rows = []
    judge = metrics.get("judge")
    if judge:
        rows.append(("Judge unparseable rate", f"{judge['unparseable_rate']:.3f} ({judge['unparseable_outputs']} of "
                     f"{judge['outputs']} outputs; {judge['unparseable_pairs']} pairs counted wrong, not as ties)"))
        if "position_consistency" in judge:
            rows.append(("Judge position consistency (A/B swap)", f"{judge['position_consistency']:.3f}"))
        rows.append(("Judge ties (count as wrong)", f"{judge['tie_rate']:.3f}"))
        usage, pairs = judge["usage"], max(judge["pairs"], 1)
        rows.append(("Judge cost per pair", f"{usage['generated_tokens'] / pairs:.1f} generated tokens, "
                     f"{usage['seconds'] / pairs:.2f} s ({judge['backend']}: {judge['generator']})"))
    null = metrics.get("null_model")
    if null:
        rows.append(("Null-model win rate (constant non-answer)", f"{null['win_rate']:.3f} (n={null['n']}, ties "
                     f"{null['tie_rate']:.3f}, unparseable {null['unparseable']})"))
    return rows


def _html(metrics: Mapping[str, Any], figures: list[tuple[str, bytes | str]]) -> str:
    title = html.escape(metrics.get("title", "rewardkit evaluation report"))
    parts = [f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>', _STYLE, "</head><body>"]
    parts.append(f"<h1>{title}</h1>")
    if "model" in metrics:
        parts.append(f"<p>Model: <code>{html.escape(str(metrics['model']))}</code></p>")
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary_rows(metrics))
    if rows:
        parts.append(f"<h2>Summary</h2><table>{rows}</table>")
    if metrics.get("models"):
        header, *lines = models_table(metrics["models"])
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in line) + "</tr>" for line in lines)
        parts.append(f"<h2>Models</h2><table><tr>{cells}</tr>{body}</table>")
    later = metrics.get("attributes_by_model") or {}
    if metrics.get("attributes") or later:
        from rewardkit.evaluation.report_attributes import attributes_html

        if metrics.get("attributes"):
            parts.append(attributes_html(metrics["attributes"], metrics.get("model") if later else None))
        parts.extend(attributes_html(attributes, name) for name, attributes in later.items())
    skipped = [f"{html.escape(caption)} ({html.escape(png)})" for caption, png in figures if isinstance(png, str)]
    for caption, png in figures:
        if isinstance(png, bytes):
            data = base64.b64encode(png).decode("ascii")
            parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")  # fmt: skip
    if skipped:
        parts.append('<p class="skipped">Not shown: ' + "; ".join(skipped) + ".</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


_STYLE = """<style>
body { font-family: system-ui, sans-serif; max-width: 960px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { text-align: left; padding: 3px 12px; border-bottom: 1px solid #ddd; font-weight: normal; }
table.attributes th { font-weight: bold; }
td { font-family: ui-monospace, monospace; }
figure { margin: 1.5em 0; } img { max-width: 100%; } figcaption { color: #666; font-size: 0.9em; }
.skipped { color: #888; font-size: 0.9em; }
</style>"""


def write_report(
    metrics: ReportMetrics | Mapping[str, Any],
    out_dir: str | os.PathLike,
    extra_arrays: Mapping[str, Sequence[float]] | None = None,
) -> Path:
    """Render every figure the inputs allow and write `out_dir/report.html` atomically.

    All figures are rendered before anything touches the disk, so a failing plot leaves no file.
    Returns the path of the report.
    """
    arrays = _validate(metrics, extra_arrays or {})
    figures = _figures(metrics, arrays)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    with atomic_file(path) as handle:
        handle.write(_html(metrics, figures))
    return path


def print_table(metrics: ReportMetrics | Mapping[str, Any], console: Any = None) -> None:
    """Print the summary rows (and a models table when several are given) with `rich`."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(markup=False)  # subset and model names are the user's text
    table = Table(title=metrics.get("model") or metrics.get("title"), show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="left")
    for label, value in summary_rows(metrics):
        table.add_row(label, value)
    console.print(table)
    if metrics.get("models"):
        header, *lines = models_table(metrics["models"])
        models = Table(*header)
        for line in lines:
            models.add_row(*line)
        console.print(models)


def models_table(models: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """The header and one line per model (comparison.model_row) of the models table: accuracy with its CI,
    costs, null-model win rate, and a judge's unparseable rate and position consistency ("—" where unmeasured).

    >>> models_table([{"name": "rm", "accuracy": 0.8, "ci_low": 0.7, "ci_high": 0.9}])[1][:2]
    ['rm', '0.800 [0.700, 0.900]']
    """
    header = ["model", "accuracy [95% CI]", "params", "ms/pair", "gen. tok/pair", "null wins", "unparseable",
              "A/B consistent"]
    lines = [[str(m["name"]), _accuracy(m), _number(m.get("parameters")), _number(m.get("ms_per_pair")),
              _number(m.get("generated_tokens_per_pair")), _rate(m.get("null_model_win_rate")),
              _rate(m.get("unparseable_rate")), _rate(m.get("position_consistency"))] for m in models]
    return [header, *lines]


def _accuracy(row: Mapping[str, Any]) -> str:
    if row.get("accuracy") is None:
        return "—"
    ci = f" [{row['ci_low']:.3f}, {row['ci_high']:.3f}]" if row.get("ci_low") is not None else ""
    return f"{row['accuracy']:.3f}{ci}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _number(value: float | None) -> str:
    from rewardkit.evaluation.report_plots import human_number

    return "—" if value is None else human_number(value)
