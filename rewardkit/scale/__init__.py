"""Batch scoring that outgrows one process: Ray Data with an actor pool, one model copy per actor.

    >>> from rewardkit.scale import score_jsonl_ray
    >>> score_jsonl_ray("runs/quickstart/model", "big.jsonl", "scored.jsonl")   # doctest: +SKIP

Output, order, resume and row formats are those of `rewardkit.scale.batch_scoring.score_jsonl`; the two engines
write identical files for the same input.
"""

from rewardkit.scale.ray_engine import score_jsonl_ray

__all__ = ["score_jsonl_ray"]
