"""Scoring throughput: `transformers.pipeline("text-classification")` in fp32 vs `rewardkit score` in fp32 or bf16,
same model, same texts, same batch size, alternating rounds in one process. fp32 scores must agree to 1e-4.

    python benchmarks/score_vs_pipeline.py [--model DIR | --backbone smollm2] [--workload short|long]
                                           [--max-length N] [--dtype fp32|bf16] [--pairs 512] [--rounds 5]
                                           [--batch-size 32]

Without --model, a MiniLM reward model is trained by rewardkit once (runs/bench/minilm-bt) and reused;
`--backbone smollm2` scores with a new head on the shipped SmolLM2-135M-Instruct decoder instead (saved once
under runs/bench/; speed and agreement do not depend on training). Workloads: `short`, the verifiable suite's
pairs (max_length 128), and `long`, the same pairs after a multi-turn conversation of real preference-data
length (benchmarks/workloads.py; max_length 512 unless told, 1024 is the other figure to take).
Ours is the work `rewardkit score` does after loading the model: read the JSONL, encode, score in
length-sorted batches, write the annotated JSONL. The peer gets the already-built texts (text pairs for an
encoder, the chat-template rendering for a decoder) and truncates at max_length its own way, so agreement is
checked on the samples that fit.

`--dtype bf16` scores ours under bf16 autocast (head in fp32; rewardkit/models/precision.py) against the same fp32
pipeline: the issue's "≥ 3× with bf16" figure. It needs a CPU with native bf16 (AVX-512 BF16 or AMX) and stops
with exit code 2 and the reason elsewhere (emulated bf16 is slower than fp32, so the figure would mean nothing).
bf16 scores differ from fp32 by rounding: printed is the largest difference relative to the pipeline's score
spread; the accuracy change is benchmarks/bf16_accuracy.py's figure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import (decoder_reward_model, long_context_pairs, model_argument, synth_splits,  # noqa: E402
                        write_pairs_jsonl)
from common import interleaved, machine_line, quiet, ratio_line, save_results, scoring_parser  # noqa: E402
from peers import PipelinePeer, pipeline_inputs  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

TOLERANCE = 1e-4


def scored_rewards(path: Path) -> list[float]:
    """Rewards of an output JSONL in sample order (chosen, rejected per pair)."""
    rewards: list[float] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            rewards += [row["reward_chosen"], row["reward_rejected"]] if "reward_chosen" in row else [row["reward"]]
    return rewards


def benchmark_pairs(n_pairs: int, seed: int = 7, workload: str = "short"):
    """`n_pairs` verifiable pairs from every family (train, test and held-out families alike); for the long
    workload, each after a conversation of realistic length."""
    train, test, heldout = synth_splits(max(n_pairs * 2, 64), seed)
    pairs = (test + heldout + train)[:n_pairs]
    return long_context_pairs(pairs, seed) if workload == "long" else pairs


def run(model_dir: Path, n_pairs: int, rounds: int, batch_size: int, work: Path, workload: str = "short",
        max_length: int | None = None, dtype: str = "fp32", peer_batch_size: int | str = "best") -> dict:
    import rewardkit
    from rewardkit.scale.batch_scoring import score_jsonl

    max_length = max_length or WORKLOADS[workload]
    pairs = benchmark_pairs(n_pairs, workload=workload)
    source = write_pairs_jsonl(work / "score_input.jsonl", pairs)
    samples = [s for sp in pairs for s in sp.pair.samples()]
    peer = PipelinePeer(str(model_dir), peer_batch_size, max_length)
    ours = rewardkit.load(str(model_dir), max_length=max_length, dtype=dtype)
    inputs = pipeline_inputs(samples, peer.tokenizer)
    fits = [not e.truncated for e in ours.encoder.encode_many(samples)]
    output = work / "score_output.jsonl"
    peer.choose_batch_size(inputs)
    peer_scores = peer.score(inputs[: 2 * batch_size])  # warm both up once
    score_jsonl(ours, str(source), str(output), batch_size=batch_size)
    box: dict = {}
    rounds_ = interleaved(lambda: box.__setitem__("peer", peer.score(inputs)),
                          lambda: score_jsonl(ours, str(source), str(output), batch_size=batch_size), rounds)
    peer_scores, our_scores = box["peer"], scored_rewards(output)
    difference = max((abs(a - b) for a, b, fit in zip(peer_scores, our_scores, fits) if fit), default=0.0)
    spread = (max(peer_scores) - min(peer_scores)) or 1.0
    return {
        "pairs": n_pairs, "batch_size": batch_size, "rounds": rounds, "model": str(model_dir),
        "workload": workload, "max_length": max_length, "samples_truncated": fits.count(False), "dtype": dtype,
        "peer": peer.describe() + ", fp32", "peer_batch_size": peer.batch_size,
        "peer_samples_per_s_by_batch_size": peer.sweep,
        "peer_pairs_per_s": [n_pairs / t for t in rounds_.peer],
        "ours_pairs_per_s": [n_pairs / t for t in rounds_.ours],
        "median_peer_pairs_per_s": n_pairs / sorted(rounds_.peer)[len(rounds_.peer) // 2],
        "median_ours_pairs_per_s": n_pairs / sorted(rounds_.ours)[len(rounds_.ours) // 2],
        "ratio": rounds_.ratio, "max_abs_score_difference": difference, "scores_identical": difference <= TOLERANCE,
        "max_score_difference_relative_to_spread": difference / spread,
    }


def agreement_line(figures: dict) -> str:
    """How our scores compare with the pipeline's: equal to 1e-4 in fp32, near (relative to the spread) in bf16."""
    where = f"over the samples that fit ({figures['samples_truncated']} truncated)"
    if figures["dtype"] == "fp32":
        verdict = "identical" if figures["scores_identical"] else "DIFFERENT"
        return (f"max |pipeline − rewardkit| score = {figures['max_abs_score_difference']:.2e} {where} "
                f"({verdict} at {TOLERANCE})")
    return (f"max |pipeline fp32 − rewardkit {figures['dtype']}| score = {figures['max_abs_score_difference']:.2e} "
            f"{where}, {100 * figures['max_score_difference_relative_to_spread']:.2f}% of the pipeline's score "
            f"spread (rounding; accuracy change: benchmarks/bf16_accuracy.py)")


