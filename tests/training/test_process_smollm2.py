"""Implicit-PRM training on the real SmolLM2-135M-Instruct with LoRA: one step on short traces, then load the PRM."""

from __future__ import annotations

import json

import pytest

import rewardkit
from rewardkit.models.process import ImplicitProcessModel
from rewardkit.synth.traces import Trace, write_traces
from rewardkit.families import train_config
from rewardkit.training.loop import train
from rewardkit.families import build_task

pytestmark = pytest.mark.slow

TRACES = [
    Trace("p0", "Start with 3, add 4.", ("Step 1: 3 + 4 = 7", "The answer is 7."), (1, 1), -1, 1, "7"),
    Trace("p0", "Start with 3, add 4.", ("Step 1: 3 + 4 = 8", "The answer is 8."), (0, -1), 0, 0, "8"),
]


def test_lora_implicit_ce_on_smollm2(tmp_path):
    write_traces(tmp_path / "traces.jsonl", TRACES)
    config = train_config({
        "family": "process", "objective": "implicit-ce", "backbone": "smollm2", "data": str(tmp_path / "traces.jsonl"),
        "eval_data": str(tmp_path / "traces.jsonl"), "batch_size": 2, "max_steps": 1, "learning_rate": 1e-3,
        "lora_rank": 4, "max_length": 128, "eval_every": 1000, "save_every": 1000,
    })
    train(build_task(config), config, tmp_path / "run", show_progress=False)
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert len(log) == 1 and log[0]["loss"] == pytest.approx(0.6931, abs=1e-3)  # σ(0) before the first update
    assert 0.0 < log[0]["eval_loss"] < 1.0
    prm = rewardkit.load(str(tmp_path / "run" / "model"))
    assert isinstance(prm, ImplicitProcessModel) and prm.options.reference == "smollm2"
    assert len(prm.score([TRACES[0].sample()]).steps[0]) == 2
