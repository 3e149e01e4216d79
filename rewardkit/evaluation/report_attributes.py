"""The attribute tables of a multi-objective model's evaluation (evaluation/attributes.py output), as rows shared
by report.html and the terminal: per attribute overall, per section of the suite, and the verbosity decorrelation.
Every number is printed with three decimals."""

from __future__ import annotations

import html
from typing import Any, Mapping

Table = tuple[str, list[str], list[list[str]]]
"""(title, header, rows of cells)."""

MEANS = ("value", "weight", "contribution", "margin")
"""Columns of mean value, gate weight, contribution (weight × value) and contribution margin (chosen − rejected),
named as in attributes.contributions."""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _correlation(entry: Mapping[str, Any] | None, key: str) -> str:
    if entry is None:
        return ""
    low, high = entry[f"{key}_ci"]
    return f"{entry[key]:.3f} [{low:.2f}, {high:.2f}]"


def _accuracy(entry: Mapping[str, Any]) -> str:
    return f"{entry['accuracy']:.3f} [{entry['ci_low']:.2f}, {entry['ci_high']:.2f}]"


def pair_table(metrics: Mapping[str, Any]) -> Table:
    """Per attribute over the suite's pairs: accuracy alone (CI), and the means of its value, gate weight,
    contribution (weight × value) and contribution margin (chosen − rejected); then the accuracy of the gated
    reward and of the equal-weight mean."""
    pairs = metrics.get("pairs", {})
    means = pairs.get("contributions", {}).get("overall", {}).get("attributes", {})
    header = ["attribute", "accuracy alone [CI]", *MEANS]
    rows = [[name, _accuracy(alone), *(_number(means.get(name, {}).get(k)) for k in MEANS)]
            for name, alone in pairs.get("only", {}).items()]
    for label in ("gated", "equal_weight") if pairs else ():
        rows.append([f"({label.replace('_', '-')} reward)", _accuracy(pairs[label])] + [""] * len(MEANS))
    return "Attributes on the pairs (means over both responses; margin: chosen − rejected)", header, rows


def rating_table(metrics: Mapping[str, Any]) -> Table:
    """Per attribute: Pearson and Spearman (CI) of its prediction against the held-out ratings."""
    ratings = metrics.get("ratings", {})
    rows = [[name, _correlation(entry, "pearson"), _correlation(entry, "spearman")] for name, entry in ratings.items()]
    return "Attributes against held-out ratings", ["attribute", "pearson [CI]", "spearman [CI]"], rows


def section_table(metrics: Mapping[str, Any]) -> Table:
    """Per section of the suite and attribute: the means of value, gate weight, contribution and contribution
    margin over the section's pairs."""
    sections = metrics.get("pairs", {}).get("contributions", {}).get("sections", {})
    rows = [[section, str(entry["n"]), name, *(_number(a[k]) for k in MEANS)]
            for section, entry in sections.items() for name, a in entry["attributes"].items()]
    return "Attribute contributions by section", ["section", "pairs", "attribute", *MEANS], rows


def decorrelation_table(metrics: Mapping[str, Any]) -> Table:
    """Per decorrelated attribute: λ, corr(attribute, verbosity) before and after on training's reference set,
    and the correlation measured on this evaluation's responses."""
    header = ["attribute", "λ", "corr before (training)", "corr after (training)", "corr here"]
    rows = [[name, *(_number(entry.get(k)) for k in ("lambda", "corr_before", "corr_after", "corr_here"))]
            for name, entry in metrics.get("decorrelation", {}).items()]
    return "Verbosity decorrelation", header, rows


def attribute_tables(metrics: Mapping[str, Any]) -> list[Table]:
    """The tables that have rows."""
    tables = (pair_table(metrics), section_table(metrics), rating_table(metrics), decorrelation_table(metrics))
    return [table for table in tables if table[2]]


def steering_note(metrics: Mapping[str, Any]) -> str:
    steering = metrics.get("steering")
    return "" if not steering else f"Gate steered by weights {steering} (evaluated as steered)."


def attributes_html(metrics: Mapping[str, Any], model: str | None = None) -> str:
    """The tables as HTML, one <table> each under an <h2> title (naming `model` when given)."""
    parts = [f"<p>{html.escape(steering_note(metrics))}</p>"] if steering_note(metrics) else []
    for title, header, rows in attribute_tables(metrics):
        title = f"{title}: {model}" if model else title
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
        parts.append(f'<h2>{html.escape(title)}</h2><table class="attributes"><tr>{head}</tr>{body}</table>')
    return "\n".join(parts)


def print_attribute_table(metrics: Mapping[str, Any], console, model: str | None = None) -> None:
    """The same tables in the terminal, with rich (titles naming `model` when given)."""
    from rich.table import Table as RichTable

    if steering_note(metrics):
        console.print(steering_note(metrics))
    for title, header, rows in attribute_tables(metrics):
        table = RichTable(*header, title=title.lower() + (f": {model}" if model else ""))
        for row in rows:
            table.add_row(*row)
        console.print(table)
