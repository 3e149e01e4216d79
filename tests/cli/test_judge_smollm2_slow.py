"""Slow: judges on the shipped SmolLM2-135M-Instruct.

- `transformers serve` (the OpenAI-compatible server in transformers 5.x; it runs offline on a local folder) is
  started on loopback with the SmolLM2 folder; `rewardkit eval --model judge:pairwise --suite verifiable`
  runs through it (`--backend openai --base-url …`) and in process (`--backend transformers`) on two sections of
  the suite at one pair per subset: at temperature 0 the generated texts and verdicts of every pair, and of the
  null-model section, agree. (All five sections at --n 1 are 25 pairs plus 25 null-model pairs, 100 generations
  per backend: 6-7 minutes each on shared CPUs; run once by hand, all 25 texts agreed too.)
- `rewardkit train --kind judge --objective cloud` trains a Critique-out-Loud head on SmolLM2 with a tiny
  critique set; the reward of the trained model moves the labelled way.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import dies_with_this_process, run_cli as run, write_jsonl

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
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    # one intra-op thread: see one_torch_thread
    process = subprocess.Popen([str(command), "serve", "--host", "127.0.0.1", "--port", str(port), smollm2],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                               preexec_fn=dies_with_this_process())
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


@pytest.fixture
def one_torch_thread():
    """Greedy generation here with one intra-op thread: on 2 CPUs shared with other jobs, two spinning threads
    made SmolLM2 about 10x slower (35 s against 3 s for 8 tokens, measured), and the server has its own core."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


SECTIONS = "reasoning,safety"
"""5 subsets at --n 1: 5 pairs plus the 5-pair null-model section, 20 generations per backend."""


def test_pairwise_judge_gives_the_same_verdicts_on_the_verifiable_suite_through_both_backends(
        served, smollm2, one_torch_thread, tmp_path, monkeypatch, capsys):
    common = ["--model", "judge:pairwise", "--suite", "verifiable", "--n", "1", "--sections", SECTIONS,
              "--judge-option", "max_tokens=8", "--judge-option", "concurrency=1", "--judge-option", "timeout=300"]
    code, http_out, err = run(["eval", *common, "--backend", "openai", "--base-url", served, "--out",
                               str(tmp_path / "http")], monkeypatch, capsys)
    assert code == 0, err
    code, local_out, err = run(["eval", *common, "--backend", "transformers", "--policy", smollm2, "--out",
                                str(tmp_path / "local")], monkeypatch, capsys)
    assert code == 0, err
    http, local = judgements(tmp_path / "http"), judgements(tmp_path / "local")
    assert len(http) == 5 and [j["id"] for j in http] == [j["id"] for j in local]
    assert [(j["margin"], j["unparseable"]) for j in http] == [(j["margin"], j["unparseable"]) for j in local]
    # SmolLM2 mostly answers "A" whichever response is better, so the verdicts alone would prove little: the texts
    # agree too
    assert [j["text"] for j in http] == [j["text"] for j in local]
    metrics = {name: json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("http", "local")}
    for key in ("win_rate", "tie_rate", "unparseable"):  # the null-model section's verdicts agree too
        assert metrics["http"]["null_model"][key] == metrics["local"]["null_model"][key]
    judge = metrics["http"]["judge"]
    assert judge["backend"] == "openai" and metrics["local"]["judge"]["backend"] == "transformers"
    assert judge["outputs"] == 10 and judge["unparseable_rate"] == metrics["local"]["judge"]["unparseable_rate"]
    assert judge["unparseable_pairs"] == sum(j["unparseable"] for j in http)
    assert metrics["http"]["generated_tokens_per_pair"] > 0
    for printed in (http_out, local_out):  # the eval output states the rate
        assert re.search(rf"Judge unparseable rate\s+{judge['unparseable_rate']:.3f} \(", printed)


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
