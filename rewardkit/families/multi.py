"""`multi`: interpretable multi-objective reward models in the manner of ArmoRM (rewardkit.models.multi): one
linear head per attribute on a frozen backbone, decorrelated from verbosity, mixed by a prompt-conditioned
gate; trained in two stages (rewardkit.training.multi_tasks)."""

from __future__ import annotations

from rewardkit.families.registry import Family, Objective
from rewardkit.models import multi
from rewardkit.training.multi_tasks import MultiObjectiveOptions, build_multi_task

FAMILY = Family(
    name="multi",
    options=multi.MultiOptions,
    load=multi.load,
    objectives={"armo": Objective(MultiObjectiveOptions, build_multi_task)},
)
