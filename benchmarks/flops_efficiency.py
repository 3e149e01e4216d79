"""Efficiency against the machine's limit: this machine's peak fp32 matmul FLOP/s, measured in the same run,
vs the model FLOP/s `rewardkit score` achieves (fp32, PyTorch) on the same threads.

    python benchmarks/flops_efficiency.py [--model DIR] [--pairs 256] [--rounds 5]

peer = peak: the best of several large square fp32 matmuls (torch.mm, all threads), in GFLOP/s.
ours = the model FLOPs of scoring (counted by torch.utils.flop_counter on the length-sorted batches actually
run: matmuls and attention, padding included, ~1% here) divided by the scoring wall time, in GFLOP/s.
ratio = ours / peak, the fraction of the machine's fp32 matmul limit reached end to end (JSONL in, JSONL out).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import model_argument, write_pairs_jsonl  # noqa: E402
from common import quiet, save_results, scoring_parser  # noqa: E402
from score_vs_pipeline import benchmark_pairs  # noqa: E402


def peak_matmul_flops(size: int = 2048, repeats: int = 8) -> float:
    """Best observed fp32 FLOP/s of an n×n @ n×n matmul (2n³ FLOPs) on torch's threads."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best


def scoring_flops(model, samples, batch_size: int) -> int:
    """FLOPs of one scoring pass over `samples`, as batched by `ScalarRewardModel.outputs_for`."""
    from torch.utils.flop_counter import FlopCounterMode

    encoded = model.encoder.encode_many(samples)
    with FlopCounterMode(display=False) as counter:
        model.outputs_for(encoded, batch_size)
    return counter.get_total_flops()


def run(model_dir: Path, n_pairs: int, rounds: int, batch_size: int, work: Path) -> dict:
    import rewardkit
    from rewardkit.scale.batch_scoring import score_jsonl

    model = rewardkit.load(str(model_dir))
    pairs = benchmark_pairs(n_pairs)
    source = write_pairs_jsonl(work / "score_input.jsonl", pairs)
    flops = scoring_flops(model, [s for sp in pairs for s in sp.pair.samples()], batch_size)
    score_jsonl(model, str(source), str(work / "out.jsonl"), batch_size=batch_size)  # warm-up
    peaks, achieved = [], []
    for _ in range(rounds):  # peak and scoring alternate, so both see the same load
        peaks.append(peak_matmul_flops())
        started = time.perf_counter()
        score_jsonl(model, str(source), str(work / "out.jsonl"), batch_size=batch_size)
        achieved.append(flops / (time.perf_counter() - started))
    return {"pairs": n_pairs, "rounds": rounds, "batch_size": batch_size, "model": str(model_dir),
            "model_gflop_per_pass": flops / 1e9, "peak_gflops": [p / 1e9 for p in peaks],
            "achieved_gflops": [a / 1e9 for a in achieved],
            "median_peak_gflops": statistics.median(peaks) / 1e9,
            "median_achieved_gflops": statistics.median(achieved) / 1e9,
            "fraction": statistics.median(a / p for a, p in zip(achieved, peaks))}


def main(argv: list[str] | None = None) -> dict:
    parser = scoring_parser(__doc__.splitlines()[0], pairs=256, work="flops", peer=False)
    args = parser.parse_args(argv)
    quiet()
    f = run(model_argument(args.model), args.pairs, args.rounds, args.batch_size, Path(args.work))
    print(f"[flops fp32] peer={f['median_peak_gflops']:.4g} GFLOP/s (peak matmul) "
          f"ours={f['median_achieved_gflops']:.4g} GFLOP/s (scoring) ratio={f['fraction']:.2f}")
    if not args.no_save:
        save_results("flops_efficiency", f)
    return f


if __name__ == "__main__":
    main()
