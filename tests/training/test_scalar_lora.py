"""LoRA training of a decoder scalar reward model (lora_rank): the packed forward runs with adapters, only the
adapters and the head move, and the saved folder is a plain sequence classifier scoring like the trained model."""

from __future__ import annotations

import json

import pytest
import torch

from rewardkit.families import build_task, train_config
from rewardkit.models import scalar
from rewardkit.training.loop import train

peft = pytest.importorskip("peft")

ROWS = [{"prompt": f"question {i}?", "chosen": f"a helpful answer number {i}", "rejected": f"no {i}"}
        for i in range(8)]


@pytest.fixture
def task(tiny_llama, tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    config = train_config({"backbone": tiny_llama, "data": str(data), "eval_fraction": 0.0, "lora_rank": 4,
                           "lora_alpha": 8.0, "max_steps": 6, "batch_size": 4, "learning_rate": 1e-2,
                           "warmup_ratio": 0.0, "eval_every": 100, "save_every": 100, "max_length": 64})
    return build_task(config), config


def test_only_adapters_and_head_train_through_the_packed_forward(task, tmp_path):
    task, config = task
    network = task.model.network
    trainable = {name for name, p in network.named_parameters() if p.requires_grad}
    assert task.model.scorer.packed_decoder
    assert any(name.startswith("score.") for name in trainable)
    assert all("lora_" in name or name.startswith("score.") for name in trainable)
    before = {name.replace(".base_layer", ""): p.detach().clone() for name, p in network.named_parameters()
              if "lora_" not in name}
    train(task, config, tmp_path / "run", show_progress=False)
    after = dict(network.named_parameters())  # finish() folded the adapters in: plain names again
    assert set(after) == set(before)
    moved = {name for name in before if not torch.equal(before[name], after[name])}
    adapted = {name for name in before if name.endswith("proj.weight")}
    assert "score.weight" in moved and adapted <= moved  # every adapted projection got its (merged) update
    assert moved <= adapted | {"score.weight"}  # embeddings and norms never moved


def test_the_saved_folder_is_a_plain_classifier_scoring_like_the_trained_model(task, tmp_path):
    from safetensors.torch import load_file

    from rewardkit import Sample

    task, config = task
    train(task, config, tmp_path / "run", show_progress=False)
    saved = tmp_path / "run" / "model"

    keys = load_file(str(saved / "model.safetensors")).keys()
    assert not any("lora_" in key or "base_layer" in key for key in keys)
    samples = [Sample.from_text(row["prompt"], row["chosen"]) for row in ROWS]
    expected = task.model.score(samples).rewards
    assert scalar.load(str(saved)).score(samples).rewards == pytest.approx(expected, abs=1e-5)
