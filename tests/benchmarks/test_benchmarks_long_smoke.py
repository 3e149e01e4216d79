"""The benchmark options issue 17 added on top of test_benchmarks_smoke.py's: bf16 scoring against the fp32
pipeline, the int8 ONNX race on the long workload, memory on a decoder, training on the long workload. Tiny
models and sizes; no timing is asserted."""

import re
import sys
from pathlib import Path

import pytest

from rewardkit.machine import supports_bf16

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

LINE = re.compile(r"peer=[0-9.e+-]+ \S+.* ours=[0-9.e+-]+ \S+.* ratio=[0-9.]+")


def printed_ratio(capsys) -> str:
    out = capsys.readouterr().out
    assert LINE.search(out) and "machine: " in out, out
    return out


@pytest.mark.skipif(not supports_bf16(), reason="this CPU has no native bf16 (AVX-512 BF16 or AMX)")
def test_score_vs_pipeline_bf16_on_a_decoder(tiny_llama, tmp_path, capsys):
    import score_vs_pipeline

    figures = score_vs_pipeline.main(["--backbone", tiny_llama, "--workload", "long", "--dtype", "bf16", "--pairs",
                                      "6", "--rounds", "1", "--batch-size", "4", "--work", str(tmp_path),
                                      "--no-save"])
    assert figures["dtype"] == "bf16" and 0 < figures["max_abs_score_difference"]  # bf16 ran: scores rounded
    assert figures["max_score_difference_relative_to_spread"] < 0.05
    printed = printed_ratio(capsys)
    assert "score bf16 long 512" in printed and "pipeline fp32 − rewardkit bf16" in printed
    assert "native bf16: yes" in printed


def test_score_vs_pipeline_bf16_without_native_bf16_says_why(tiny_llama, tmp_path, monkeypatch, capsys):
    import score_vs_pipeline

    import rewardkit.machine

    monkeypatch.setattr(rewardkit.machine, "supports_bf16", lambda device="cpu": False)
    with pytest.raises(SystemExit) as stop:
        score_vs_pipeline.main(["--backbone", tiny_llama, "--dtype", "bf16", "--work", str(tmp_path), "--no-save"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "no bf16 figure on this machine" in err and "needs native bf16" in err


def test_score_onnx_on_the_long_workload(tiny_bert, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    import score_onnx

    figures = score_onnx.main(["--model", tiny_bert, "--workload", "long", "--max-length", "256", "--pairs", "6",
                               "--rounds", "1", "--batch-size", "4", "--suite-pairs", "10", "--work", str(tmp_path),
                               "--no-save"])
    assert figures["workload"] == "long" and figures["max_length"] == 256
    assert 0 < figures["samples_truncated"] < 12  # the workload's tail is past 256 tokens, most of it is not
    assert figures["onnx-fp32"]["max_abs_score_difference"] < 1e-4  # on the samples that fit
    printed = printed_ratio(capsys)
    assert "score onnx-int8-u8s7 long 256" in printed
    assert f"verifiable-suite accuracy ({figures['suite_pairs']} pairs, long 256)" in printed


def test_memory_rss_on_a_tiny_llama_samples_rss_while_streaming(tmp_path, capsys):
    import memory_rss

    figures = memory_rss.main(["--backbone", "tiny-llama", "--small", "10", "--large", "1100", "--every", "400",
                               "--work", str(tmp_path), "--no-save"])
    large = figures["runs"]["large"]
    assert large["rows"] == 1100 and [rows for rows, _ in large["rss_mb_by_rows"]] == [0, 512, 1024]
    assert all(mb > 50 for _, mb in large["rss_mb_by_rows"]) and figures["slope_mb_per_100k_rows"] == \
        pytest.approx(memory_rss.slope_mb_per_100k(large["rss_mb_by_rows"]))
    printed = printed_ratio(capsys)
    assert "[memory tiny-llama]" in printed and "MB per 100k rows" in printed and "SmolLM2 tokenizer" in printed


def test_rss_slope_is_a_least_squares_fit_past_the_warm_up():
    import memory_rss

    flat = [[0, 300.0]] + [[r, 500.0] for r in range(100_000, 1_000_001, 100_000)]
    assert memory_rss.slope_mb_per_100k(flat) == 0.0  # the jump during the first 10% is the warm-up
    growing = [[r, 400.0 + r / 50_000] for r in range(0, 1_000_001, 100_000)]
    assert memory_rss.slope_mb_per_100k(growing) == pytest.approx(2.0)


def test_train_vs_trl_on_an_encoder_and_the_long_workload(tiny_bert, capsys):
    pytest.importorskip("trl")
    import train_vs_trl

    figures = train_vs_trl.main(["--backbone", tiny_bert, "--workload", "long", "--max-length", "256", "--steps", "4",
                                 "--pairs", "60", "--batch-size", "2", "--rounds", "1", "--no-save"])
    assert figures["settings"]["workload"] == "long" and figures["pairs_left_out_over_max_length"] > 0
    assert figures["rounds"][0]["peer_pairs_kept"] == 4 * 2
    assert "train BT tiny_bert" in printed_ratio(capsys)


def test_trl_padding_counts_tokens_computed_against_real_ones():
    from trl_step_profile import padding

    # pairs (chosen, rejected): (3, 5), (2, 2), (4, 1); batches of 2 in the order 2, 0 | 1 (last one dropped)
    figures = padding([3, 5, 2, 2, 4, 1], [2, 0, 1], batch_size=2)
    assert figures["steps"] == 1 and figures["real_tokens_per_step"] == 13 and figures["padded_tokens_per_step"] == 20
    assert padding([3, 3, 3, 3], [0, 1], batch_size=2)["padded_over_real"] == 1.0


def test_trl_step_profile_counts_the_recomputation_of_gradient_checkpointing(tiny_llama, capsys):
    pytest.importorskip("trl")
    import trl_step_profile

    common = ["--backbone", tiny_llama, "--max-length", "128", "--batch-size", "2", "--steps", "2", "--pairs", "60",
              "--profile"]
    peer = trl_step_profile.main(common + ["--config", "peer"])
    defaults = trl_step_profile.main(common + ["--config", "trl-defaults"])
    assert peer["padded_over_real"] == defaults["padded_over_real"] >= 1.0
    assert len(peer["step_seconds"]) == 2 and peer["torch_threads_in_step"]
    assert defaults["gflop_per_step"] > 1.1 * peer["gflop_per_step"] > 0  # the forward runs twice
    assert "GFLOP per step" in capsys.readouterr().out


@pytest.mark.skipif(not supports_bf16(), reason="this CPU has no native bf16 (AVX-512 BF16 or AMX)")
def test_train_vs_trl_in_bf16_with_trl_checkpointing(tiny_llama, capsys):
    pytest.importorskip("trl")
    import train_vs_trl

    figures = train_vs_trl.main(["--backbone", tiny_llama, "--workload", "long", "--max-length", "256", "--steps",
                                 "4", "--pairs", "60", "--batch-size", "2", "--rounds", "1", "--dtype", "bf16",
                                 "--trl-gradient-checkpointing", "--no-save"])
    assert figures["settings"]["dtype"] == "bf16" and figures["settings"]["trl_gradient_checkpointing"]
    assert "long 256 bf16 TRL-checkpointing] peer=" in printed_ratio(capsys)
