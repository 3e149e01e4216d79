"""experiments/generalisation.py end to end on tiny random causal LMs: a few pairs, two steps per model."""

import json
import sys
from pathlib import Path

import pytest

from rewardkit.models.tiny_lm import SIMPLE_CHAT_TEMPLATE, save_tiny_causal_lm
from rewardkit.cli.quickstart import HELDOUT_FAMILIES, TRAINING_FAMILIES

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
sys.path.insert(0, str(EXPERIMENTS))


def test_generalisation_reports_both_models_on_both_splits(tmp_path, capsys):
    import generalisation

    backbone = save_tiny_causal_lm(tmp_path / "lm", chat_template=SIMPLE_CHAT_TEMPLATE)
    results = tmp_path / "results" / "generalisation.json"
    report = generalisation.main(["--backbone", backbone, "--steps", "2", "--batch-size", "3", "--test-pairs", "7",
                                  "--max-length", "64", "--out", str(tmp_path / "runs"), "--results", str(results)])
    assert json.loads(results.read_text()) == json.loads(json.dumps(report))
    assert report["n_train"] == 6 and report["n_in_distribution"] == 7 and report["n_heldout"] == 7
    assert report["training_families"] == list(TRAINING_FAMILIES)
    scalar, dpo = report["models"]["scalar-bt"], report["models"]["dpo-implicit"]
    # the same pairs, rendered to the same tokens, in the same order (so the same batches at the same seed)
    assert scalar["train_tokens_sha256"] == dpo["train_tokens_sha256"]
    for model in (scalar, dpo):
        assert model["steps"] == 2 and model["train_seconds"] > 0
        assert set(model["heldout"]["per_family"]) == set(HELDOUT_FAMILIES)
        assert set(model["in_distribution"]["per_family"]) <= set(TRAINING_FAMILIES)
        for split in ("in_distribution", "heldout"):
            assert model[split]["n"] == 7
            assert model[split]["ci_low"] <= model[split]["accuracy"] <= model[split]["ci_high"]
            assert "longer_is_better" in model[split]["length_baseline"]
        assert model["drop"] == pytest.approx(model["in_distribution"]["accuracy"] - model["heldout"]["accuracy"])
    assert scalar["head_learning_rate"] > scalar["learning_rate"] and dpo["head_learning_rate"] is None
    assert report["drop_difference_dpo_minus_scalar"] == pytest.approx(dpo["drop"] - scalar["drop"])
    assert (tmp_path / "runs" / "data" / "train.jsonl").read_text().count("\n") == 6
    assert "drop(DPO) − drop(scalar)" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="already exists"):  # never mixes two runs' logs in one folder
        generalisation.main(["--backbone", backbone, "--out", str(tmp_path / "runs"), "--results", str(results)])
