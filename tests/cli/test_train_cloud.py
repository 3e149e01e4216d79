"""`rewardkit train --kind judge --objective cloud` trains a Critique-out-Loud reward model (BT on the head's
rewards + λ·LM loss on reference critiques) on a tiny random LM; the saved judge loads, writes critiques and
its reward moves in the labelled direction."""

from __future__ import annotations

import json
import math

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
    rows = [torch.log(torch.tensor([0.5, 0.25])), torch.log(torch.tensor([0.1])), torch.log(torch.tensor([0.9]))]
    nll = losses.mean_token_nll(rows, torch.tensor([1.0, 0.0, 1.0]))  # the second row has no reference critique
    assert nll.item() == pytest.approx((math.log(2) + math.log(4) - math.log(0.9)) / 3, abs=1e-6)
    assert losses.mean_token_nll(rows, torch.zeros(3)).item() == 0.0
    loss = losses.cloud_loss(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 0.0]), torch.tensor(1.0), 0.25)
    expected = (-torch.log(torch.sigmoid(torch.tensor(2.0))) + torch.log(torch.tensor(2.0))) / 2 + 0.25
    assert loss.item() == pytest.approx(expected.item(), abs=1e-6)


def test_packed_scorer_equals_its_plain_forward(tmp_path):
    """The packed CloudScorer (the two critiques of one response share their prompt) gives the plain forward's
    rewards, critique log-probabilities and gradients; rewards_for (scoring, no LM head) the same rewards."""
    from rewardkit.data.batching import common_prefix, pad_batch
    from rewardkit.models.logprobs import first_response_column

    backbone = save_tiny_causal_lm(tmp_path / "lm", chat_template=SIMPLE_CHAT_TEMPLATE)
    model = families.build("judge:cloud", policy=backbone)
    with torch.no_grad():
        model.scorer.head.weight.normal_(0.0, 1.0)  # a head that reads every hidden unit visibly
    sample = PreferencePair(as_conversation(ROWS[0]["prompt"]), ROWS[0]["chosen"], ROWS[0]["rejected"]).samples()[0]
    items = [model.encode(sample, "Correct and direct."), model.encode(sample, "Correct, but terse."),
             *[model.encode(s, r["chosen_critique"]) for r in ROWS[1:4]
               for s in PreferencePair(as_conversation(r["prompt"]), r["chosen"], r["rejected"]).samples()[:1]]]
    batch = pad_batch([e.input_ids for e in items], model.tokenizer.pad_token_id)
    firsts = [first_response_column(e) for e in items]
    shared = torch.tensor([0] + [common_prefix(a.input_ids, b.input_ids) for a, b in zip(items, items[1:])])
    assert model.scorer.packed and shared[1] > 10
    weights = torch.linspace(-1.0, 1.0, len(items))

    def run(packed: bool):
        model.scorer.packed = packed
        model.scorer.zero_grad()
        rewards, rows = model.scorer(batch["input_ids"], batch["attention_mask"], firsts, shared if packed else None)
        ((rewards * weights).sum() + losses.mean_token_nll(rows, torch.ones(len(items)))).backward()
        grads = {name: p.grad.clone() for name, p in model.scorer.named_parameters() if p.grad is not None}
        return rewards.detach(), [r.detach() for r in rows], grads

    packed, plain = run(True), run(False)
    torch.testing.assert_close(packed[0], plain[0], atol=1e-5, rtol=1e-5)
    assert [len(r) for r in packed[1]] == [len(e.input_ids) - e.response_start for e in items]
    for a, b in zip(packed[1], plain[1]):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert packed[2].keys() == plain[2].keys() and len(packed[2]) == len(list(model.scorer.parameters()))
    for name in plain[2]:
        torch.testing.assert_close(packed[2][name], plain[2][name], atol=1e-5, rtol=1e-4, msg=name)
    model.scorer.packed = True
    assert model.rewards_for(items, batch_size=3) == pytest.approx(plain[0].tolist(), abs=1e-5)
    assert len(set(round(r, 4) for r in plain[0].tolist())) == len(items)  # distinct chats, distinct rewards


def test_a_critique_rows_prompt_is_checked_like_a_pairs(tmp_path, monkeypatch, capsys):
    """A message list went through as_conversation unchecked: a made-up role was trained on."""
    data = write_jsonl(tmp_path / "bad.jsonl", [ROWS[0], {**ROWS[1], "prompt": [{"role": "robot", "content": "x"}]}])
    code, _, err = run(["train", "--kind", "judge", "--objective", "cloud", "--data", str(data), "--backbone",
                        str(tmp_path / "unused"), "--out", str(tmp_path / "o")], monkeypatch, capsys)
    assert code == 2 and "bad.jsonl, line 2, field 'prompt[0].role'" in err, err
