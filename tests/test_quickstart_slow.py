"""The acceptance run: `rewardkit quickstart --fast` on the real MiniLM weights, then the saved model in plain
transformers agrees with `rewardkit score`. Slow (a few minutes on 2 cores)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quickstart_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("quickstart")
    cli = [sys.executable, "-c", "from rewardkit.cli.app import main; main()"]
    done = subprocess.run([*cli, "quickstart", "--fast", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_quickstart_fast_metrics(quickstart_dir):
    metrics = json.loads((quickstart_dir / "metrics.json").read_text())
    for key in ("test_accuracy", "heldout_family_accuracy", "n_train", "n_test", "train_seconds"):
        assert key in metrics
    assert metrics["test_accuracy"] >= 0.90
    assert metrics["n_train"] > 1000 and metrics["n_test"] > 100


def test_plain_transformers_scores_like_rewardkit_score(quickstart_dir, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rewardkit.data.chat import render_plain
    from rewardkit.data.schemas import as_conversation

    row = {"prompt": "Tell me about beekeeping.", "chosen": "Beekeeping rewards patience more than talent.",
           "rejected": "I'm sorry, but I can't help with that."}
    source, output = tmp_path / "pair.jsonl", tmp_path / "scored.jsonl"
    source.write_text(json.dumps(row) + "\n")
    model = str(quickstart_dir / "model")
    cli = [sys.executable, "-c", "from rewardkit.cli.app import main; main()"]
    subprocess.run([*cli, "score", "--model", model, "--input", str(source), "--output", str(output)], check=True)
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


def test_quickstart_with_the_same_seed_gives_the_same_figures(tmp_path):
    from rewardkit.cli.quickstart import QuickstartPlan, run_quickstart

    plan = QuickstartPlan(n_pairs=200, steps=3, batch_size=8, max_length=64)
    timing = ("train_seconds", "total_seconds")
    first, again = ({k: v for k, v in run_quickstart(tmp_path / name, plan, seed=3, show_progress=False).items()
                     if k not in timing} for name in ("a", "b"))
    assert first == again  # accuracies, per-family figures, CIs, counts
    assert (tmp_path / "a" / "train_log.jsonl").read_text() == (tmp_path / "b" / "train_log.jsonl").read_text()
