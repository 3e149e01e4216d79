"""Implicit-PRM training from outcome labels (CE and DPO), the explicit step head, LoRA, and the losses."""

from __future__ import annotations

import json

import pytest
import torch

import rewardkit
from rewardkit.errors import ConfigError
from rewardkit.evaluation.process import evaluate_process
from rewardkit.models.process import ImplicitProcessModel
from rewardkit.models.process import StepHeadModel
from rewardkit.models.tiny_lm import save_tiny_causal_lm
from rewardkit.synth.traces import Trace, write_traces
from rewardkit.training import losses
from rewardkit.families import train_config
from rewardkit.training.loop import train
from rewardkit.families import build_task
from rewardkit.training.process_tasks import pair_indices

TOPICS = ["apples", "boats", "clocks", "doors", "eggs", "forks", "gates", "hats"]


def toy_traces() -> list[Trace]:
    """Trivially separable: right traces say "fine", wrong ones say "broken" at their second step."""
    traces = []
    for i, topic in enumerate(TOPICS):
        prompt = f"Check the {topic}."
        traces.append(Trace(f"p{i}", prompt, (f"look at {topic}", "all fine"), (1, 1), -1, 1, "fine"))
        traces.append(Trace(f"p{i}", prompt, (f"look at {topic}", "broken broken"), (1, 0), 1, 0, "broken"))
    return traces


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("process_training")
    write_traces(root / "toy.jsonl", toy_traces())
    return {"backbone": save_tiny_causal_lm(root / "lm", seed=0), "data": str(root / "toy.jsonl")}


def config_for(setup, **values):
    base = {"family": "process", "backbone": setup["backbone"], "data": setup["data"], "eval_data": setup["data"],
            "batch_size": 8, "learning_rate": 0.02, "warmup_ratio": 0.0, "weight_decay": 0.0, "max_steps": 12,
            "eval_every": 1000, "save_every": 1000, "max_length": 64}
    if values.get("objective") != "step-bce":  # β is an option of the implicit objectives only
        base["beta"] = 0.5
    return train_config({**base, **values})


def losses_of(out_dir) -> list[float]:
    return [json.loads(line)["loss"] for line in (out_dir / "train_log.jsonl").read_text().splitlines()]


def test_losses_by_hand():
    # −[1·log σ(0.5·2)] = log(1 + e^−1) and −[log(1 − σ(0.5·2))] = log(1 + e^1)
    ce = losses.implicit_outcome_ce(torch.tensor([2.0, 2.0]), torch.tensor([1.0, 0.0]), beta=0.5)
    assert ce.item() == pytest.approx((torch.log1p(torch.exp(torch.tensor(-1.0))) +
                                       torch.log1p(torch.exp(torch.tensor(1.0)))).item() / 2, abs=1e-6)
    dpo = losses.implicit_dpo(torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 4.0]), beta=0.25)
    expected = (torch.log1p(torch.exp(torch.tensor(-0.5))) + torch.log1p(torch.exp(torch.tensor(1.0)))) / 2
    assert dpo.item() == pytest.approx(expected.item(), abs=1e-6)
    bce = losses.masked_step_bce(torch.tensor([[0.0, 2.0, 9.0]]), torch.tensor([[0.0, 1.0, -1.0]]))
    assert bce.item() == pytest.approx((0.6931472 + torch.log1p(torch.exp(torch.tensor(-2.0))).item()) / 2, abs=1e-6)
    assert losses.masked_step_bce(torch.ones(1, 2), -torch.ones(1, 2)).item() == 0.0


def test_implicit_ce_learns_outcomes_and_saves_a_loadable_prm(setup, tmp_path):
    config = config_for(setup, objective="implicit-ce")
    result = train(build_task(config), config, tmp_path, show_progress=False)
    history = losses_of(tmp_path)
    assert history[-1] < 0.5 * history[0]
    assert result.last_eval["eval_outcome_accuracy"] == 1.0
    model = rewardkit.load(str(tmp_path / "model"))
    assert isinstance(model, ImplicitProcessModel) and model.options.reference == setup["backbone"]
    traces = toy_traces()
    scores = model.score([t.sample() for t in traces])
    right = [r for r, t in zip(scores.rewards, traces) if t.outcome]
    wrong = [r for r, t in zip(scores.rewards, traces) if not t.outcome]
    assert min(right) > max(wrong)
    assert all(len(s) == 2 for s in scores.steps)
    # outcome labels only, yet the wrong second step gets the lower step reward
    assert all(s[1] < 0 for s, t in zip(scores.steps, traces) if not t.outcome)
    report = evaluate_process(model, traces, ns=[1, 2])
    assert report["best_of_n"]["process_min"] == pytest.approx([0.5, 1.0])
    assert 0.0 <= report["first_error"]["f1"] <= 1.0


def test_implicit_dpo_on_pairs_lowers_the_loss(setup, tmp_path):
    config = config_for(setup, objective="implicit-dpo", batch_size=4, max_steps=8)
    task = build_task(config)
    assert len(task.examples) == len(TOPICS)
    train(task, config, tmp_path, show_progress=False)
    history = losses_of(tmp_path)
    assert sum(history[-3:]) < 0.5 * sum(history[:3])


def test_lora_training_merges_into_a_plain_policy(setup, tmp_path):
    config = config_for(setup, objective="implicit-ce", lora_rank=4, lora_alpha=8.0, max_steps=3)
    task = build_task(config)
    trainable = sum(p.numel() for p in task.module.parameters() if p.requires_grad)
    assert trainable < 0.1 * sum(p.numel() for p in task.module.parameters())
    train(task, config, tmp_path, show_progress=False)
    assert not list((tmp_path / "model").glob("adapter_*"))
    assert isinstance(rewardkit.load(str(tmp_path / "model")), ImplicitProcessModel)


def test_explicit_step_head_learns_step_labels(setup, tmp_path):
    config = config_for(setup, objective="step-bce", learning_rate=0.01, max_steps=12)
    result = train(build_task(config), config, tmp_path, show_progress=False)
    history = losses_of(tmp_path)
    assert history[-1] < 0.5 * history[0]
    assert result.last_eval["eval_step_accuracy"] == 1.0
    model = rewardkit.load(str(tmp_path / "model"))
    assert isinstance(model, StepHeadModel)


def test_synthetic_traces_when_no_data_and_bad_objective(setup, tmp_path):
    config = config_for(setup, objective="implicit-ce", data="", eval_data="", synthetic_traces=12,
                        eval_fraction=0.34, max_steps=1)
    task = build_task(config)
    assert len(task.train) + len(task.evaluation) == 12 and len(task.evaluation)
    train(task, config, tmp_path, show_progress=False)
    assert (tmp_path / "model" / "rewardkit.json").is_file()
    with pytest.raises(ConfigError, match=r"unknown process objective 'bt' \(key 'objective'\); known: "
                                          r"implicit-ce, implicit-dpo, step-bce"):
        build_task(config_for(setup, objective="bt"))


def test_pairs_stay_within_a_problem():
    pairs = pair_indices(toy_traces())
    assert sorted(pairs) == [(2 * i, 2 * i + 1) for i in range(len(TOPICS))]
