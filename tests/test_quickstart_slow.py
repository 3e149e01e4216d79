"""The acceptance run: `rewardkit quickstart --fast` on the real MiniLM weights, then the saved model in plain
transformers agrees with `rewardkit score`. Slow (a few minutes on 2 cores). The CLI runs in this process (as
tests/helpers.run_cli does): a fresh interpreter per command only added its torch import and model load.
That the same seed gives the same figures is checked on a tiny model in tests/cli/test_quickstart.py."""

import json
import sys
from pathlib import Path

import pytest
import torch

from rewardkit.cli.app import main
from tests.helpers import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quickstart_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("quickstart")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["rewardkit", "quickstart", "--fast", "--out", str(out)])
        try:
            main()
        except SystemExit as exit_:
            assert not exit_.code, f"quickstart exited with {exit_.code}"
    return out


def test_quickstart_fast_metrics(quickstart_dir):
    metrics = json.loads((quickstart_dir / "metrics.json").read_text())
    for key in ("test_accuracy", "heldout_family_accuracy", "n_train", "n_test", "train_seconds"):
        assert key in metrics
    assert metrics["test_accuracy"] >= 0.90
    assert metrics["n_train"] > 1000 and metrics["n_test"] > 100


def test_plain_transformers_scores_like_rewardkit_score(quickstart_dir, tmp_path, monkeypatch, capsys):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rewardkit.data.chat import render_plain
    from rewardkit.data.schemas import as_conversation

    row = {"prompt": "Tell me about beekeeping.", "chosen": "Beekeeping rewards patience more than talent.",
           "rejected": "I'm sorry, but I can't help with that."}
    source, output = tmp_path / "pair.jsonl", tmp_path / "scored.jsonl"
    source.write_text(json.dumps(row) + "\n")
    model = str(quickstart_dir / "model")
    code, _, err = run_cli(["score", "--model", model, "--input", str(source), "--output", str(output)], monkeypatch,
                           capsys)
    assert code == 0, err
    scored = json.loads(output.read_text())

    tok = AutoTokenizer.from_pretrained(model)
    hf = AutoModelForSequenceClassification.from_pretrained(model).eval()
    prompt = render_plain(as_conversation(row["prompt"]))
    with torch.no_grad():
        chosen = hf(**tok(prompt, row["chosen"], return_tensors="pt")).logits[0, 0].item()
        rejected = hf(**tok(prompt, row["rejected"], return_tensors="pt")).logits[0, 0].item()
    assert chosen == pytest.approx(scored["reward_chosen"], abs=1e-4)
    assert rejected == pytest.approx(scored["reward_rejected"], abs=1e-4)
    assert chosen > rejected  # the trained model prefers the helpful answer
