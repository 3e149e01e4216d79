"""`judge`: generative reward models (rewardkit.models.judge): pairwise, rubric and reasoning judges built from
a spec over any generation backend, and Critique-out-Loud (cloud), trainable with BT + λ·LM loss on reference
critiques (rewardkit.training.judge_tasks)."""

from __future__ import annotations

from rewardkit.errors import ModelLoadError
from rewardkit.families.registry import Family, Objective
from rewardkit.models import judge
from rewardkit.models.hf import MANIFEST, read_manifest
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


def load(path: str, **overrides):
    """A saved judge: its options from rewardkit.json (a trained cloud model also has its LM and head there)."""
    manifest = read_manifest(path)
    if manifest.get("family") != "judge":
        raise ModelLoadError(f"{path}: rewardkit.json does not describe a judge")
    overrides.pop("max_length", None)  # judges bound what they generate with max_tokens
    options = judge.JudgeOptions.from_dict({**manifest.get("options", {}), **overrides}, source=f"{path}/{MANIFEST}")
    if options.kind == "cloud":
        from rewardkit.models.cloud import load_cloud

        return load_cloud(path, options)
    return judge.build_judge(options)


FAMILY = Family(
    name="judge",
    options=judge.JudgeOptions,
    load=load,
    kinds=judge.KINDS,
    build=build,
    objectives={"cloud": Objective(CloudOptions, build_cloud_task)},
)
