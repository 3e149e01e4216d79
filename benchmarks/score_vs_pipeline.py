"""Scoring throughput, fp32: `transformers.pipeline("text-classification")` vs `rewardkit score`, same model,
same text pairs, same batch size, alternating rounds in one process. Scores must agree to 1e-4.

    python benchmarks/score_vs_pipeline.py [--model DIR] [--pairs 512] [--rounds 5] [--batch-size 32]

Without --model, a MiniLM reward model is trained by rewardkit once (runs/bench/minilm-bt) and reused.
Ours is the work `rewardkit score` does after loading the model: read the JSONL, encode, score in
length-sorted batches, write the annotated JSONL. The peer gets the already-built text pairs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import model_argument, synth_splits, write_pairs_jsonl  # noqa: E402
from common import interleaved, quiet, ratio_line, save_results, scoring_parser  # noqa: E402
from peers import PipelinePeer, pipeline_inputs  # noqa: E402

TOLERANCE = 1e-4


def scored_rewards(path: Path) -> list[float]:
    """Rewards of an output JSONL in sample order (chosen, rejected per pair)."""
    rewards: list[float] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            rewards += [row["reward_chosen"], row["reward_rejected"]] if "reward_chosen" in row else [row["reward"]]
    return rewards


def benchmark_pairs(n_pairs: int, seed: int = 7):
    """`n_pairs` verifiable pairs from every family (train, test and held-out families alike)."""
    train, test, heldout = synth_splits(max(n_pairs * 2, 64), seed)
    return (test + heldout + train)[:n_pairs]


def run(model_dir: Path, n_pairs: int, rounds: int, batch_size: int, work: Path) -> dict:
    import rewardkit
    from rewardkit.scale.batch_scoring import score_jsonl

    pairs = benchmark_pairs(n_pairs)
    source = write_pairs_jsonl(work / "score_input.jsonl", pairs)
    inputs = pipeline_inputs([s for sp in pairs for s in sp.pair.samples()])
    peer, ours = PipelinePeer(str(model_dir), batch_size), rewardkit.load(str(model_dir))
    output = work / "score_output.jsonl"
    peer_scores = peer.score(inputs[: 2 * batch_size])  # warm both up once
    score_jsonl(ours, str(source), str(output), batch_size=batch_size)
    box: dict = {}
    rounds_ = interleaved(lambda: box.__setitem__("peer", peer.score(inputs)),
                          lambda: score_jsonl(ours, str(source), str(output), batch_size=batch_size), rounds)
    peer_scores, our_scores = box["peer"], scored_rewards(output)
    difference = max(abs(a - b) for a, b in zip(peer_scores, our_scores))
    return {
        "pairs": n_pairs, "batch_size": batch_size, "rounds": rounds, "model": str(model_dir),
        "peer": "transformers.pipeline('text-classification', function_to_apply='none', batch_size=%d)" % batch_size,
        "peer_pairs_per_s": [n_pairs / t for t in rounds_.peer],
        "ours_pairs_per_s": [n_pairs / t for t in rounds_.ours],
        "median_peer_pairs_per_s": n_pairs / sorted(rounds_.peer)[len(rounds_.peer) // 2],
        "median_ours_pairs_per_s": n_pairs / sorted(rounds_.ours)[len(rounds_.ours) // 2],
        "ratio": rounds_.ratio, "max_abs_score_difference": difference, "scores_identical": difference <= TOLERANCE,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = scoring_parser(__doc__.splitlines()[0], pairs=512, work="score")
    args = parser.parse_args(argv)
    quiet()
    figures = run(model_argument(args.model), args.pairs, args.rounds, args.batch_size, Path(args.work))
    print(ratio_line(figures["median_peer_pairs_per_s"], figures["median_ours_pairs_per_s"], figures["ratio"],
                     "pairs/s", "score fp32"))
    print(f"max |pipeline − rewardkit| score = {figures['max_abs_score_difference']:.2e} "
          f"({'identical' if figures['scores_identical'] else 'DIFFERENT'} at {TOLERANCE})")
    if not args.no_save:
        save_results("score_vs_pipeline", figures)
    return figures


if __name__ == "__main__":
    main()
