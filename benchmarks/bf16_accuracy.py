"""Accuracy change of bf16 scoring against fp32, on the verifiable suite, for one model folder.

    python benchmarks/bf16_accuracy.py [--model DIR | --backbone smollm2] [--suite-pairs 800]
                                       [--workload short|long] [--max-length N]

Both precisions score the same pairs with the same weights (bf16: autocast, head in fp32; see
rewardkit/models/precision.py). Printed: each accuracy (ties wrong), the change in points, how many pairs changed
sides (a paired count, so it says more than the two accuracies alone), a 95% interval for the change, and the
largest reward change relative to the spread of the fp32 rewards. `--workload long` puts each pair after a
multi-turn conversation of real preference-data length (benchmarks/workloads.py), so rounding accumulates over
realistic sequence lengths.
Without --model, the cached benchmark MiniLM reward model; `--backbone smollm2`: a SmolLM2-135M BT model trained once
by rewardkit (bench_data.trained_model, 200 steps of 8 pairs). Needs a CPU with native bf16 (AVX-512 BF16 or AMX).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import long_context_pairs, model_argument, trained_model  # noqa: E402
from common import quiet, save_results  # noqa: E402
from score_onnx import verifiable_suite  # noqa: E402


def margins(model, suite) -> list[float]:
    from rewardkit.models.base import compare

    return list(compare(model, [sp.pair for sp in suite]))


def compared(exact: list[float], rounded: list[float]) -> dict:
    """Accuracies (ties wrong), their change in points with a 95% interval, pairs whose verdict changed, largest
    margin change.

    The change is paired: only the pairs that changed verdict move it, `gained` (now right) minus `lost` (now
    wrong), over n. Its standard error is √(gained + lost − (gained − lost)²/n) / n (McNemar), so a suite whose
    change interval is wider than the bound cannot show the bound either way; more pairs narrow it as 1/√n.

    >>> figures = compared([1.0, -0.5, 0.2, 0.3], [0.9, -0.4, -0.1, 0.4])
    >>> figures["flipped"], figures["change_points"], round(figures["change_interval_points"][1], 1)
    (1, -25.0, 17.4)
    """
    right = [m > 0 for m in exact], [m > 0 for m in rounded]
    accuracy = [sum(r) / len(r) for r in right]
    n = len(exact)
    gained = sum(b and not a for a, b in zip(*right))
    lost = sum(a and not b for a, b in zip(*right))
    change = 100 * (gained - lost) / n
    half_width = 196 * max(gained + lost - (gained - lost) ** 2 / n, 0.0) ** 0.5 / n
    spread = (max(exact) - min(exact)) or 1.0
    return {"fp32_accuracy": accuracy[0], "bf16_accuracy": accuracy[1], "change_points": change,
            "change_interval_points": [change - half_width, change + half_width],
            "flipped": gained + lost, "gained": gained, "lost": lost,
            "max_margin_change_relative": max(abs(a - b) for a, b in zip(exact, rounded)) / spread}


def run(model_dir: Path, suite_pairs: int, workload: str, max_length: int | None) -> dict:
    import rewardkit

    suite = verifiable_suite(suite_pairs)
    if workload == "long":
        suite = long_context_pairs(suite, seed=5)
    options = {"max_length": max_length} if max_length else {}
    exact = margins(rewardkit.load(str(model_dir), **options), suite)
    rounded = margins(rewardkit.load(str(model_dir), dtype="bf16", **options), suite)
    return {"model": str(model_dir), "workload": workload, "max_length": max_length, "suite_pairs": len(suite),
            **compared(exact, rounded)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="reward model folder (default: the cached benchmark MiniLM RM)")
    parser.add_argument("--backbone", help="a decoder instead: a BT head on this backbone ('smollm2' or a folder) "
                                           "trained once by rewardkit (bench_data.trained_model)")
    parser.add_argument("--suite-pairs", type=int, default=800)
    parser.add_argument("--workload", choices=["short", "long"], default="short")
    parser.add_argument("--max-length", type=int, help="tokens per sample (default: the model's own)")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args(argv)
    quiet()
    if args.model and args.backbone:
        parser.error("give --model or --backbone, not both")
    model_dir = trained_model(args.backbone) if args.backbone else model_argument(args.model)
    figures = run(model_dir, args.suite_pairs, args.workload, args.max_length)
    low, high = figures["change_interval_points"]
    print(f"verifiable suite ({figures['suite_pairs']} pairs, {figures['workload']} workload): "
          f"fp32={figures['fp32_accuracy']:.4f} bf16={figures['bf16_accuracy']:.4f} "
          f"change={figures['change_points']:+.2f} pt (95% interval {low:+.2f} .. {high:+.2f}); "
          f"{figures['flipped']} pairs changed verdict ({figures['gained']} now right, {figures['lost']} now wrong); "
          f"largest margin change {100 * figures['max_margin_change_relative']:.2f}% of the fp32 spread")
    if not args.no_save:
        suffix = f"_{Path(args.backbone).name}" if args.backbone else ""
        save_results(f"bf16_accuracy_{figures['workload']}{suffix}", figures)
    return figures


if __name__ == "__main__":
    main()
