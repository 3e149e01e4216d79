"""Fixed vs adaptive Best-of-N at the same total budget, on verifiable candidates.

The candidates are worked solutions of synthetic arithmetic problems (rewardkit.synth.traces, the generator
of the verifiable suite's Best-of-N set): `pool` per problem, each checkably right or wrong. The problems are
split evenly among `error_rates` (default 0.2, 0.5, 0.8: easy, medium and hard problems; adaptive budgets
can only help where difficulty varies; `--error-rates 0.5` is exactly the set `rewardkit eval --suite
verifiable` draws its Best-of-N curve from). The model scores every candidate once; each policy then reads
those rewards, so the policies differ only in which candidates they look at:

    fixed      the first n candidates of every problem
    adaptive   n per problem on average, shared by a rule of rewardkit.application.adaptive (same total)

For each n and policy: the fraction of problems whose pick is right, and for context `any_right` (some
scored candidate is right: what a perfect reward model would reach with that budget).

    python -m rewardkit.application.adaptive_eval --model runs/quickstart/model --n 3 4 8
    python -m rewardkit.application.adaptive_eval --simulate 1.0     # reward = right + N(0,1), no model
"""

from __future__ import annotations

import random
from typing import Sequence

from rewardkit.application.adaptive import RULES, adaptive_best_of_n, best_index, fixed_best_of_n
from rewardkit.models.base import RewardModel

ERROR_RATES = (0.2, 0.5, 0.8)


def _outcome(rewards: list[list[float]], right: list[list[int]]) -> dict[str, float]:
    problems = len(rewards)
    return {"right": sum(right[p][best_index(r)] for p, r in enumerate(rewards)) / problems,
            "any_right": sum(any(right[p][: len(r)]) for p, r in enumerate(rewards)) / problems,
            "scored": sum(map(len, rewards))}


def compare_policies(grid: Sequence[Sequence[float]], right: Sequence[Sequence[int]], ns: Sequence[int],
                     rules: Sequence[str] = tuple(RULES)) -> list[dict]:
    """Fixed and each adaptive rule's Best-of-N for each n, from every candidate's reward (`grid`) and
    correctness (`right`), both [problems][candidates]."""
    sizes = [len(row) for row in grid]
    right = [list(row) for row in right]

    def lookup(requests: list[tuple[int, int]]) -> list[float]:
        return [grid[p][c] for p, c in requests]

    return [{"n": n, "fixed": _outcome(fixed_best_of_n(sizes, n, lookup), right),
             **{f"adaptive {rule}": _outcome(adaptive_best_of_n(sizes, n, lookup, rule=rule), right)
                for rule in rules}} for n in ns]


def verifiable_candidates(problems: int, pool: int, seed: int, error_rates: Sequence[float] = ERROR_RATES) -> list:
    """`pool` traces for each of `problems` problems, the problems split evenly among `error_rates`, problem
    by problem (a trace list, pool consecutive traces per problem)."""
    from rewardkit.synth.traces import generate_traces

    traces = []
    for k, rate in enumerate(error_rates):
        count = problems // len(error_rates) + (k < problems % len(error_rates))
        traces += generate_traces(count, per_problem=pool, error_rate=rate, seed=seed + k)
    return traces


def fixed_vs_adaptive(model: RewardModel | None, ns: Sequence[int] = (3, 4, 8), *, problems: int = 300,
                      pool: int = 16, seed: int = 1234, error_rates: Sequence[float] = ERROR_RATES,
                      simulate_noise: float | None = None, batch_size: int = 64) -> dict:
    """`compare_policies` on verifiable candidates scored by `model`, or with `simulate_noise` σ (model None)
    by the made-up reward right + N(0, σ²) (seeded), to see the rules where the reward is known to be informative."""
    if any(not 1 <= n <= pool for n in ns):
        raise ValueError(f"every n must lie in 1..{pool}, got {list(ns)}")
    traces = verifiable_candidates(problems, pool, seed, error_rates)
    if simulate_noise is None:
        rewards = list(model.score([t.sample() for t in traces], batch_size=batch_size).rewards)
    else:
        rng = random.Random(seed)
        rewards = [t.outcome + rng.gauss(0.0, simulate_noise) for t in traces]
    grid = [rewards[p * pool:(p + 1) * pool] for p in range(problems)]
    right = [[t.outcome for t in traces[p * pool:(p + 1) * pool]] for p in range(problems)]
    return {"problems": problems, "pool": pool, "seed": seed, "error_rates": list(error_rates),
            "rows": compare_policies(grid, right, ns)}


def _main(argv: Sequence[str] | None = None) -> None:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="reward model folder (or --simulate)")
    parser.add_argument("--simulate", type=float, metavar="NOISE", help="reward = right + N(0, NOISE²) instead")
    parser.add_argument("--n", type=int, nargs="+", default=[3, 4, 8])
    parser.add_argument("--problems", type=int, default=300)
    parser.add_argument("--pool", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--error-rates", type=float, nargs="+", default=list(ERROR_RATES))
    args = parser.parse_args(argv)
    if (args.model is None) == (args.simulate is None):
        parser.error("give one of --model, --simulate")
    import rewardkit

    model = rewardkit.load(args.model) if args.model else None
    result = fixed_vs_adaptive(model, args.n, problems=args.problems, pool=args.pool, seed=args.seed,
                               error_rates=args.error_rates, simulate_noise=args.simulate)
    print(json.dumps({"model": args.model, "simulate": args.simulate, **result}, indent=1))
    for row in result["rows"]:
        picks = ", ".join(f"{name} {100 * row[name]['right']:.1f}%" for name in row if name != "n")
        print(f"n={row['n']} ({row['fixed']['scored']} candidates scored by each): right picks: {picks}")


if __name__ == "__main__":
    _main()
