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
    by_size = figures["int8_accuracy_by_batch_size"]["onnx-int8-u8s7"]
    assert list(by_size) == list(score_onnx.BATCH_SIZES_FOR_INT8_ACCURACY)
    assert all(0 <= a <= 1 for a in by_size.values())
    printed = printed_ratio(capsys)
    assert "score onnx-int8-u8s7" in printed and "saturate" in printed and "accuracy by batch size" in printed


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


@pytest.mark.parametrize("workload", ["short", "long"])
def test_score_vs_pipeline_on_a_decoder(tiny_llama, tmp_path, capsys, workload):
    import score_vs_pipeline

    figures = score_vs_pipeline.main(["--backbone", tiny_llama, "--workload", workload, "--pairs", "6",
                                      "--rounds", "1", "--batch-size", "4", "--work", str(tmp_path), "--no-save"])
    assert figures["scores_identical"] and figures["workload"] == workload
    assert figures["max_length"] == {"short": 128, "long": 512}[workload]
    assert f"score fp32 {workload}" in printed_ratio(capsys)


def test_long_context_pairs_keep_labels_and_grow_to_real_lengths():
    from bench_data import long_context_pairs, synth_splits

    pairs = synth_splits(64, 0)[1][:20]
    long = long_context_pairs(pairs, seed=1)
    assert [p.pair.chosen for p in long] == [p.pair.chosen for p in pairs] and long[0].check == pairs[0].check
    assert all(p.pair.prompt[-len(q.pair.prompt):] == q.pair.prompt for p, q in zip(long, pairs))
    words = sorted(sum(len(m.content.split()) for m in p.pair.prompt) for p in long)
    assert words[len(words) // 2] > 60  # the workload's median (≈ 130 tokens) is ≈ 90 words


from rewardkit.machine import supports_bf16  # noqa: E402


@pytest.mark.skipif(not supports_bf16(), reason="this CPU has no native bf16 (AVX-512 BF16 or AMX)")
def test_bf16_accuracy(tiny_llama, capsys):
    import bf16_accuracy

    figures = bf16_accuracy.main(["--model", tiny_llama, "--suite-pairs", "12", "--workload", "long",
                                  "--max-length", "256", "--no-save"])
    assert figures["suite_pairs"] > 5 and 0 <= figures["flipped"] <= figures["suite_pairs"]
    assert 0 < figures["max_margin_change_relative"] < 0.1  # bf16 ran, and stayed close
    change = 100 * (figures["bf16_accuracy"] - figures["fp32_accuracy"])
    assert figures["change_points"] == pytest.approx(change)
    assert figures["gained"] + figures["lost"] == figures["flipped"]
    low, high = figures["change_interval_points"]
    assert low <= figures["change_points"] <= high
    assert "change=" in capsys.readouterr().out


def test_bf16_accuracy_interval_is_paired_and_narrows_with_more_pairs():
    import bf16_accuracy

    exact = [1.0, -1.0] * 50
    rounded = [-m if i < 4 else m for i, m in enumerate(exact)]  # pairs 0 and 2 lost, 1 and 3 gained
    figures = bf16_accuracy.compared(exact, rounded)
    assert (figures["gained"], figures["lost"], figures["change_points"]) == (2, 2, 0.0)
    low, high = figures["change_interval_points"]
    assert low == pytest.approx(-high) and high == pytest.approx(1.96 * 4 ** 0.5)  # 196·√4/100 points
    wider = bf16_accuracy.compared(exact * 4, rounded * 4)  # same flip rate on 4x the pairs: half the width
    assert wider["change_interval_points"][1] == pytest.approx(high / 2)


def test_train_vs_trl_on_a_decoder_and_the_long_workload(tiny_llama, capsys):
    pytest.importorskip("trl")
    import train_vs_trl

    figures = train_vs_trl.main(["--backbone", tiny_llama, "--workload", "long", "--max-length", "256",
                                 "--steps", "4", "--pairs", "60", "--batch-size", "2", "--rounds", "1", "--no-save"])
    assert figures["settings"]["workload"] == "long" and figures["settings"]["max_length"] == 256
    assert figures["pairs_left_out_over_max_length"] > 0 and figures["n_train"] > 0  # the tail past 256 tokens
    assert 0 <= figures["peer_accuracy"] <= 1 and 0 <= figures["ours_accuracy"] <= 1
    assert figures["rounds"][0]["peer_pairs_kept"] == 4 * 2  # TRL dropped none of the rows it was given
    assert "train BT" in printed_ratio(capsys)


def test_trl_and_rewardkit_read_the_same_tokens_on_smollm2():
    """TRL's conversational rows, rendered by SmolLM2's chat template, are the token ids rewardkit scores."""
    from bench_data import long_context_pairs, synth_splits
    from trl_peer import trl_rows, trl_token_ids, trl_tokenizer

    from rewardkit.data.chat import ChatEncoder
    from rewardkit.models.defaults import resolve_backbone

    tokenizer = trl_tokenizer(resolve_backbone("smollm2"))
    pairs = long_context_pairs(synth_splits(64, 0)[1][:4], seed=1)
    theirs = trl_token_ids(trl_rows(pairs, conversational=True), tokenizer)
    encoder = ChatEncoder(tokenizer, max_length=4096)
    assert theirs == [encoder.encode(s).input_ids for sp in pairs for s in sp.pair.samples()]
    assert min(len(ids) for ids in theirs) > 60


def test_multi_objective(tiny_bert, tmp_path, capsys):
    import multi_objective

    figures = multi_objective.main(["--backbone", tiny_bert, "--ratings", "40", "--pairs", "40", "--heldout", "20",
                                    "--max-length", "48", "--peer-steps", "2", "--gate-epochs", "1", "--work",
                                    str(tmp_path), "--no-save"])
    assert 0 <= figures["ours"]["accuracy"] <= 1 and set(figures["peer"]["pearson"]) == set(figures["ours"]["pearson"])
    printed = printed_ratio(capsys)
    assert "embeddings cached" in printed
