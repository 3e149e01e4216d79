"""`rewardkit train --kind judge --objective cloud` trains a Critique-out-Loud reward model (BT on the head's
rewards + λ·LM loss on reference critiques) on a tiny random LM; the saved judge loads, writes critiques and
its reward moves in the labelled direction."""

from __future__ import annotations

import json

import pytest
import torch

import rewardkit
from rewardkit import families
from rewardkit.data.schemas import PreferencePair, as_conversation
from rewardkit.models.cloud import CloudRewardModel
from rewardkit.models.tiny_lm import SIMPLE_CHAT_TEMPLATE, save_tiny_causal_lm
from rewardkit.training import losses
from tests.helpers import run_cli as run, write_jsonl

ROWS = [{"prompt": f"What is {i} plus {i}?", "chosen": f"{i} plus {i} is {2 * i}.", "rejected": "I do not know.",
         "chosen_critique": "Correct and direct.", "rejected_critique": "Evasive: it gives no answer."}
        for i in range(1, 7)]


def margins(model: CloudRewardModel, rows) -> list[float]:
    """r(chosen) − r(rejected) with each side's reference critique (the head's view, no sampling)."""
    items = [model.encode(s, c) for r in rows for s, c in zip(
        PreferencePair(as_conversation(r["prompt"]), r["chosen"], r["rejected"]).samples(),
        (r["chosen_critique"], r["rejected_critique"]))]
    rewards = model.rewards_for(items)
    return [rewards[i] - rewards[i + 1] for i in range(0, len(rewards), 2)]


def test_cloud_training_moves_the_reward_the_labelled_way(tmp_path, monkeypatch, capsys):
    backbone = save_tiny_causal_lm(tmp_path / "lm", chat_template=SIMPLE_CHAT_TEMPLATE)
    rows = [dict(row) for row in ROWS]
    del rows[0]["rejected_critique"]  # written by the model itself, outside the LM loss
    data = write_jsonl(tmp_path / "critiqued.jsonl", rows)
    untrained = families.build("judge:cloud", policy=backbone)
    before = margins(untrained, ROWS)
    out = tmp_path / "cloud"
    code, _, err = run(["train", "--kind", "judge", "--objective", "cloud", "--data", str(data), "--backbone",
                        backbone, "--out", str(out), "max_steps=12", "batch_size=3", "eval_fraction=0",
                        "learning_rate=0.005", "warmup_ratio=0", "max_length=64", "critique_tokens=4",
                        "critique_weight=0.5"], monkeypatch, capsys)
    assert code == 0, err
    model = rewardkit.load(str(out / "model"))
    assert isinstance(model, CloudRewardModel) and model.options.critique_weight == 0.5
    after = margins(model, ROWS)
    assert sum(after) / 6 > sum(before) / 6 + 0.5 and all(m > 0 for m in after), (before, after)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert log[-1]["critique_nll"] < log[0]["critique_nll"]  # the LM learned the reference critiques
    scored = model.score([rewardkit.Sample.from_text("What is 2 plus 2?", "2 plus 2 is 4.")])
    assert len(scored.texts) == 1 and scored.texts[0] and "spread" in scored.attributes
    recorded = json.loads((out / "train_config.json").read_text())
    assert recorded["critique_tokens"] == 4 and "beta" not in recorded


def test_bad_critique_rows_name_file_line_and_field(tmp_path, monkeypatch, capsys):
    data = write_jsonl(tmp_path / "bad.jsonl", [ROWS[0], {**ROWS[1], "chosen_critique": 3}])
    code, _, err = run(["train", "--kind", "judge", "--objective", "cloud", "--data", str(data), "--backbone",
                        str(tmp_path / "unused"), "--out", str(tmp_path / "o")], monkeypatch, capsys)
    assert code == 2 and "bad.jsonl, line 2, field 'chosen_critique': must be a string" in err


def test_cloud_loss_by_hand():
    nll = losses.masked_token_nll(torch.log(torch.tensor([[[0.5, 0.5], [0.1, 0.9]]])), torch.tensor([[0, 1]]),
                                  torch.tensor([[1.0]]))
    assert nll.item() == pytest.approx(0.693147, abs=1e-5)
    loss = losses.cloud_loss(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 0.0]), torch.tensor(1.0), 0.25)
    expected = (-torch.log(torch.sigmoid(torch.tensor(2.0))) + torch.log(torch.tensor(2.0))) / 2 + 0.25
    assert loss.item() == pytest.approx(expected.item(), abs=1e-6)


def test_packed_rewards_equal_the_scorers_forward(tmp_path):
    """rewards_for runs the packed forward (the two critiques of one response share their prompt); its rewards
    are the training forward's."""
    backbone = save_tiny_causal_lm(tmp_path / "lm", chat_template=SIMPLE_CHAT_TEMPLATE)
    model = families.build("judge:cloud", policy=backbone)
    with torch.no_grad():
        model.scorer.head.weight.normal_(0.0, 1.0)  # a head that reads every hidden unit visibly
    sample = PreferencePair(as_conversation(ROWS[0]["prompt"]), ROWS[0]["chosen"], ROWS[0]["rejected"]).samples()[0]
    items = [model.encode(sample, "Correct and direct."), model.encode(sample, "Correct, but terse."),
             *[model.encode(s, r["chosen_critique"]) for r in ROWS[1:4]
               for s in PreferencePair(as_conversation(r["prompt"]), r["chosen"], r["rejected"]).samples()[:1]]]
    packed = model.rewards_for(items, batch_size=3)
    from rewardkit.data.batching import pad_batch

    batch = pad_batch([e.input_ids for e in items], model.tokenizer.pad_token_id)
    with torch.no_grad():
        plain = model.scorer(batch["input_ids"], batch["attention_mask"])[0].tolist()
    assert packed == pytest.approx(plain, abs=1e-5)
    assert len(set(round(r, 4) for r in packed)) == len(items)  # distinct chats, distinct rewards
