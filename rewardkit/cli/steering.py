"""`--weights` on `rewardkit score`, `eval`, `explain` and `serve`: steer a multi-objective model's gate. The
spec is checked against the model folder's attributes (rewardkit.models.steering) before the model loads."""

from __future__ import annotations

from typing import Optional

WEIGHTS_HELP = ("Steer a multi-objective model's gate: safety:2,verbosity:0 multiplies each named attribute's "
                "weight; safety:=0.5 fixes it.")


def steering_options(model: str, weights: Optional[str]) -> dict:
    """{"weights": weights}, the load option that steers `model`, or {} when `weights` is None. An error when
    `model` is not a saved multi-objective model folder, or when `weights` names an attribute it does not have
    or a value that is not a number."""
    if weights is None:
        return {}
    from rewardkit.errors import ConfigError
    from rewardkit.models.hf import read_manifest
    from rewardkit.models.steering import parse_steering

    manifest = read_manifest(model)
    family = manifest.get("family")
    if family != "multi":
        what = f"a {family} model" if family else "not a rewardkit model folder (no rewardkit.json)"
        raise ConfigError(f"--weights steers the gate of a multi-objective model (family multi); {model} is {what}")
    parse_steering(weights, manifest.get("options", {}).get("attributes", []))
    return {"weights": weights}
