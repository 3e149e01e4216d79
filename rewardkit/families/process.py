"""`process`: step-level rewards (rewardkit.models.process): an implicit PRM built from a spec
`process:implicit` over a policy and a reference, or trained from outcome labels (implicit-ce, implicit-dpo) or
step labels (step-bce; rewardkit.training.process_tasks)."""

from __future__ import annotations

from rewardkit.families.registry import Family, Objective
from rewardkit.models import process
from rewardkit.training.process_tasks import (
    IMPLICIT_OBJECTIVES, ImplicitPrmOptions, StepOptions, build_implicit_prm_task, build_step_label_task,
)


def build(kind: str, policy: str = "smollm2", **options):
    """process:implicit over `policy` and `reference` (required)."""
    return process.build_process(policy, **options)


FAMILY = Family(
    name="process",
    options=process.ProcessOptions,
    load=process.load,
    kinds=("implicit",),
    build=build,
    objectives={**{name: Objective(ImplicitPrmOptions, build_implicit_prm_task) for name in IMPLICIT_OBJECTIVES},
                "step-bce": Objective(StepOptions, build_step_label_task)},
)
