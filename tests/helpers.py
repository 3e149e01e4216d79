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
