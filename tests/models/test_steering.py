"""The steering parser behind `weights=` and `--weights` (rewardkit.models.steering) and what `steer` does to the
gate's weights."""

from __future__ import annotations

import pytest
import torch

from rewardkit.errors import ConfigError
from rewardkit.models.steering import parse_steering, steer

NAMES = ["helpfulness", "safety", "verbosity"]


def test_factors_and_fixed_weights_from_a_string_or_a_dict():
    assert parse_steering("safety:2, verbosity:0", NAMES) == {"safety": ("scale", 2.0), "verbosity": ("scale", 0.0)}
    assert parse_steering({"safety": "=0.5", "helpfulness": -1}, NAMES) == {"safety": ("set", 0.5),
                                                                             "helpfulness": ("scale", -1.0)}
    assert parse_steering(None, NAMES) == {} and parse_steering({}, NAMES) == {}


def test_steer_scales_or_replaces_columns_without_renormalising():
    gate = torch.tensor([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    steered = steer(gate, parse_steering("safety:2,verbosity:=0.1", NAMES), NAMES)
    assert torch.allclose(steered, torch.tensor([[0.2, 0.6, 0.1], [0.6, 0.4, 0.1]]))
    assert torch.equal(gate, torch.tensor([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]]))  # the gate's own output untouched


@pytest.mark.parametrize("spec, message", [
    ("honesty:2", "unknown attribute 'honesty'; known: helpfulness, safety, verbosity"),
    ("safety=2", "'safety=2' is not attribute:factor"),
    ("safety:lots", "weight for 'safety' must be a finite number (factor) or =number (fixed weight), got 'lots'"),
    ({"safety": "=x"}, "weight for 'safety' must be a finite number"),
    ("verbosity:nan", "weight for 'verbosity' must be a finite number"),
    ("safety:inf", "weight for 'safety' must be a finite number"),
    ("safety:", "weight for 'safety' must be a finite number"),
    ("safety:1,safety:2", "names attribute 'safety' twice"),
    (" , ", "name no attribute"),
])
def test_bad_specs_name_the_attribute_or_the_value(spec, message):
    with pytest.raises(ConfigError) as error:
        parse_steering(spec, NAMES)
    assert message in str(error.value)
