"""Slow: judges on the shipped SmolLM2-135M-Instruct.

- `transformers serve` (the OpenAI-compatible server in transformers 5.x; it runs offline on a local folder) is
  started on loopback with the SmolLM2 folder; `rewardkit eval --model judge:pairwise --backend openai
  --base-url …` runs through it on a few short pairs, and `--backend transformers` runs the same pairs in
  process: at temperature 0 the verdicts of every pair agree. (The verifiable suite at --n 1 is 50 pairs with the
  null-model section, 100 generations: over 7 minutes through a one-request-at-a-time server on shared CPUs.)
- `rewardkit train --kind judge --objective cloud` trains a Critique-out-Loud head on SmolLM2 with a tiny
  critique set; the reward of the trained model moves the labelled way.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import run_cli as run, write_jsonl

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def smollm2():
    from rewardkit.models.causal_lm import smollm2_path

    try:
        return smollm2_path()
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"SmolLM2 is not available here: {err}")


@pytest.fixture(scope="module")
def served(smollm2):
    """Base URL of `transformers serve` holding the SmolLM2 folder."""
    command = Path(sys.executable).parent / "transformers"
    if not command.exists():
        pytest.skip("the transformers CLI is not installed next to this interpreter")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen([str(command), "serve", "--host", "127.0.0.1", "--port", str(port), smollm2],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    pytest.fail(f"transformers serve did not start: {process.stderr.read().decode()[-2000:]}")
                time.sleep(1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def judgements(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "judgements.jsonl").read_text().splitlines()]


def test_pairwise_judge_gives_the_same_verdicts_through_both_backends(served, smollm2, tmp_path, monkeypatch,
                                                                      capsys):
    # a few short pairs: transformers serve answers one request at a time on 2 shared CPU cores
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [
        {"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "5", "subset": "math"},
        {"prompt": "What is the capital of France?", "chosen": "Paris.", "rejected": "Berlin.", "subset": "facts"},
        {"prompt": "Say hello.", "chosen": "Hello!", "rejected": "Goodbye.", "subset": "chat"}])
    common = ["--model", "judge:pairwise", "--suite", str(pairs), "--judge-option", "max_tokens=8",
              "--judge-option", "concurrency=1", "--judge-option", "timeout=300"]
    code, _, err = run(["eval", *common, "--backend", "openai", "--base-url", served, "--out",
                        str(tmp_path / "http")], monkeypatch, capsys)
    assert code == 0, err
    code, _, err = run(["eval", *common, "--backend", "transformers", "--policy", smollm2, "--out",
                        str(tmp_path / "local")], monkeypatch, capsys)
    assert code == 0, err
    http, local = judgements(tmp_path / "http"), judgements(tmp_path / "local")
    assert [j["margin"] for j in http] == [j["margin"] for j in local]
    assert [j["unparseable"] for j in http] == [j["unparseable"] for j in local]
    metrics = json.loads((tmp_path / "http" / "metrics.json").read_text())
    assert metrics["judge"]["backend"] == "openai" and metrics["generated_tokens_per_pair"] > 0
    assert 0 <= metrics["judge"]["unparseable_rate"] <= 1 and "win_rate" in metrics["null_model"]


ROWS = [{"prompt": f"What is {a} + {b}?", "chosen": f"{a} + {b} = {a + b}.", "rejected": f"{a} + {b} = {a + b + 3}.",
         "chosen_critique": "The sum is correct.", "rejected_critique": f"Wrong: the sum is {a + b}, not {a + b + 3}."}
        for a, b in [(2, 3), (4, 1), (6, 2), (3, 3), (5, 4), (7, 1), (2, 8), (9, 3)]]


def test_cloud_on_smollm2_moves_the_reward_the_labelled_way(smollm2, tmp_path, monkeypatch, capsys):
    from rewardkit import families, load
    from rewardkit.data.schemas import PreferencePair, as_conversation

    def margin(model) -> float:
        pairs = [PreferencePair(as_conversation(r["prompt"]), r["chosen"], r["rejected"]) for r in ROWS]
        items = [model.encode(s, c) for p, r in zip(pairs, ROWS)
                 for s, c in zip(p.samples(), (r["chosen_critique"], r["rejected_critique"]))]
        rewards = model.rewards_for(items)
        return sum(rewards[0::2]) / len(ROWS) - sum(rewards[1::2]) / len(ROWS)

    before = margin(families.build("judge:cloud", policy=smollm2))
    data = write_jsonl(tmp_path / "critiques.jsonl", ROWS)
    code, _, err = run(["train", "--kind", "judge", "--objective", "cloud", "--data", str(data), "--backbone",
                        smollm2, "--out", str(tmp_path / "cloud"), "max_steps=4", "batch_size=4", "eval_fraction=0",
                        "learning_rate=0.0001", "head_learning_rate=0.001", "max_length=160"], monkeypatch, capsys)
    assert code == 0, err
    trained = load(str(tmp_path / "cloud" / "model"))
    assert margin(trained) > before + 0.1
