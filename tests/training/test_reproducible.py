"""Same seed, same model: for every family and objective, two runs with the same seed, data and config give
bit-identical logged losses and saved weights, whatever ran before them in the process; another seed gives
other ones. And a run killed with SIGKILL mid-step, then resumed, ends where an uninterrupted run ends.

Assumes what rewardkit promises no more than: one machine and one thread count (the subprocesses inherit this
process's environment). Across thread counts or kinds of CPU, float reductions may add up in another order:
see README "Reproducibility" for the measured drift."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rewardkit.models.tiny_lm import SIMPLE_CHAT_TEMPLATE, save_tiny_causal_lm
from rewardkit.synth.traces import Trace, write_traces
from rewardkit.families import train_config
from rewardkit.training.loop import train
from rewardkit.families import build_task
from tests.helpers import ForkingLauncher

TOPICS = ["apples", "boats", "clocks", "doors", "eggs", "forks", "gates", "hats"]


def write_rows(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def bare_encoder(folder: Path, tiny_bert: str) -> str:
    """tiny_bert without its classifier (like MiniLM, a plain BertModel): building a reward model on it
    draws a new head."""
    from transformers import AutoTokenizer, BertModel

    BertModel.from_pretrained(tiny_bert).save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def data(tmp_path_factory, tiny_bert):
    root = tmp_path_factory.mktemp("reproducible")
    pairs = [{"prompt": f"Check the {t}.", "chosen": f"the {t} are fine", "rejected": f"the {t} are broken"}
             for t in TOPICS]
    rated = [{"prompt": f"Rate the {t}.", "response": f"{t} " * (i + 1), "helpfulness": i % 5,
              "verbosity": (i * 3) % 5} for i, t in enumerate(TOPICS)]
    traces = [Trace(f"p{i}", f"Check the {t}.", (f"look at {t}", "fine" if i % 2 else "broken"), (1, i % 2),
                    -1 if i % 2 else 1, i % 2, "x") for i, t in enumerate(TOPICS)]
    write_traces(root / "traces.jsonl", traces)
    return {"pairs": write_rows(root / "pairs.jsonl", pairs), "rated": write_rows(root / "rated.jsonl", rated),
            "traces": str(root / "traces.jsonl"), "encoder": bare_encoder(root / "encoder", tiny_bert), "root": root,
            "lm": save_tiny_causal_lm(root / "lm", seed=0, chat_template=SIMPLE_CHAT_TEMPLATE)}


RUNS = {  # family/objective → the keys that differ from the shared ones
    "scalar-bt": lambda d: {"family": "scalar", "objective": "bt", "backbone": d["encoder"], "data": d["pairs"]},
    "scalar-regression": lambda d: {"family": "scalar", "objective": "regression", "backbone": d["lm"],
                                    "data": d["rated"], "attributes": ["helpfulness", "verbosity"]},
    "implicit-dpo-lora": lambda d: {"family": "implicit", "objective": "dpo", "backbone": d["lm"],
                                    "data": d["pairs"], "lora_rank": 2},
    "process-implicit-ce": lambda d: {"family": "process", "objective": "implicit-ce", "backbone": d["lm"],
                                      "data": d["traces"]},
    "process-step-bce": lambda d: {"family": "process", "objective": "step-bce", "backbone": d["lm"],
                                   "data": d["traces"]},
}


def run(data, name: str, seed: int, tag: str) -> tuple[list[float], dict[str, torch.Tensor]]:
    """Train `name` for 4 steps; returns the logged losses and the saved model's tensors."""
    torch.rand(7)  # disturb the global generators: a run must not depend on what ran before it
    config = train_config({**RUNS[name](data), "seed": seed, "max_steps": 4, "batch_size": 2, "max_length": 48,
                           "eval_fraction": 0.25, "eval_every": 1000, "save_every": 1000, "learning_rate": 1e-3})
    out = data["root"] / f"{name}-{seed}-{tag}"
    train(build_task(config), config, out, show_progress=False)
    losses = [json.loads(line)["loss"] for line in (out / "train_log.jsonl").read_text().splitlines()]
    weights = {}
    for file in sorted((out / "model").glob("*.safetensors")):
        weights.update(load_file(str(file)))
    return losses, weights


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


@pytest.mark.parametrize("name", list(RUNS))
def test_same_seed_same_model_and_another_seed_another(data, name):
    losses, weights = run(data, name, seed=0, tag="a")
    again_losses, again_weights = run(data, name, seed=0, tag="b")
    assert losses == again_losses and len(losses) == 4
    assert same(weights, again_weights)
    other_losses, other_weights = run(data, name, seed=1, tag="a")
    assert not same(weights, other_weights) and other_losses != losses


KILLED_RUN = """
import signal

import accelerate  # noqa: F401  imported once, before the runs are forked (rewardkit imports these lazily)
import rewardkit.families.scalar  # noqa: F401
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: F401
from rewardkit.families import train_config
from rewardkit.training.loop import train
from rewardkit.families import build_task


def attempt(backbone, data, out, kill_at):
    config = train_config({"backbone": backbone, "data": data, "max_steps": 8, "save_every": 2,
                           "eval_every": 1000, "batch_size": 2, "max_length": 48, "learning_rate": 1e-3,
                           "eval_fraction": 0.25})
    task = build_task(config)
    loss, calls = task.loss, [0]

    def loss_then_kill(module, batch):
        calls[0] += 1
        value = loss(module, batch)
        if calls[0] == kill_at:  # mid-step: after the forward, before backward and the optimizer
            os.kill(os.getpid(), signal.SIGKILL)
        return value

    task.loss = loss_then_kill
    train(task, config, out, resume=True, show_progress=False)
"""


def test_a_run_killed_mid_step_and_resumed_ends_like_an_uninterrupted_one(data, tmp_path):
    """Each run a process of its own, forked from one interpreter that imported rewardkit (tests/helpers.py)."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    with ForkingLauncher(KILLED_RUN, tmp_path / "runs.log") as launcher:
        def launch(out: Path, kill_at: int) -> int:
            return launcher.run(backbone=data["encoder"], data=data["pairs"], out=str(out), kill_at=kill_at)

        assert launch(straight, kill_at=0) == 0, launcher.stderr()[-3000:]
        assert launch(killed, kill_at=7) == -signal.SIGKILL  # during step 7; the last checkpoint is step 6
        assert json.loads((killed / "checkpoint" / "state.json").read_text())["step"] == 6
        assert not (killed / "model").exists()
        assert launch(killed, kill_at=0) == 0, launcher.stderr()[-3000:]  # resumed
    final = {name: load_file(str(folder / "model" / "model.safetensors")) for name, folder in
             (("straight", straight), ("killed", killed))}
    assert same(final["straight"], final["killed"])
    logs = [(folder / "train_log.jsonl").read_text().splitlines() for folder in (straight, killed)]
    assert [json.loads(line)["step"] for line in logs[1]] == list(range(1, 9))
    assert [json.loads(line)["loss"] for line in logs[0]] == [json.loads(line)["loss"] for line in logs[1]]
