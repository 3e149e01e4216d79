"""Which int8 weight range this CPU's ONNX Runtime kernels multiply exactly.

ONNX Runtime multiplies uint8 activations by int8 weights. With VNNI (AVX-512 VNNI, AVX-VNNI) or AMX the
products are summed in int32 and the result is exact. On AVX2 (and AVX-512 without VNNI) the kernel first
adds the products of two neighbouring columns into an int16 (`vpmaddubsw`), which saturates at 32767: with
8-bit weights a pair can reach 2 · 255 · 127 = 64770, and the output is silently wrong (seen: 6% of a
projection's outputs off by up to 3.3, and 6.3% of real pairs' preferences flipped against fp32).

Two schemes, chosen from what the running CPU does:

    u8s8   weights in [−127, 127]; exact only where pair sums cannot saturate (VNNI, AMX)
    u8s7   weights in [−64, 64] (ONNX Runtime's `reduce_range`): 2 · 255 · 64 = 32640 ≤ 32767, exact everywhere

The choice is a behaviour of the machine, so it is measured rather than looked up: `pair_sums_saturate` runs
a worst-case `MatMulInteger` and compares it with the exact integer result. (Reading /proc/cpuinfo would be
wrong under emulation, where ONNX Runtime's own CPUID check decides which kernel runs.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Int8Scheme:
    name: str
    weight_max: int
    """Largest |int8 weight|: weights are scaled per output column so that the column's largest becomes this."""

    @property
    def reduce_range(self) -> bool:
        """ONNX Runtime's name for 7-bit weights."""
        return self.weight_max < 127

    def exact_on(self, pair_sums_saturate: bool) -> bool:
        """Whether kernels whose uint8 × int8 pair sums do (or do not) saturate compute this scheme exactly."""
        return self.reduce_range or not pair_sums_saturate

    @property
    def relative_error(self) -> float:
        """Rounding error of one quantised product, relative to its operands' ranges: half a step of the
        weight plus half a step of the activation (255 levels). Tolerances in tests scale with it."""
        return 0.5 / self.weight_max + 0.5 / 255


EIGHT_BIT = Int8Scheme("u8s8", 127)
SEVEN_BIT = Int8Scheme("u8s7", 64)
SCHEMES = {scheme.name: scheme for scheme in (EIGHT_BIT, SEVEN_BIT)}
"""Most precise first."""


def exact_schemes(pair_sums_saturate: bool) -> list[Int8Scheme]:
    """The schemes such kernels compute exactly, most precise first."""
    return [scheme for scheme in SCHEMES.values() if scheme.exact_on(pair_sums_saturate)]


def scheme_for(pair_sums_saturate: bool) -> Int8Scheme:
    """The most precise scheme that the kernels compute exactly: 8-bit weights unless pair sums saturate."""
    return exact_schemes(pair_sums_saturate)[0]


def scheme_named(name: str) -> Int8Scheme:
    """`auto` → the scheme for the running CPU; otherwise one of SCHEMES by name, if this CPU computes it
    exactly (an export is checked where it is made)."""
    from rewardkit.errors import ConfigError

    if name == "auto":
        return scheme_for(pair_sums_saturate())
    if name not in SCHEMES:
        raise ConfigError(f"unknown int8 scheme '{name}'; known: auto, {', '.join(SCHEMES)}")
    if not SCHEMES[name].exact_on(pair_sums_saturate()):
        raise ConfigError(f"int8 scheme {name} needs VNNI or AMX: this CPU's int8 kernels saturate 8-bit weights; "
                          f"use {SEVEN_BIT.name} (or auto)")
    return SCHEMES[name]


def worst_case_product(weight_max: int, depth: int = 64) -> tuple[int, int]:
    """(what ONNX Runtime's MatMulInteger returns, the exact value) for all-255 activations times all-`weight_max`
    weights over `depth` columns."""
    import numpy as np
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    weight = np.full((depth, 16), weight_max, dtype=np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["x", "w"], ["y"])], "worst_case",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, ["m", depth])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, ["m", 16])], [numpy_helper.from_array(weight, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": np.full((8, depth), 255, dtype=np.uint8)})[0]
    return int(got.min()), 255 * weight_max * depth


@functools.lru_cache(maxsize=1)
def pair_sums_saturate() -> bool:
    """True when this CPU's uint8 × int8 kernel saturates 8-bit weights (AVX2 or AVX-512 without VNNI)."""
    got, exact = worst_case_product(EIGHT_BIT.weight_max)
    return got != exact


def cpu_record() -> dict:
    """What the int8 graph's numbers depend on, as recorded in an exported folder's manifest."""
    import torch

    from rewardkit.machine import cpu_name

    return {"cpu": cpu_name(), "isa": torch.backends.cpu.get_cpu_capability(),
            "u8s8_saturates": pair_sums_saturate()}
