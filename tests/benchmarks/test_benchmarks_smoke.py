"""Every benchmark runs end to end at tiny sizes on tiny models and prints its `peer=… ours=… ratio=…` line.
Smoke only: no timing is asserted (timings on shared CI machines mean nothing)."""

import re
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

LINE = re.compile(r"peer=[0-9.e+-]+ \S+.* ours=[0-9.e+-]+ \S+.* ratio=[0-9.]+")


def printed_ratio(capsys) -> str:
    out = capsys.readouterr().out
    assert LINE.search(out), out
    return out


def test_score_vs_pipeline(tiny_bert, tmp_path, capsys):
    import score_vs_pipeline

    figures = score_vs_pipeline.main(["--model", tiny_bert, "--pairs", "6", "--rounds", "1", "--batch-size", "4",
                                      "--work", str(tmp_path), "--no-save"])
    assert figures["scores_identical"]
    printed_ratio(capsys)


def test_flops_efficiency(tiny_bert, tmp_path, capsys):
    import flops_efficiency

    figures = flops_efficiency.main(["--model", tiny_bert, "--pairs", "4", "--rounds", "1", "--work", str(tmp_path),
                                     "--no-save"])
    assert figures["model_gflop_per_pass"] > 0 and 0 < figures["fraction"]
    printed_ratio(capsys)


def test_memory_rss(tiny_bert, tmp_path, capsys):
    import memory_rss

    figures = memory_rss.main(["--small", "10", "--large", "30", "--model", tiny_bert, "--work", str(tmp_path),
                               "--no-save"])
    assert figures["runs"]["large"]["rows"] == 30
    printed_ratio(capsys)


def test_score_onnx(tiny_bert, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    import score_onnx

    figures = score_onnx.main(["--model", tiny_bert, "--pairs", "6", "--rounds", "1", "--batch-size", "4",
                               "--suite-pairs", "10", "--work", str(tmp_path), "--no-save"])
    assert figures["onnx-fp32"]["max_abs_score_difference"] < 1e-4
    assert "onnx-int8-u8s7" in figures["accuracy_change_points"]  # the scheme CPUs without VNNI get, always
    printed = printed_ratio(capsys)
    assert "score onnx-int8-u8s7" in printed and "saturate" in printed


def test_train_vs_trl(tiny_bert, capsys):
    pytest.importorskip("trl")
    import train_vs_trl

    figures = train_vs_trl.main(["--backbone", tiny_bert, "--steps", "4", "--pairs", "40", "--batch-size", "2",
                                 "--max-length", "64", "--rounds", "2", "--no-save"])
    assert 0 <= figures["peer_accuracy"] <= 1 and 0 <= figures["ours_accuracy"] <= 1
    assert [r["seed"] for r in figures["rounds"]] == [0, 1]  # one seed per round, accuracy averaged over them
    printed_ratio(capsys)


def test_trl_is_given_the_batches_rewardkit_trains_on(tiny_bert, tmp_path):
    pytest.importorskip("trl")
    import train_vs_trl
    from bench_data import synth_splits

    settings = {"backbone": tiny_bert, "steps": 7, "batch_size": 4, "max_length": 64, "seed": 3,
                "learning_rate": 5e-5, "warmup_ratio": 0.1, "weight_decay": 0.01}
    pairs = synth_splits(40, 0)[0][:20]
    _, _, seen = train_vs_trl.ours_train(pairs, settings, tmp_path)
    order = train_vs_trl.batch_order(len(pairs), settings)
    assert seen == order and len(order) == 7 * 4
    assert sorted(order[:20]) == list(range(20)) and order[20:] != order[:8]  # an epoch, then a new shuffle


def test_serve_load(tiny_bert, capsys):
    import serve_load

    figures = serve_load.main(["--model", tiny_bert, "--clients", "4", "--seconds", "1", "--samples", "16",
                               "--workload", "long", "--no-save"])
    long = figures["workloads"]["long"]
    assert long["errors"] == 0 and long["runs"]["ours"][0]["requests"] > 0 and long["offline_samples_per_s"] > 0
    printed_ratio(capsys)


def test_multi_objective(tiny_bert, tmp_path, capsys):
    import multi_objective

    figures = multi_objective.main(["--backbone", tiny_bert, "--ratings", "40", "--pairs", "40", "--heldout", "20",
                                    "--max-length", "48", "--peer-steps", "2", "--gate-epochs", "1", "--work",
                                    str(tmp_path), "--no-save"])
    assert 0 <= figures["ours"]["accuracy"] <= 1 and set(figures["peer"]["pearson"]) == set(figures["ours"]["pearson"])
    printed = printed_ratio(capsys)
    assert "embeddings cached" in printed
