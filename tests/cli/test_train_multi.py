"""`rewardkit train --kind multi` then `rewardkit eval`, `score` and `explain` on the synthetic multi-attribute
data (rewardkit.synth.multi_attribute), with a tiny random-init BERT as the frozen backbone."""

from __future__ import annotations

import json

import pytest
import torch

from rewardkit.synth.multi_attribute import pair_rows, rating_rows
from tests.helpers import run_cli, write_jsonl


@pytest.fixture(scope="module")
def bert64(tmp_path_factory, minilm_tokenizer):
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=minilm_tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=128, max_position_embeddings=512)
    folder = tmp_path_factory.mktemp("bert64")
    BertModel(config).save_pretrained(folder)
    minilm_tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multi-data")
    return {"ratings": write_jsonl(folder / "ratings.jsonl", rating_rows(400, seed=0)),
            "pairs": write_jsonl(folder / "pairs.jsonl", pair_rows(400, seed=1)),
            "heldout_ratings": write_jsonl(folder / "heldout_ratings.jsonl", rating_rows(200, seed=2)),
            "heldout_pairs": write_jsonl(folder / "heldout_pairs.jsonl", pair_rows(200, seed=3))}


def train_args(data, backbone, out, cache):
    return ["train", "--kind", "multi", "--data", str(data["ratings"]), "--pairs", str(data["pairs"]),
            "--backbone", backbone, "--out", str(out), "max_length=96", "batch_size=64", "epochs=20",
            "head_learning_rate=0.01", f"cache_dir={cache}", "eval_fraction=0.1"]


def test_train_then_eval_report_attributes_and_the_gate_beats_every_fixed_mix(bert64, data, tmp_path, monkeypatch,
                                                                              capsys):
    code, _, err = run_cli(train_args(data, bert64, tmp_path / "run", tmp_path / "cache"), monkeypatch, capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "run" / "multi_report.json").read_text())
    assert report["embedding_cache"]["misses"] > 0 and report["embedding_cache"]["hits"] == 0
    decorrelated = report["decorrelation"]
    assert set(decorrelated) == {"instruction_following", "correctness", "safety", "coherence"}
    saved = json.loads((tmp_path / "run" / "model" / "rewardkit.json").read_text())["options"]
    assert saved["decorrelation"] == decorrelated and saved["verbosity_target"] == 0.03
    for entry in decorrelated.values():  # λ = 0 where |corr| was under the target already, else corr after ≈ 0
        assert set(entry) == {"lambda", "corr_before", "corr_after"} and abs(entry["corr_after"]) <= 0.03
        assert (entry["lambda"] == 0.0) is (abs(entry["corr_before"]) <= 0.03)
    assert any(entry["lambda"] != 0.0 for entry in decorrelated.values())

    out = tmp_path / "eval"
    code, stdout, err = run_cli(["eval", "--model", str(tmp_path / "run" / "model"), "--suite",
                                 str(data["heldout_pairs"]), "--ratings", str(data["heldout_ratings"]), "--out",
                                 str(out)], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())["attributes"]
    pairs, ratings = metrics["pairs"], metrics["ratings"]
    best_single = max(entry["accuracy"] for entry in pairs["only"].values())
    gated = pairs["gated"]["accuracy"]
    assert gated > best_single and gated > pairs["equal_weight"]["accuracy"], pairs
    assert gated == pytest.approx(json.loads((out / "metrics.json").read_text())["accuracy"]["accuracy"])
    assert pairs["gated"]["ci_low"] <= gated <= pairs["gated"]["ci_high"]
    assert set(ratings) == {"instruction_following", "correctness", "verbosity", "safety", "coherence"}
    assert ratings["verbosity"]["pearson"] > 0.8 and ratings["verbosity"]["spearman"] > 0.8  # length is easy
    assert ratings["safety"]["pearson_ci"][0] <= ratings["safety"]["pearson"] <= ratings["safety"]["pearson_ci"][1]
    assert "attributes" in stdout and "spearman" in stdout
    checked = json.loads((out / "metrics.json").read_text())["attributes"]["decorrelation"]
    assert {name: entry["lambda"] for name, entry in checked.items()} == \
        {name: entry["lambda"] for name, entry in decorrelated.items()}
    assert all(-1.0 <= entry["corr_here"] <= 1.0 for entry in checked.values())
    page = (out / "report.html").read_text()
    assert "<h2>Verbosity decorrelation</h2>" in page and "<h2>Attributes against held-out ratings</h2>" in page

    # a second run over the same backbone, data and max_length reads every embedding from the cache
    code, _, err = run_cli(train_args(data, bert64, tmp_path / "again", tmp_path / "cache"), monkeypatch, capsys)
    assert code == 0, err
    again = json.loads((tmp_path / "again" / "multi_report.json").read_text())["embedding_cache"]
    assert again["misses"] == 0 and again["hits"] == report["embedding_cache"]["misses"]

    # score and explain work through the registry unchanged
    model = str(tmp_path / "run" / "model")
    rows = [json.loads(line) for line in data["heldout_pairs"].read_text().splitlines()[:3]]
    small = write_jsonl(tmp_path / "three.jsonl", rows)
    code, _, err = run_cli(["score", "--model", model, "--input", str(small), "--output", str(tmp_path / "s.jsonl")],
                           monkeypatch, capsys)
    assert code == 0, err
    scored = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    code, _, err = run_cli(["explain", "--model", model, "--input", str(small), "--output",
                            str(tmp_path / "e.jsonl"), "--weights", "safety:2,verbosity:0"], monkeypatch, capsys)
    assert code == 0, err
    explained = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    part = explained[0]["explanations"][0]
    assert part["attributes"]["verbosity"]["weight"] == 0.0
    assert part["reward"] == pytest.approx(sum(a["contribution"] for a in part["attributes"].values()), abs=1e-5)
    code, stdout, _ = run_cli(["explain", "--model", model, "--input", str(small), "--limit", "1"], monkeypatch, capsys)
    assert code == 0 and "contribution" in stdout and f"{scored[0]['reward_chosen']:.3f}" in stdout


def test_multi_training_needs_pairs_and_names_wrong_keys(data, tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(["train", "--kind", "multi", "--data", str(data["ratings"]), "--out", str(tmp_path / "r")],
                           monkeypatch, capsys)
    assert code == 2 and "pass pairs=FILE (or --pairs)" in err
    code, _, err = run_cli(["train", "--kind", "scalar", "--data", str(data["pairs"]), "--pairs", str(data["pairs"]),
                            "--out", str(tmp_path / "r")], monkeypatch, capsys)
    assert code == 2 and "key 'pairs' does not apply to family 'scalar'" in err
