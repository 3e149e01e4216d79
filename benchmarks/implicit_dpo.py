"""Implicit DPO rewards, β · Σ_response (log πθ − log πref): the concatenated padded forward DPO trainers and
RewardBench's DPO script use vs rewardkit's `implicit:dpo` scoring, same models, same pairs, alternating rounds.

    python benchmarks/implicit_dpo.py [--workload short|long] [--max-length N] [--pairs 48] [--rounds 3]
                                      [--batch-size 8] [--peer-pairs-per-batch best|N]

Policy: the shipped SmolLM2-135M-Instruct with every weight perturbed a little (bench_data.perturbed_policy,
saved once under runs/bench/); reference: SmolLM2-135M-Instruct itself. Pairs: the verifiable suite's, and for the
`long` workload each after a multi-turn conversation of real preference-data length (benchmarks/workloads.py;
max_length 512 unless told). Each pair is scored as two samples (chosen, rejected).

The peer (peers.ConcatenatedDPOPeer) gets rewardkit's token ids, so the rewards must agree (to 1e-3); its
tokenisation is not timed, ours is (`model.score` on the samples). The reference's log-probability cache is
emptied before every round of ours, so each round computes everything once, as a first pass over a dataset does.
`--peer-pairs-per-batch best` (default): the fastest of 1, 2, 4 and 8 pairs per forward on a spread of the pairs,
measured in the same run. Printed: pairs/s of each, the ratio, and the tokens each side runs through the network
(the peer: padded grid cells; rewardkit: real tokens, each pair's shared prompt once).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import perturbed_policy  # noqa: E402
from common import interleaved, machine_line, peer_batch_size, quiet, ratio_line, save_results  # noqa: E402
from peers import ConcatenatedDPOPeer  # noqa: E402
from score_vs_pipeline import benchmark_pairs  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

TOLERANCE = 1e-3
PEER_PAIRS_PER_BATCH = (1, 2, 4, 8)


def peer_tokens(encoded_pairs, pairs_per_batch: int) -> int:
    """Grid cells the peer's forwards run: each batch of pairs padded to its longest sequence."""
    cells = 0
    for start in range(0, len(encoded_pairs), pairs_per_batch):
        items = [e for pair in encoded_pairs[start: start + pairs_per_batch] for e in pair]
        cells += len(items) * max(len(e.input_ids) for e in items)
    return cells


def our_tokens(encoded_pairs) -> int:
    """Real tokens, a pair's shared prefix once (what the packed forward runs when a pair shares a batch)."""
    from rewardkit.data.batching import common_prefix

    return sum(len(c.input_ids) + len(r.input_ids) - common_prefix(c.input_ids, r.input_ids)
               for c, r in encoded_pairs)


def choose_pairs_per_batch(peer: ConcatenatedDPOPeer, encoded_pairs, n: int = 16) -> tuple[int, dict]:
    spread = list(encoded_pairs[:: max(1, len(encoded_pairs) // n)])[:n]
    peer.rewards(spread[:2])  # warm-up
    rates = {}
    for size in PEER_PAIRS_PER_BATCH:
        peer.pairs_per_batch = size
        start = time.perf_counter()
        peer.rewards(spread)
        rates[size] = len(spread) / (time.perf_counter() - start)
    return max(rates, key=rates.get), rates


def run(workload: str, max_length: int, n_pairs: int, rounds: int, batch_size: int, peer_pairs: int | str) -> dict:
    from rewardkit.models.implicit import build_implicit
    from rewardkit.models.logprobs import LogprobCache

    pairs = [sp.pair for sp in benchmark_pairs(n_pairs, workload=workload)]
    samples = [s for pair in pairs for s in pair.samples()]
    model = build_implicit("dpo", policy=str(perturbed_policy()), reference="smollm2", max_length=max_length,
                           batch_size=batch_size)
    encoded = model.policy.encode(samples)
    encoded_pairs = list(zip(encoded[::2], encoded[1::2]))
    peer = ConcatenatedDPOPeer(model.policy.network, model.reference.network, model.policy.tokenizer.pad_token_id,
                               model.options.beta, pairs_per_batch=1)
    sweep = {}
    if peer_pairs == "best":
        peer_pairs, sweep = choose_pairs_per_batch(peer, encoded_pairs)
    peer.pairs_per_batch = peer_pairs

    def ours():
        model.reference.cache = LogprobCache()
        return model.score(samples).rewards

    expected, got = peer.rewards(encoded_pairs), ours()  # warm-up, and the agreement check
    difference = max(abs(a - b) for a, b in zip(expected, got))
    if difference > TOLERANCE:
        raise SystemExit(f"rewards disagree: largest difference {difference:.2e} > {TOLERANCE}")
    r = interleaved(lambda: peer.rewards(encoded_pairs), ours, rounds)
    median = sorted(r.peer)[len(r.peer) // 2], sorted(r.ours)[len(r.ours) // 2]
    return {"workload": workload, "max_length": max_length, "pairs": len(pairs), "rounds": rounds,
            "batch_size": batch_size, "packed": model.policy.packed, "peer_pairs_per_batch": peer_pairs,
            "peer_pairs_per_s_by_pairs_per_batch": sweep,
            "median_peer_pairs_per_s": len(pairs) / median[0], "median_ours_pairs_per_s": len(pairs) / median[1],
            "ratio": r.ratio, "largest_reward_difference": difference,
            "peer_tokens": peer_tokens(encoded_pairs, peer_pairs), "our_tokens": our_tokens(encoded_pairs),
            "mean_sequence_tokens": sum(len(e.input_ids) for e in encoded) / len(encoded),
            "truncated": sum(e.truncated for e in encoded)}


def main(argv: list[str] | None = None) -> dict:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="long")
    parser.add_argument("--max-length", type=int)
    parser.add_argument("--pairs", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8, help="rewardkit's sequences per forward")
    parser.add_argument("--peer-pairs-per-batch", type=peer_batch_size, default="best")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args(argv)
    quiet()
    max_length = args.max_length or WORKLOADS[args.workload]
    figures = run(args.workload, max_length, args.pairs, args.rounds, args.batch_size, args.peer_pairs_per_batch)
    print(machine_line())
    print(f"{figures['pairs']} pairs, {args.workload} workload, max_length {max_length}, mean "
          f"{figures['mean_sequence_tokens']:.0f} tokens per sequence ({figures['truncated']} cut); peer: "
          f"{figures['peer_pairs_per_batch']} pairs per forward, {figures['peer_tokens']} grid cells; rewardkit "
          f"(packed={figures['packed']}): {figures['our_tokens']} tokens; rewards agree to "
          f"{figures['largest_reward_difference']:.1e}")
    print(ratio_line(figures["median_peer_pairs_per_s"], figures["median_ours_pairs_per_s"], figures["ratio"],
                     "pairs/s", f"implicit dpo, {args.workload}"))
    if not args.no_save:
        save_results(f"implicit_dpo_{args.workload}_{max_length}", figures)
    return figures


if __name__ == "__main__":
    main()
