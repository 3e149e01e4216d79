"""HelpSteer2-Preference's recipe: scaled Bradley-Terry started from a regression model (`init`), and scaled-bt
refusing pairs that carry no preference strength."""

from __future__ import annotations

import pytest
import torch

import rewardkit
from rewardkit.families import build_task, train_config
from rewardkit.models import scalar
from rewardkit.models.base import compare
from rewardkit.training.losses import scaled_bradley_terry
from tests.helpers import run_cli, write_jsonl

PAIRS = [{"prompt": f"Question {i}?", "chosen": "A careful, complete answer." if i % 2 else "Yes.",
          "rejected": "No." if i % 2 else "A long answer that rambles on.", "margin": 1 + i % 3} for i in range(12)]


@pytest.fixture
def regression_model(tiny_bert, tmp_path):
    """A scalar model with a helpfulness and a verbosity output whose reward is the helpfulness output, as
    `--objective regression` leaves it (its head seeded apart from a fresh one)."""
    model = scalar.build(tiny_bert, attributes=["helpfulness", "verbosity"], max_length=64, seed=7)
    model.options.reward_weights = [1.0, 0.0]
    with torch.no_grad():
        model.network.classifier.weight.mul_(3000.0)
    return str(model.save(tmp_path / "regression"))


def test_step_zero_loss_and_accuracy_are_those_of_the_initial_regression_model(regression_model, tiny_bert, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    settings = {"objective": "scaled-bt", "data": str(data), "backbone": tiny_bert, "max_length": 64,
                "eval_data": str(data)}
    task = build_task(train_config({**settings, "init": regression_model}))
    loss, metrics = task.loss(task.module, range(len(PAIRS)))
    loss = loss.detach()

    initial = rewardkit.load(regression_model)
    scores = initial.score([s for p in task_pairs(data) for s in p.samples()])
    helpfulness = torch.tensor(scores.attributes["helpfulness"])
    expected = scaled_bradley_terry(helpfulness[0::2], helpfulness[1::2], torch.tensor([p["margin"] for p in PAIRS],
                                                                                       dtype=torch.float32))
    assert float(loss) == pytest.approx(float(expected), rel=1e-4)
    margins = compare(initial, task_pairs(data))
    assert task.evaluate()["eval_accuracy"] == pytest.approx(sum(m > 0 for m in margins) / len(margins))
    assert float(metrics["accuracy"]) == pytest.approx(sum(m > 0 for m in margins) / len(margins))

    fresh = build_task(train_config(settings))  # a new head on the same backbone starts elsewhere
    assert float(fresh.loss(fresh.module, range(len(PAIRS)))[0]) != pytest.approx(float(loss), abs=0.01)


def task_pairs(path):
    from rewardkit.data.loaders import load_pairs

    return list(load_pairs(path))


def test_scaled_bt_without_preference_strengths_is_an_error(tiny_bert, tmp_path, monkeypatch, capsys):
    rows = [{k: v for k, v in row.items() if k != "margin" or i < 3} for i, row in enumerate(PAIRS)]
    data = write_jsonl(tmp_path / "pairs.jsonl", rows)
    code, _, err = run_cli(["train", "--objective", "scaled-bt", "--data", str(data), "--backbone", tiny_bert,
                            "--out", str(tmp_path / "run"), "eval_fraction=0"], monkeypatch, capsys)
    assert code == 2, err
    assert "scaled-bt weighs each pair by its preference strength, but 9 of 12 training pairs have none" in err
    assert "(first: training pair 4)" in err
