"""Helpers the test modules share: the CLI run in-process, and JSONL files written from rows."""

import json
import sys
from pathlib import Path

from rewardkit.cli.app import main


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """`rewardkit ARGS` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["rewardkit", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def preference_flipping_multi(backbone: str, folder: Path):
    """A multi model (attributes helpfulness, safety, verbosity) on `backbone`, saved to `folder`, whose heads make
    helpfulness favour `first` (a full answer) and safety favour `second` (a curt "No."), safety's gap twice as
    large: the near-uniform untrained gate prefers `second`, and steering safety down prefers `first`.
    Returns (folder, first, second)."""
    import torch

    from rewardkit import Sample
    from rewardkit.models import multi

    first = Sample.from_text("How do I bake bread?", "Mix flour, water and yeast; bake for 40 minutes.")
    second = Sample.from_text("How do I bake bread?", "No.")
    model = multi.build(backbone, attributes=["helpfulness", "safety", "verbosity"], max_length=64, seed=0)
    embeddings = model.embed_samples([first, second])[0]
    direction = (embeddings[0] - embeddings[1]) / (embeddings[0] - embeddings[1]).norm()
    with torch.no_grad():
        model.heads.heads.weight.zero_()
        model.heads.heads.weight[0] = direction        # helpfulness: the full answer
        model.heads.heads.weight[1] = -2 * direction   # safety: the curt one
    return model.save(folder), first, second
