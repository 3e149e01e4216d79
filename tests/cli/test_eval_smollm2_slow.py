"""`rewardkit eval --model implicit:dpo` on the shipped SmolLM2 through the CLI (slow: real weights), on a few
pairs: the verifiable suite through the same command is tests/cli/test_eval.py::
test_implicit_dpo_spec_over_tiny_causal_lms (tiny causal LMs); what needs the real model here is the 'smollm2'
name, its chat template and its exact ties."""

import json
import sys

import pytest

from rewardkit.cli.app import main

pytestmark = pytest.mark.slow


def test_eval_implicit_dpo_with_the_default_model(tmp_path, monkeypatch, capsys):
    out = tmp_path / "dpo"
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(row) + "\n" for row in [
        {"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "5", "subset": "math"},
        {"prompt": "What is the capital of France?", "chosen": "Paris.", "rejected": "Berlin.", "subset": "facts"},
        {"prompt": "Say hello.", "chosen": "Hello!", "rejected": "Goodbye.", "subset": "chat"}]))
    monkeypatch.setattr(sys, "argv", ["rewardkit", "eval", "--model", "implicit:dpo", "--policy", "smollm2",
                                      "--reference", "smollm2", "--suite", str(pairs), "--out", str(out)])
    try:
        main()
    except SystemExit as exit_:
        assert exit_.code in (0, None), capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"]["n"] == 3
    # policy == reference: every DPO reward is exactly 0, a tie, and ties count as wrong
    assert metrics["accuracy"]["accuracy"] == 0.0
    assert (out / "report.html").stat().st_size > 10_000
