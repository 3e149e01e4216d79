"""`implicit`: rewards a causal LM defines (DPO, SimPO, density ratio, RLPR; rewardkit.models.implicit),
built from a spec such as `implicit:dpo`, and trained with the DPO objective (rewardkit.training.implicit_tasks)."""

from __future__ import annotations

from rewardkit.families.registry import Family, Objective
from rewardkit.models import implicit
from rewardkit.training.implicit_tasks import PAIR_OBJECTIVES, DpoOptions, build_implicit_task

FAMILY = Family(
    name="implicit",
    options=implicit.ImplicitOptions,
    load=implicit.load,
    kinds=tuple(implicit.REWARD_KINDS),
    build=implicit.build_implicit,
    objectives={name: Objective(DpoOptions, build_implicit_task) for name in PAIR_OBJECTIVES},
)
