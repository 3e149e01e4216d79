"""Would quantising every int8 projection's activations per token (not only the early feed-forward
down-projections) make int8 rewards independent of the batch, and at what speed?

    python experiments/int8_rows_everywhere.py [--rounds 3]    # ≈ 5 min on 2 cores, run alone

Exports the benchmark MiniLM reward model (benchmarks/bench_data.trained_model) twice in the u8s8 scheme (u8s7
where the CPU's kernels saturate): as `rewardkit export --int8` does (per-batch activation scales, per-token for
the first third of the down-projections: rewardkit/export/quantize.py), and with every MatMul that has a
constant weight quantised per token (rewardkit/export/row_quantize.py). For each: verifiable-suite accuracy at
batch sizes 1, 8, 32 and 128 (651 pairs), the largest change of any reward between batch size 1 and 32, and
seconds to score the suite at batch 32 (median of interleaved rounds). Results:
experiments/results/int8_rows_everywhere.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def constant_weight_matmuls(graph, fraction: float = 1.0) -> list[str]:  # feed_forward_down's signature
    """Every MatMul or Gemm whose second input is a 2-D initializer (a projection), whatever it reads."""
    weights = {t.name for t in graph.initializer if len(t.dims) == 2}
    return [node.name for node in graph.node if node.op_type in ("MatMul", "Gemm") and node.input[1] in weights]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    import rewardkit
    import rewardkit.export.quantize as quantize
    from bench_data import trained_model
    from common import CACHE, machine, quiet
    from rewardkit.export import export_onnx
    from rewardkit.evaluation.pairwise import pairwise_accuracy
    from score_onnx import BATCH_SIZES_FOR_INT8_ACCURACY, int8_schemes, verifiable_suite

    quiet()
    model_dir = trained_model("minilm")
    scheme = int8_schemes()[0]
    work = CACHE / "int8_rows_everywhere"
    folders = {"per batch (default)": work / "default"}
    export_onnx(model_dir, folders["per batch (default)"], int8=True, int8_scheme=scheme)
    folders["per token everywhere"] = work / "rows"
    with mock.patch.object(quantize, "feed_forward_down", constant_weight_matmuls):
        export_onnx(model_dir, folders["per token everywhere"], int8=True, int8_scheme=scheme)
    for name, folder in folders.items():
        rows = json.loads((folder / "rewardkit.json").read_text())["onnx"]["row_quantised_nodes"]
        print(f"{name}: {len(rows)} projections quantised per token")
    suite = verifiable_suite(800)
    samples = [s for sp in suite for s in sp.pair.samples()]
    models = {name: rewardkit.load(str(folder)) for name, folder in folders.items()}
    figures = {"scheme": scheme, "suite_pairs": len(suite), "machine": machine(), "variants": {}}
    seconds = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.score(samples, batch_size=32)
            seconds[name].append(time.perf_counter() - start)
    for name, model in models.items():
        rewards = {size: model.score(samples, batch_size=size).rewards for size in BATCH_SIZES_FOR_INT8_ACCURACY}
        by_size = {size: pairwise_accuracy([r[2 * i] - r[2 * i + 1] for i in range(len(suite))])  # pairs in order
                   for size, r in rewards.items()}
        change = max(abs(a - b) for a, b in zip(rewards[1], rewards[32]))
        figures["variants"][name] = {"accuracy_by_batch_size": by_size, "max_reward_change_batch_1_vs_32": change,
                                     "median_seconds_batch_32": statistics.median(seconds[name])}
        print(f"{name}: accuracy by batch size " + " ".join(f"{k}: {v:.4f}" for k, v in by_size.items())
              + f"; max |reward(batch 1) − reward(batch 32)| {change:.2e}"
              f"; {statistics.median(seconds[name]):.2f} s for {len(samples)} texts at batch 32")
    out = ROOT / "experiments" / "results" / "int8_rows_everywhere.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
