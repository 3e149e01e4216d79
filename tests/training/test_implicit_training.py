"""DPO training of the implicit family on preference pairs: it learns, the saved model scores exactly
β·Σ(log πθ − log πref) with the trained weights, LoRA merges, and a bad objective is a clear error."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

import rewardkit
from rewardkit.errors import ConfigError
from rewardkit.models.implicit import ImplicitRewardModel
from rewardkit.models.tiny_lm import SIMPLE_CHAT_TEMPLATE, save_tiny_causal_lm
from rewardkit.families import train_config

from rewardkit.training.loop import train
from rewardkit.families import build_task

TOPICS = ["apples", "boats", "clocks", "doors", "eggs", "forks", "gates", "hats"]
BETA = 0.5


def toy_rows() -> list[dict]:
    """Trivially learnable: the chosen response says "all fine", the rejected one "broken broken"."""
    return [{"prompt": f"Check the {topic}.", "chosen": f"the {topic} are all fine",
             "rejected": f"the {topic} are broken broken"} for topic in TOPICS]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("implicit_training")
    (root / "toy.jsonl").write_text("".join(json.dumps(row) + "\n" for row in toy_rows()), encoding="utf-8")
    return {"backbone": save_tiny_causal_lm(root / "lm", seed=0, chat_template=SIMPLE_CHAT_TEMPLATE),
            "reference": save_tiny_causal_lm(root / "ref", seed=1, chat_template=SIMPLE_CHAT_TEMPLATE),
            "data": str(root / "toy.jsonl"), "root": root}


def config_for(setup, **values):
    base = {"family": "implicit", "objective": "dpo", "backbone": setup["backbone"], "data": setup["data"],
            "eval_data": setup["data"], "batch_size": 4, "learning_rate": 0.02, "warmup_ratio": 0.0,
            "weight_decay": 0.0, "max_steps": 8, "eval_every": 1000, "save_every": 1000, "max_length": 64,
            "beta": BETA}
    return train_config({**base, **values})


@pytest.fixture(scope="module")
def trained(setup):
    """One DPO run against a separate reference model, shared by the tests below."""
    out = setup["root"] / "run"
    config = config_for(setup, reference=setup["reference"])
    task = build_task(config)
    before = task.evaluate()
    result = train(task, config, out, show_progress=False)
    return {"out": out, "task": task, "before": before, "result": result}


def manual_log_ratio(policy, reference, encoder, sample) -> float:
    """Σ over response tokens of log πθ − log πref, log-softmax written out in float64, one sequence alone."""
    encoded = encoder.encode(sample)
    ids = torch.tensor([encoded.input_ids])
    total = 0.0
    for network, sign in ((policy, 1.0), (reference, -1.0)):
        with torch.no_grad():
            logits = network(input_ids=ids).logits[0].double()
        for t in range(encoded.response_start, len(encoded.input_ids)):
            row = logits[t - 1]
            total += sign * float(row[encoded.input_ids[t]] - torch.logsumexp(row, dim=0))
    return total


def test_dpo_lowers_the_loss_and_ranks_the_training_pairs(trained):
    history = [json.loads(line)["loss"] for line in (trained["out"] / "train_log.jsonl").read_text().splitlines()]
    assert len(history) == 8
    assert sum(history[-3:]) < 0.5 * sum(history[:3])
    assert trained["before"]["eval_accuracy"] < 1.0
    assert trained["result"].last_eval["eval_accuracy"] == 1.0
    assert trained["result"].last_eval["eval_pairs"] == len(TOPICS)


def test_saved_model_scores_beta_times_the_log_ratio_of_the_trained_weights(setup, trained):
    from transformers import LlamaForCausalLM

    folder = trained["out"] / "model"
    model = rewardkit.load(str(folder))
    assert isinstance(model, ImplicitRewardModel) and model.options.kind == "dpo"
    assert model.options.beta == BETA and model.options.max_length == 64
    assert Path(model.options.policy) == folder.resolve()
    assert Path(model.options.reference) == Path(setup["reference"]).resolve()
    assert model.policy.encoder.uses_chat_template

    policy = LlamaForCausalLM.from_pretrained(folder).eval()
    reference = LlamaForCausalLM.from_pretrained(setup["reference"]).eval()
    samples = [rewardkit.Sample.from_text(row["prompt"], row[side]) for row in toy_rows()[:3]
               for side in ("chosen", "rejected")]
    rewards = model.score(samples).rewards
    for sample, reward in zip(samples, rewards):
        by_hand = BETA * manual_log_ratio(policy, reference, model.policy.encoder, sample)
        assert reward == pytest.approx(by_hand, abs=1e-4)
    # and the scorer reads exactly what training optimised: the task's own log-ratios, times β
    task = trained["task"]
    in_training = BETA * task.evaluation.all_log_ratio_sums(task.module)
    assert rewards == pytest.approx(in_training[:6].tolist(), abs=1e-4)


def test_lora_training_saves_a_merged_policy(setup, tmp_path):
    config = config_for(setup, lora_rank=4, lora_alpha=8.0, max_steps=2)
    task = build_task(config)
    trainable = sum(p.numel() for p in task.module.parameters() if p.requires_grad)
    assert trainable < 0.1 * sum(p.numel() for p in task.module.parameters())
    train(task, config, tmp_path, show_progress=False)
    assert not list((tmp_path / "model").glob("adapter_*"))
    model = rewardkit.load(str(tmp_path / "model"))
    assert isinstance(model, ImplicitRewardModel)
    assert Path(model.options.reference) == Path(setup["backbone"]).resolve()  # default: the untrained backbone
    assert all(math.isfinite(r) for r in model.score([rewardkit.Sample.from_text("Hi.", "hello")]).rewards)


def test_a_bad_objective_names_the_key_and_the_known_objectives(setup):
    with pytest.raises(ConfigError, match=r"unknown implicit objective 'bt' \(key 'objective'\); known: dpo"):
        build_task(config_for(setup, objective="bt", data=""))  # checked before any data or model is read


def test_dpo_trains_at_the_documented_default_beta_unless_beta_is_given(setup):
    from rewardkit.models.implicit import DEFAULT_BETA

    assert build_task(config_for(setup, beta=None)).beta == DEFAULT_BETA["dpo"] == 0.1  # as if the key were unset
    assert build_task(config_for(setup, beta="0.3")).beta == 0.3
