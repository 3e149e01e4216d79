"""The training loop: learns, checkpoints atomically, and a resumed run equals an uninterrupted one."""

import json

import pytest
import torch
from safetensors.torch import load_file

from rewardkit import PreferencePair
from rewardkit.data.schemas import as_conversation
from rewardkit.errors import ConfigError
from rewardkit.models import scalar
from rewardkit.training.config import TrainConfig
from rewardkit.training.loop import train
from rewardkit.training.objectives import pair_objective
from rewardkit.training.tasks import PairTask

PAIRS = [PreferencePair(as_conversation(f"question {i}?"), f"a helpful answer number {i}", f"no {i}")
         for i in range(8)]


def make_task(folder, objective="bt"):
    model = scalar.load(folder)
    return PairTask(model, PAIRS, PAIRS, pair_objective(objective))


def config(**overrides):
    values = dict(max_steps=6, batch_size=4, learning_rate=5e-3, warmup_ratio=0.2, eval_every=3, save_every=2, seed=3)
    return TrainConfig(**(values | overrides))


def test_overfits_a_small_batch(tiny_llama, tmp_path):
    result = train(make_task(tiny_llama), config(max_steps=40, learning_rate=1e-2), tmp_path, show_progress=False)
    assert result.last_eval["eval_accuracy"] == 1.0
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert log[-1]["loss"] < log[0]["loss"] / 4
    assert all(record["seconds"] > 0 for record in log)
    assert sum(record["seconds"] for record in log) <= result.train_seconds  # the steps, without evaluations
    assert (tmp_path / "model" / "model.safetensors").is_file()


class Interrupt(Exception):
    pass


def test_resume_after_interruption_matches_uninterrupted_run(tiny_bert, tmp_path):
    straight = tmp_path / "straight"
    train(make_task(tiny_bert), config(), straight, show_progress=False)

    killed = tmp_path / "killed"
    task = make_task(tiny_bert)
    calls = {"n": 0}
    real_loss = task.loss

    def dying_loss(module, indices):
        calls["n"] += 1
        if calls["n"] == 5:  # dies during step 5, after the step-4 checkpoint
            raise Interrupt()
        return real_loss(module, indices)

    task.loss = dying_loss
    with pytest.raises(Interrupt):
        train(task, config(), killed, show_progress=False)
    state = json.loads((killed / "checkpoint" / "state.json").read_text())
    assert state["step"] == 4 and not (killed / "model").exists()
    with pytest.raises(ConfigError, match="--resume"):
        train(make_task(tiny_bert), config(), killed, show_progress=False)

    result = train(make_task(tiny_bert), config(), killed, resume=True, show_progress=False)
    assert result.resumed_from == 4 and result.steps == 6
    a = load_file(str(straight / "model" / "model.safetensors"))
    b = load_file(str(killed / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6, msg=name)


def test_reward_statistics_are_stored_with_the_model(tiny_llama, tmp_path):
    train(make_task(tiny_llama), config(max_steps=2), tmp_path, show_progress=False)
    manifest = json.loads((tmp_path / "model" / "rewardkit.json").read_text())
    assert manifest["family"] == "scalar"
    assert manifest["options"]["reward_std"] > 0
    model = scalar.load(str(tmp_path / "model"))
    rewards = model.score([s for p in PAIRS for s in p.samples()]).rewards
    assert manifest["options"]["reward_mean"] == pytest.approx(sum(rewards) / len(rewards), abs=1e-4)


def test_head_learning_rate_and_frozen_embeddings(tiny_bert, tmp_path):
    task = make_task(tiny_bert)
    embeddings = task.model.network.get_input_embeddings().weight.detach().clone()
    train(task, config(max_steps=2, freeze_embeddings=True, head_learning_rate=1e-1), tmp_path,
          show_progress=False)
    saved = scalar.load(str(tmp_path / "model"))
    torch.testing.assert_close(saved.network.get_input_embeddings().weight, embeddings)


@pytest.mark.parametrize("folder", ["tiny_bert", "tiny_llama"])
def test_weight_decay_spares_biases_and_norms(folder, request):
    from rewardkit.training.loop import parameter_groups

    model = scalar.load(request.getfixturevalue(folder))
    groups = parameter_groups(model.network, config(weight_decay=0.1, head_learning_rate=1e-1))
    names = {id(p): n for n, p in model.network.named_parameters()}
    by_group = {(g["lr"], g["weight_decay"]): {names[id(p)] for p in g["params"]} for g in groups}
    undecayed = set().union(*(n for (_, wd), n in by_group.items() if wd == 0.0))
    decayed = set().union(*(n for (_, wd), n in by_group.items() if wd == 0.1))
    assert undecayed and decayed and not undecayed & decayed
    assert undecayed | decayed == set(names.values())  # every trainable parameter in exactly one group
    assert all(n.endswith("bias") or "norm" in n.lower() for n in undecayed)
    assert not any(n.endswith("bias") or "norm" in n.lower() for n in decayed)
    assert any("norm" in n.lower() and n.endswith("weight") for n in undecayed)
    assert {lr for lr, _ in by_group} == {5e-3, 1e-1}  # backbone and head keep their learning rates


def test_resume_with_other_trainable_parameters_is_a_clear_error(tiny_bert, tmp_path):
    calls = {"n": 0}
    task = make_task(tiny_bert)
    real_loss = task.loss

    def dying_loss(module, indices):
        calls["n"] += 1
        if calls["n"] == 3:  # after the step-2 checkpoint
            raise Interrupt()
        return real_loss(module, indices)

    task.loss = dying_loss
    with pytest.raises(Interrupt):
        train(task, config(), tmp_path, show_progress=False)
    # the checkpoint trained the embeddings; resuming with them frozen leaves a group out
    with pytest.raises(ConfigError, match="checkpoint's optimizer does not fit"):
        train(make_task(tiny_bert), config(freeze_embeddings=True), tmp_path, resume=True, show_progress=False)
