"""`rewardkit explain` on a scalar model with several outputs: its fixed reward weights are the weights, and the
contributions sum to the reward (the weight and contribution columns were blank)."""

import json

import pytest

from tests.helpers import run_cli, write_jsonl

ROWS = [{"prompt": "What is 2+2?", "response": "4"},
        {"prompt": "Name a colour.", "chosen": "Blue.", "rejected": "Seven."}]


@pytest.fixture
def two_output_classifier(sentiment_classifier, tmp_path):
    import shutil

    return shutil.copytree(sentiment_classifier, tmp_path / "two_outputs")


@pytest.mark.parametrize("options, weights", [({"reward_weights": [-1.0, 2.0]}, [-1.0, 2.0]),
                                              ({"attributes": ["first", "second"]}, [1.0, 0.0])])
def test_fixed_weights_explain_the_reward(options, weights, two_output_classifier, tmp_path, monkeypatch, capsys):
    """reward_weights, or without them the first output alone (a regression model's default)."""
    (two_output_classifier / "rewardkit.json").write_text(json.dumps({"family": "scalar", "options": options}))
    source = write_jsonl(tmp_path / "rows.jsonl", ROWS)
    code, _, err = run_cli(["explain", "--model", str(two_output_classifier), "--input", str(source), "--output",
                            str(tmp_path / "e.jsonl")], monkeypatch, capsys)
    assert code == 0, err
    parts = [part for line in (tmp_path / "e.jsonl").read_text().splitlines()
             for part in json.loads(line)["explanations"]]
    assert len(parts) == 3
    for part in parts:
        assert [a["weight"] for a in part["attributes"].values()] == weights
        assert part["reward"] == pytest.approx(sum(a["contribution"] for a in part["attributes"].values()), abs=1e-6)


def test_a_normalised_reward_is_explained_without_weights(two_output_classifier, tmp_path, monkeypatch, capsys):
    """(w · outputs − mean) / std: the contributions would not sum to it, so weight and contribution stay empty."""
    (two_output_classifier / "rewardkit.json").write_text(json.dumps({"family": "scalar", "options": {
        "reward_weights": [0, 1], "reward_mean": 0.5, "reward_std": 2.0, "normalize": True}}))
    source = write_jsonl(tmp_path / "rows.jsonl", ROWS[:1])
    code, _, err = run_cli(["explain", "--model", str(two_output_classifier), "--input", str(source), "--output",
                            str(tmp_path / "e.jsonl")], monkeypatch, capsys)
    assert code == 0, err
    part = json.loads((tmp_path / "e.jsonl").read_text())["explanations"][0]
    assert all(a["weight"] is None and a["contribution"] is None for a in part["attributes"].values())
    assert part["reward"] == pytest.approx((part["attributes"]["POSITIVE"]["value"] - 0.5) / 2.0, abs=1e-6)
