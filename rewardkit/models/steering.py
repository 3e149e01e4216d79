"""Steering a multi-objective model's gate at inference (rewardkit.models.multi): per attribute, a factor on the
gate's weight (`safety:2`, `verbosity:0`) or a fixed weight (`safety:=0.5`). The one parser behind `weights=` in
Python and `--weights` on `rewardkit score`, `eval`, `explain` and `serve`.

    >>> parse_steering("safety:2,verbosity:=0.1", ["safety", "verbosity"])
    {'safety': ('scale', 2.0), 'verbosity': ('set', 0.1)}
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from rewardkit.errors import ConfigError

Steering = dict[str, tuple[str, float]]
"""attribute → ("scale", factor) or ("set", weight)."""


def _items(spec: Mapping | str) -> list[tuple[str, object]]:
    """(attribute, value) pairs of "a:1,b:=2" or of a dict, in order."""
    if not isinstance(spec, str):
        return [(str(name), value) for name, value in spec.items()]
    items = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition(":")
        if not sep:
            raise ConfigError(f"steering weight {part!r} is not attribute:factor (e.g. safety:2) or attribute:=weight")
        items.append((name.strip(), value.strip()))
    if not items:
        raise ConfigError(f"steering weights {spec!r} name no attribute (e.g. safety:2,verbosity:0)")
    return items


def parse_steering(spec: Mapping | str | None, attributes: Sequence[str]) -> Steering:
    """`spec` checked against the model's `attributes`: an error names an unknown or repeated attribute, or the
    attribute whose value is not a finite number. None or {}: no steering."""
    if spec is None or (isinstance(spec, Mapping) and not spec):
        return {}
    out: Steering = {}
    for name, value in _items(spec):
        if name not in attributes:
            raise ConfigError(f"steering names unknown attribute '{name}'; known: {', '.join(attributes)}")
        if name in out:
            raise ConfigError(f"steering names attribute '{name}' twice")
        text = str(value).strip()
        mode, number = ("set", text[1:]) if text.startswith("=") else ("scale", text)
        try:
            parsed = float(number)
        except ValueError:
            parsed = math.nan
        if not math.isfinite(parsed):
            raise ConfigError(f"steering weight for '{name}' must be a finite number (factor) or =number (fixed "
                              f"weight), got {value!r}")
        out[name] = (mode, parsed)
    return out


def steer(weights, steering: Mapping[str, tuple[str, float]], attributes: Sequence[str]):
    """Gate weights [N, A] (a tensor) with each steered column scaled or replaced. Not renormalised: `safety:2`
    doubles safety's contribution and leaves the others as they were."""
    weights = weights.clone()
    for name, (mode, value) in steering.items():
        column = attributes.index(name)
        weights[:, column] = weights[:, column] * value if mode == "scale" else value
    return weights
