"""The attribute tables of a multi-objective model's evaluation (evaluation/attributes.py output), as rows shared
by report.html and the terminal: per attribute overall, per section of the suite, and the verbosity decorrelation.
Every number is printed with three decimals."""

from __future__ import annotations

import html
from typing import Any, Mapping

Table = tuple[str, list[str], list[list[str]]]
"""(title, header, rows of cells)."""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _correlation(entry: Mapping[str, Any] | None, key: str) -> str:
    if entry is None:
        return ""
    low, high = entry[f"{key}_ci"]
    return f"{entry[key]:.3f} [{low:.2f}, {high:.2f}]"


def _accuracy(entry: Mapping[str, Any]) -> str:
    return f"{entry['accuracy']:.3f} [{entry['ci_low']:.2f}, {entry['ci_high']:.2f}]"


def overall_table(metrics: Mapping[str, Any]) -> Table:
    """Per attribute: over the suite's pairs (when there are), accuracy alone (CI), mean value, weight,
    contribution and contribution margin; against held-out ratings (when given), Pearson and Spearman (CI). Then
    the gated reward's and the equal-weight mean's accuracy."""
    pairs, ratings = metrics.get("pairs", {}), metrics.get("ratings", {})
    means = pairs.get("contributions", {}).get("overall", {}).get("attributes", {})
    header = ["attribute"]
    header += ["accuracy alone [CI]", "mean value", "mean weight", "mean contribution", "contribution margin"
               ] if pairs else []
    header += ["pearson [CI]", "spearman [CI]"] if ratings else []
    rows = []
    for name in dict.fromkeys([*pairs.get("only", {}), *ratings]):
        row = [name]
        if pairs:
            alone, mean = pairs["only"].get(name), means.get(name, {})
            row += [_accuracy(alone) if alone else ""]
            row += [_number(mean.get(k)) for k in ("value", "weight", "contribution", "margin")]
        if ratings:
            row += [_correlation(ratings.get(name), "pearson"), _correlation(ratings.get(name), "spearman")]
        rows.append(row)
    for label in ("gated", "equal_weight") if pairs else ():
        rows.append([f"({label.replace('_', '-')} reward)", _accuracy(pairs[label])] + [""] * (len(header) - 2))
    return "Attributes", header, rows


def section_table(metrics: Mapping[str, Any]) -> Table:
    """Per section of the suite and attribute: mean value, gate weight, contribution and contribution margin
    (chosen − rejected) over the section's pairs."""
    sections = metrics.get("pairs", {}).get("contributions", {}).get("sections", {})
    header = ["section", "pairs", "attribute", "mean value", "mean weight", "mean contribution",
              "contribution margin"]
    rows = [[section, str(entry["n"]), name, *(_number(a[k]) for k in ("value", "weight", "contribution", "margin"))]
            for section, entry in sections.items() for name, a in entry["attributes"].items()]
    return "Attribute contributions by section", header, rows


def decorrelation_table(metrics: Mapping[str, Any]) -> Table:
    """Per decorrelated attribute: λ, corr(attribute, verbosity) before and after on training's reference set,
    and the correlation measured on this evaluation's responses."""
    header = ["attribute", "λ", "corr before (training)", "corr after (training)", "corr here"]
    rows = [[name, *(_number(entry.get(k)) for k in ("lambda", "corr_before", "corr_after", "corr_here"))]
            for name, entry in metrics.get("decorrelation", {}).items()]
    return "Verbosity decorrelation", header, rows


def attribute_tables(metrics: Mapping[str, Any]) -> list[Table]:
    """The tables that have rows."""
    return [table for table in (overall_table(metrics), section_table(metrics), decorrelation_table(metrics))
            if table[2]]


def steering_note(metrics: Mapping[str, Any]) -> str:
    steering = metrics.get("steering")
    return "" if not steering else f"Gate steered by weights {steering} (evaluated as steered)."


def attributes_html(metrics: Mapping[str, Any]) -> str:
    """The tables as HTML, one <table> each under an <h2> title."""
    parts = [f"<p>{html.escape(steering_note(metrics))}</p>"] if steering_note(metrics) else []
    for title, header, rows in attribute_tables(metrics):
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
        parts.append(f'<h2>{html.escape(title)}</h2><table class="attributes"><tr>{head}</tr>{body}</table>')
    return "\n".join(parts)


def print_attribute_table(metrics: Mapping[str, Any], console) -> None:
    """The same tables in the terminal, with rich."""
    from rich.table import Table as RichTable

    if steering_note(metrics):
        console.print(steering_note(metrics))
    for title, header, rows in attribute_tables(metrics):
        table = RichTable(*header, title=title.lower())
        for row in rows:
            table.add_row(*row)
        console.print(table)
