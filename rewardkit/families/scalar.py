"""`scalar`: a linear head on any Hugging Face backbone (rewardkit.models.scalar), trained with a pairwise loss
or regression on ratings (rewardkit.training.scalar_recipe). A folder exported by `rewardkit export` is a
scalar model too, run through ONNX Runtime (rewardkit.models.onnx_scalar)."""

from __future__ import annotations

from rewardkit.families.registry import Family, Objective
from rewardkit.models import scalar
from rewardkit.models.hf import read_manifest
from rewardkit.training.objectives import PAIR_OBJECTIVES
from rewardkit.training.scalar_recipe import (
    PairwiseOptions, RegressionOptions, build_pairwise_task, build_regression_task,
)


def load(path: str, **overrides):
    """A saved scalar model, any HF sequence classifier, or an ONNX export of one."""
    if "onnx" in read_manifest(path):
        from rewardkit.errors import ConfigError
        from rewardkit.models import onnx_scalar

        if overrides.pop("dtype", "fp32") != "fp32":
            raise ConfigError(f"{path} is an ONNX export, which runs in the precision it was exported in (fp32 or "
                              "int8); dtype applies to PyTorch models")
        return onnx_scalar.load(path, **overrides)
    return scalar.load(path, **overrides)


FAMILY = Family(
    name="scalar",
    options=scalar.ScalarOptions,
    load=load,
    objectives={**{name: Objective(PairwiseOptions, build_pairwise_task) for name in PAIR_OBJECTIVES},
                "regression": Objective(RegressionOptions, build_regression_task)},
)
