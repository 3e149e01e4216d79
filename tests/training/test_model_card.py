"""The model card every trained model folder gets (rewardkit.training.model_card): Hub metadata, the data's
SHA-256 and counts, the config and machine, the run's evaluation; `rewardkit eval --out` inside the folder
adds its figures."""

from __future__ import annotations

import hashlib
import json

import pytest
from huggingface_hub import ModelCard

from rewardkit.models.tiny_lm import save_tiny_causal_lm
from rewardkit.families import train_config
from rewardkit.training.loop import train
from rewardkit.training.model_card import base_model_id
from rewardkit.families import build_task
from tests.helpers import run_cli, write_jsonl

TOPICS = ["apples", "boats", "clocks", "doors", "eggs", "forks", "gates", "hats"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    rows = [{"prompt": f"Check the {t}.", "chosen": f"the {t} are fine", "rejected": f"the {t} are broken"}
            for t in TOPICS]
    rows[0]["chosen"] = "fine " * 80  # longer than max_length: truncated, and counted
    data = write_jsonl(root / "pairs.jsonl", rows)
    config = train_config({"backbone": save_tiny_causal_lm(root / "lm"), "data": str(data), "max_steps": 3,
                           "batch_size": 2, "max_length": 32, "eval_fraction": 0.25, "seed": 7})
    task = build_task(config)
    train(task, config, root / "run", show_progress=False)
    return {"folder": root / "run" / "model", "data": data, "task": task, "root": root}


def test_card_has_hub_metadata_and_the_run_evaluation(trained):
    card = ModelCard.load(trained["folder"] / "README.md")
    assert card.data.library_name == "rewardkit"
    assert {"reward-model", "scalar", "bt"} <= set(card.data.tags)
    metrics = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert set(metrics) == {"eval_accuracy"} and 0.0 <= metrics["eval_accuracy"] <= 1.0
    assert card.data.base_model is None  # a local folder is not a hub id


def test_card_records_the_data_hash_counts_seed_machine_and_config(trained):
    card = ModelCard.load(trained["folder"] / "README.md")
    record = card.data.to_dict()["rewardkit"]
    digest = hashlib.sha256(trained["data"].read_bytes()).hexdigest()
    assert record["data"]["files"] == [{"role": "training", "path": str(trained["data"]), "sha256": digest,
                                        "rows": 8}]
    assert record["data"]["training_examples"] == 6  # 8 rows, a quarter held out
    assert record["data"]["truncated_training_samples"] == trained["task"].truncated > 0
    assert record["seed"] == 7 and record["machine"]["torch"] and record["machine"]["isa"]
    assert digest in card.text and '"seed": 7' in card.text and '"max_length": 32' in card.text


def test_eval_inside_the_model_folder_adds_its_figures_to_the_card(trained, monkeypatch, capsys):
    folder = trained["folder"]
    before = len(ModelCard.load(folder / "README.md").data.eval_results)
    code, _, err = run_cli(["eval", "--model", str(folder), "--suite", str(trained["data"]),
                            "--out", str(folder / "eval")], monkeypatch, capsys)
    assert code == 0, err
    card = ModelCard.load(folder / "README.md")
    added = card.data.eval_results[before:]
    assert {r.metric_type for r in added} == {"accuracy", "ci_low", "ci_high"}
    accuracy = json.loads((folder / "eval" / "metrics.json").read_text())["accuracy"]["accuracy"]
    assert next(r.metric_value for r in added if r.metric_type == "accuracy") == pytest.approx(accuracy)
    assert f"rewardkit eval --suite {trained['data']}" in card.text


def test_eval_elsewhere_leaves_the_card_alone(trained, tmp_path, monkeypatch, capsys):
    text = (trained["folder"] / "README.md").read_text()
    code, _, err = run_cli(["eval", "--model", str(trained["folder"]), "--suite", str(trained["data"]),
                            "--out", str(tmp_path / "eval")], monkeypatch, capsys)
    assert code == 0, err
    assert (trained["folder"] / "README.md").read_text() == text


def test_base_model_names_only_hub_ids():
    assert base_model_id("minilm") == "sentence-transformers/all-MiniLM-L6-v2"
    assert base_model_id("Qwen/Qwen2.5-0.5B") == "Qwen/Qwen2.5-0.5B"
    assert base_model_id("/tmp/some/folder") is None and base_model_id("runs/x/model/extra") is None
