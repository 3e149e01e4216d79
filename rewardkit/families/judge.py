"""`judge`: generative reward models (rewardkit.models.judge): pairwise, rubric and reasoning judges built from
a spec over any generation backend, and Critique-out-Loud (cloud), trainable with BT + λ·LM loss on reference
critiques (rewardkit.training.judge_tasks)."""

from __future__ import annotations

from rewardkit.families.registry import Family, Objective
from rewardkit.models import judge
from rewardkit.training.judge_tasks import CloudOptions, build_cloud_task


def build(kind: str, policy: str | None = None, max_length: int | None = None, **options):
    """judge:KIND; `policy` (eval --policy) names the generating model; options are JudgeOptions fields."""
    values = {**options, "kind": kind}
    if policy is not None:
        values["model"] = policy
    if "model" not in values and values.get("backend") == "openai":
        values["model"] = ""  # the first model the server lists
    built = judge.JudgeOptions.from_dict(values)
    if kind == "cloud":
        from rewardkit.models.cloud import build_cloud

        return build_cloud(built, max_length or 1024)
    return judge.build_judge(built)


FAMILY = Family(
    name="judge",
    options=judge.JudgeOptions,
    load=judge.load,
    kinds=judge.KINDS,
    build=build,
    objectives={"cloud": Objective(CloudOptions, build_cloud_task)},
)
