"""`rewardkit suite`: write the verifiable suite's pairs to files, so other tools can run rewardkit's benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def suite(
    out: Path = typer.Option(..., "--out", help="Folder: one JSONL per subset, plus suite.json."),
    seed: Optional[int] = typer.Option(None, help="Suite seed (default: the suite's own, 1234)."),
    n: int = typer.Option(100, "--n", help="Pairs per subset."),
) -> None:
    """Write every subset as SECTION/SUBSET.jsonl in TRL's explicit-prompt format (prompt as messages, chosen,
    rejected, subset, id) with each pair's `check`: the rule that proves chosen right and rejected wrong
    (rewardkit.synth.checks). suite.json holds the layout, seed and version."""
    import json

    from rewardkit.atomic import atomic_dir
    from rewardkit.cli.terminal import cli_console
    from rewardkit.synth import suite as verifiable
    from rewardkit.synth.pair import to_jsonl_row

    seed = verifiable.DEFAULT_SEED if seed is None else seed
    pairs = verifiable.build_suite(n, seed)
    with atomic_dir(out) as tmp:
        for section, subsets in verifiable.SECTIONS.items():
            (tmp / section).mkdir()
            for name in subsets:
                rows = [to_jsonl_row(sp) for sp in pairs if sp.family == name]
                text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
                (tmp / section / f"{name}.jsonl").write_text(text, encoding="utf-8")
        layout = {**verifiable.describe(), "seed": seed, "n_per_subset": n, "pairs": len(pairs),
                  "format": "TRL explicit prompt + subset, id and check (rewardkit.synth.pair.to_jsonl_row)"}
        (tmp / "suite.json").write_text(json.dumps(layout, indent=2) + "\n", encoding="utf-8")
    subsets = sum(map(len, verifiable.SECTIONS.values()))
    cli_console(stderr=True).print(f"{len(pairs)} pairs in {subsets} subsets → {out}")