def main(argv: list[str] | None = None) -> dict:
    parser = scoring_parser(__doc__.splitlines()[0], pairs=512, work="score")
    parser.add_argument("--backbone", help="score with a new head on this backbone ('smollm2' or a folder) "
                                           "instead of --model")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="short")
    parser.add_argument("--max-length", type=int, help="tokens per sample (default: 128 short, 512 long)")
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32",
                        help="rewardkit's precision (the pipeline stays fp32); bf16 needs native bf16")
    args = parser.parse_args(argv)
    quiet()
    if args.backbone and args.model:
        parser.error("give --model or --backbone, not both")
    from rewardkit.errors import ConfigError
    from rewardkit.models.precision import check_dtype

    try:
        check_dtype(args.dtype)
    except ConfigError as err:
        parser.exit(2, f"score_vs_pipeline: no {args.dtype} figure on this machine: {err}\n")
    name = Path(args.backbone).name if args.backbone else ""
    model_dir = (decoder_reward_model(args.backbone, Path(args.work) / f"{name}-rm") if args.backbone
                 else model_argument(args.model))
    figures = run(model_dir, args.pairs, args.rounds, args.batch_size, Path(args.work), args.workload,
                  args.max_length, args.dtype, args.peer_batch_size)
    label = f"score {args.dtype} {args.workload} {figures['max_length']}" + (f" {name}" if name else "")
    print(ratio_line(figures["median_peer_pairs_per_s"], figures["median_ours_pairs_per_s"], figures["ratio"],
                     "pairs/s", label))
    print(agreement_line(figures))
    print(f"peer: {figures['peer']}")
    print(machine_line())
    if not args.no_save:
        suffix = "".join(f"_{part}" for part in (name, args.workload if args.workload != "short" else "",
                                                 str(args.max_length or ""),
                                                 args.dtype if args.dtype != "fp32" else "") if part)
        save_results("score_vs_pipeline" + suffix, figures)
    return figures


if __name__ == "__main__":
    main()
