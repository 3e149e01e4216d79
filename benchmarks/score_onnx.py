"""The low-precision CPU path: `rewardkit export --format onnx [--int8]` and scoring through ONNX Runtime, vs
`transformers.pipeline("text-classification")` on the original fp32 model, alternating rounds in one process;
plus the accuracy change on the verifiable suite (rewardkit.synth pairs: held-out test pairs of the training
families and pairs of families never trained on).

int8 runs in every scheme this CPU computes exactly (rewardkit/export/int8_scheme.py): u8s8 where VNNI or AMX
is present, and always u8s7, the scheme CPUs without VNNI get. Its integer results are the same on every CPU,
so its accuracy measured here is the accuracy an AVX2-only CPU gets (its speed there is not measured here).

    python benchmarks/score_onnx.py [--model DIR] [--workload short|long] [--max-length N] [--pairs 512]
                                    [--rounds 5] [--suite-pairs 800]

Without --model, a MiniLM reward model is trained by rewardkit once (runs/bench/minilm-bt) and reused.
Workloads as in score_vs_pipeline.py: `short`, the verifiable suite's pairs (max_length 128), and `long`, the same
pairs after a multi-turn conversation of real preference-data length (benchmarks/workloads.py; max_length 512
unless told). Every side (pipeline, PyTorch, ONNX) then reads up to max_length tokens; the suite accuracy is taken
on the same kind of input, and agreement with the pipeline on the samples that fit (the pipeline truncates its
own way).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import long_context_pairs, model_argument, synth_splits, write_pairs_jsonl  # noqa: E402
from common import interleaved, machine_line, quiet, ratio_line, save_results, scoring_parser  # noqa: E402
from peers import PipelinePeer, pipeline_inputs  # noqa: E402
from score_vs_pipeline import benchmark_pairs, scored_rewards  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def exported(model_dir: Path, out: Path, int8_scheme: str | None) -> tuple[Path, float]:
    """The ONNX export of `model_dir` (made now, timed): fp32, or int8 in `int8_scheme`."""
    from common import timed
    from rewardkit.export import export_onnx

    seconds, _ = timed(lambda: export_onnx(model_dir, out, int8=int8_scheme is not None,
                                           int8_scheme=int8_scheme or "auto"))
    return out, seconds


def int8_schemes() -> list[str]:
    """The int8 schemes this CPU computes exactly: u8s8 (with VNNI/AMX) and u8s7 (everywhere)."""
    from rewardkit.export.int8_scheme import exact_schemes, pair_sums_saturate

    return [scheme.name for scheme in exact_schemes(pair_sums_saturate())]


def suite_accuracy(model, suite, batch_size: int | None = None) -> float:
    """Pairwise accuracy (ties wrong) on SynthPairs, scored in batches of `batch_size` (None: the model's default)."""
    from rewardkit.evaluation.pairwise import pairwise_accuracy
    from rewardkit.models.base import compare

    return pairwise_accuracy(compare(model, [sp.pair for sp in suite], batch_size))


BATCH_SIZES_FOR_INT8_ACCURACY = (1, 8, 32, 128)
"""int8 quantises most activations with one scale per batch, so a reward depends a little on the texts beside it:
its suite accuracy is measured at each of these batch sizes too."""


def verifiable_suite(n_pairs: int, seed: int = 11):
    """Held-out pairs: in-family test pairs and unseen-family pairs, never in the benchmark model's training."""
    _, test, heldout = synth_splits(n_pairs * 3, seed)
    half = n_pairs // 2
    return test[:half] + heldout[: n_pairs - half]


def throughput(variants: dict, peer, inputs, source: Path, work: Path, batch_size: int, rounds: int, n: int) -> dict:
    """pairs/s of each variant against the pipeline, interleaved round by round."""
    from rewardkit.scale.batch_scoring import score_jsonl

    figures = {}
    for name, model in variants.items():
        output = work / f"score_{name}.jsonl"
        score_jsonl(model, str(source), str(output), batch_size=batch_size)  # warm-up
        r = interleaved(lambda: peer.score(inputs),
                        lambda: score_jsonl(model, str(source), str(output), batch_size=batch_size), rounds)
        figures[name] = {"median_peer_pairs_per_s": n / statistics.median(r.peer),
                         "median_ours_pairs_per_s": n / statistics.median(r.ours), "ratio": r.ratio,
                         "rewards": scored_rewards(output)}
    return figures


def run(model_dir: Path, n_pairs: int, rounds: int, batch_size: int, suite_pairs: int, work: Path,
        workload: str = "short", max_length: int | None = None, peer_batch_size: int | str = "best") -> dict:
    import rewardkit

    from rewardkit.export.int8_scheme import cpu_record

    folders = {"onnx-fp32": exported(model_dir, work / "onnx-fp32", None)}
    folders.update({f"onnx-int8-{scheme}": exported(model_dir, work / f"onnx-int8-{scheme}", scheme)
                    for scheme in int8_schemes()})
    length = {"max_length": max_length} if max_length else {}  # None: the model's own (short workload)
    torch_model = rewardkit.load(str(model_dir), **length)
    variants = {name: rewardkit.load(str(folder), **length) for name, (folder, _) in folders.items()}
    pairs = benchmark_pairs(n_pairs, workload=workload)
    source = write_pairs_jsonl(work / "score_input.jsonl", pairs)
    peer = PipelinePeer(str(model_dir), peer_batch_size, max_length)
    samples = [s for sp in pairs for s in sp.pair.samples()]
    inputs = pipeline_inputs(samples)
    peer.choose_batch_size(inputs)
    fits = [not e.truncated for e in torch_model.encoder.encode_many(samples)]
    figures = throughput(variants, peer, inputs, source, work, batch_size, rounds, n_pairs)
    reference = peer.score(inputs)
    for name in variants:
        rewards = figures[name].pop("rewards")
        figures[name]["max_abs_score_difference"] = max(
            (abs(a - b) for a, b, fit in zip(reference, rewards, fits) if fit), default=0.0)
    suite = verifiable_suite(suite_pairs)
    if workload == "long":
        suite = long_context_pairs(suite, seed=5)
    accuracy = {"torch-fp32": suite_accuracy(torch_model, suite),
                **{name: suite_accuracy(model, suite) for name, model in variants.items()}}
    by_batch_size = {name: {size: suite_accuracy(model, suite, size) for size in BATCH_SIZES_FOR_INT8_ACCURACY}
                     for name, model in variants.items() if "int8" in name}
    return {"pairs": n_pairs, "rounds": rounds, "batch_size": batch_size, "model": str(model_dir),
            "peer": peer.describe(), "peer_batch_size": peer.batch_size,
            "peer_samples_per_s_by_batch_size": peer.sweep,
            "workload": workload, "max_length": torch_model.options.max_length,
            "samples_truncated": fits.count(False), "cpu": cpu_record(),
            "export_seconds": {name: seconds for name, (_, seconds) in folders.items()},
            "suite_pairs": len(suite), "suite_accuracy": accuracy,
            "accuracy_change_points": {name: 100 * (accuracy[name] - accuracy["torch-fp32"]) for name in variants},
            "int8_accuracy_by_batch_size": by_batch_size,
            **figures}


def main(argv: list[str] | None = None) -> dict:
    parser = scoring_parser(__doc__.splitlines()[0], pairs=512, work="onnx")
    parser.add_argument("--suite-pairs", type=int, default=800)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="short")
    parser.add_argument("--max-length", type=int, help="tokens per sample (default: the model's own for short, "
                                                         "512 for long)")
    args = parser.parse_args(argv)
    quiet()
    max_length = args.max_length or (WORKLOADS["long"] if args.workload == "long" else None)
    figures = run(model_argument(args.model), args.pairs, args.rounds, args.batch_size, args.suite_pairs,
                  Path(args.work), args.workload, max_length, args.peer_batch_size)
    cpu = figures["cpu"]
    print(f"CPU: {cpu['cpu']} (torch dispatch {cpu['isa']}; uint8×int8 pair sums saturate: {cpu['u8s8_saturates']})")
    acc, change = figures["suite_accuracy"], figures["accuracy_change_points"]
    workload = f"{figures['workload']} {figures['max_length']}"
    for name in change:
        f = figures[name]
        print(ratio_line(f["median_peer_pairs_per_s"], f["median_ours_pairs_per_s"], f["ratio"], "pairs/s",
                         f"score {name} {workload}") + f"  max|Δscore| vs pipeline={f['max_abs_score_difference']:.2e}")
    print(f"({figures['samples_truncated']} of {2 * figures['pairs']} samples longer than max_length: left out of "
          "max|Δscore|)")
    print(f"verifiable-suite accuracy ({figures['suite_pairs']} pairs, {workload}): "
          f"torch fp32={acc['torch-fp32']:.4f} " +
          " ".join(f"{name}={acc[name]:.4f} ({change[name]:+.2f} pt)" for name in change))
    for name, by_size in figures["int8_accuracy_by_batch_size"].items():
        values = list(by_size.values())
        print(f"{name} suite accuracy by batch size: " + " ".join(f"{size}: {a:.4f}" for size, a in by_size.items())
              + f" (range {100 * (max(values) - min(values)):.2f} pt)")
    print(f"peer: {figures['peer']}")
    print(machine_line())
    if not args.no_save:
        save_results("score_onnx" if args.workload == "short" and not args.max_length
                     else f"score_onnx_{args.workload}_{figures['max_length']}", figures)
    return figures


if __name__ == "__main__":
    main()
