"""Readable terminal summaries of quickstart / training metrics, and the rows a run skipped."""

from __future__ import annotations

from pathlib import Path


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def summary_table(metrics: dict):
    """A rich Table: accuracy (95% CI) and length-only baseline per family, test and held-out families."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Pairwise accuracy (ties count as wrong)")
    for column in ("split", "family", "n", "accuracy", "95% CI", "longer wins"):
        table.add_column(column, justify="left" if column in ("split", "family") else "right")
    for split, label in (("test", "test"), ("heldout", "held-out")):
        report = metrics[split]
        for family, row in report["per_family"].items():
            table.add_row(label, family, str(row["n"]), _pct(row["accuracy"]),
                          f"{_pct(row['ci_low'])}–{_pct(row['ci_high'])}", "")
            label = ""
        baseline = report["length_baseline"]
        table.add_row("", Text("all", style="bold"), str(report["n"]), Text(_pct(report["accuracy"]), style="bold"),
                      f"{_pct(report['ci_low'])}–{_pct(report['ci_high'])}",
                      _pct(baseline["longer_is_better"]), end_section=True)
    table.caption = (f"{metrics['n_train']} training pairs, {metrics['steps']} steps, "
                     f"{metrics['train_seconds']:.0f}s training. 'test': new pairs of the training families; "
                     "'held-out': families never trained on; 'longer wins': the length-only baseline")
    return table


def write_skipped_rows(out: Path, bad_rows, console) -> None:
    """OUT/skipped_rows.jsonl: each row skipped under on_bad_rows=skip, with file, line and reason."""
    if not bad_rows:
        return
    from rewardkit.data.jsonl import write_bad_rows

    path = write_bad_rows(out / "skipped_rows.jsonl", bad_rows)
    console.print(f"{len(bad_rows)} broken rows skipped (on_bad_rows=skip), each with its reason → {path}")
