"""Adaptive Best-of-N: share a fixed budget of scored candidates among prompts, more where more could help.

Fixed Best-of-N scores the first n candidates of every prompt. Adaptive Best-of-N spends the same total,
B = Σ_p min(n, pool_p), differently:

1. warm-up: every prompt's first min(warmup, n, pool_p) candidates are scored (warmup = 2);
2. rounds, until B is spent or every pool is used up: the prompts with candidates left are ranked by the
   rule's priority (ties: fewer scored first, then input order), and each prompt of the top quarter (at least
   one) gets its next candidate scored;
3. each prompt keeps the best reward among the candidates it scored (the first one on a tie).

Rules (the priority of a prompt, from the rewards of its candidates scored so far):

    lowest-best (default)  −max(rewards): the prompts whose best candidate so far scores lowest look further.
                           This is the expected rise of a prompt's best from one more candidate when every
                           prompt's candidates are drawn alike (any common reward distribution), so it suits
                           rewards that compare across prompts.
    spread                 `expected_gain`: the expected rise of the prompt's best from one more candidate
                           were its rewards normal with the prompt's own mean m and sample std s,
                               E[max(0, X − best)] = s·(φ(z) − z·(1 − Φ(z))),   z = (best − m) / s,
                           so prompts whose rewards spread widely and whose best does not stand out get more;
                           prompts whose candidates all score alike get none.

Candidates are always taken in pool order, so each prompt's scored candidates are a prefix of its pool, as in
fixed Best-of-N. `python -m rewardkit.application.adaptive_eval` measures both rules against fixed Best-of-N.
"""

from __future__ import annotations

import math
from statistics import mean, stdev
from typing import Callable, Sequence

from rewardkit.errors import ConfigError

WARMUP = 2
"""Candidates every prompt gets before the budget is shared out (two give a first spread)."""

ROUND_SHARE = 0.25
"""Share of the prompts with candidates left that get one more in each round (rounds are batched calls)."""


def expected_gain(rewards: Sequence[float]) -> float:
    """E[max(0, X − max(rewards))] for X normal with the rewards' mean and sample std; 0 below two rewards.

    >>> round(expected_gain([0.0, 2.0]), 4)   # m = 1, s = √2, z = 1/√2: √2·(φ(z) − z·(1 − Φ(z)))
    0.1996
    >>> expected_gain([1.0, 1.0]), expected_gain([3.0])
    (0.0, 0.0)
    """
    if len(rewards) < 2:
        return 0.0
    spread = stdev(rewards)
    if spread == 0.0:
        return 0.0
    z = (max(rewards) - mean(rewards)) / spread
    density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    upper_tail = 0.5 * math.erfc(z / math.sqrt(2))
    return spread * (density - z * upper_tail)


def lowest_best(rewards: Sequence[float]) -> float:
    """−max(rewards): the rule that sends candidates to the prompts whose best scores lowest."""
    return -max(rewards)


RULES: dict[str, Callable[[Sequence[float]], float]] = {"lowest-best": lowest_best, "spread": expected_gain}
"""Adaptive rule name → priority of a prompt given its rewards so far (higher: scored next)."""

Requests = list[tuple[int, int]]
"""(prompt, candidate) index pairs to score."""


def fixed_best_of_n(pool_sizes: Sequence[int], n: int,
                    score: Callable[[Requests], Sequence[float]]) -> list[list[float]]:
    """Rewards of each prompt's first min(n, pool) candidates, scored in one call."""
    requests = [(p, c) for p, size in enumerate(pool_sizes) for c in range(min(n, size))]
    rewards: list[list[float]] = [[] for _ in pool_sizes]
    for (p, _), value in zip(requests, score(requests) if requests else []):
        rewards[p].append(value)
    return rewards


def adaptive_best_of_n(pool_sizes: Sequence[int], n: int, score: Callable[[Requests], Sequence[float]], *,
                       rule: str = "lowest-best", warmup: int = WARMUP,
                       round_share: float = ROUND_SHARE) -> list[list[float]]:
    """Rewards of the candidates each prompt was given under `rule` (a prefix of its pool each); `score` is
    called once for the warm-up and once per round."""
    if n < 1 or warmup < 1:
        raise ValueError(f"n and warmup must be at least 1, got n={n}, warmup={warmup}")
    if rule not in RULES:
        raise ConfigError(f"unknown adaptive rule {rule!r}; choose from {', '.join(RULES)}")
    priority = RULES[rule]
    budget = sum(min(n, size) for size in pool_sizes)
    rewards = fixed_best_of_n(pool_sizes, min(warmup, n), score)
    budget -= sum(map(len, rewards))
    while budget > 0:
        open_ = [p for p, size in enumerate(pool_sizes) if len(rewards[p]) < size]
        if not open_:
            break
        open_.sort(key=lambda p: (-priority(rewards[p]), len(rewards[p]), p))
        chosen = sorted(open_[: min(budget, max(1, math.ceil(len(open_) * round_share)))])
        requests = [(p, len(rewards[p])) for p in chosen]
        for p, value in zip(chosen, score(requests)):
            rewards[p].append(value)
        budget -= len(requests)
    return rewards


def best_index(rewards: Sequence[float]) -> int:
    """Index of the highest reward, the first one on a tie.

    >>> best_index([0.1, 0.7, 0.7])
    1
    """
    return max(range(len(rewards)), key=lambda i: (rewards[i], -i))
