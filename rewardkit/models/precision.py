"""Numeric precision of scoring: fp32, or bf16 where the hardware computes it natively.

bf16 runs the network under autocast (weights stay fp32; matmuls and attention in bf16, norms and the residual
stream in fp32, as mixed-precision training runs them), and the reward head in fp32: a bf16 head would round
every reward to 8 bits of mantissa, and close pairs would tie.
"""

from __future__ import annotations

import contextlib

import torch

from rewardkit.errors import ConfigError

DTYPES = ("fp32", "bf16")


def check_dtype(dtype: str, device: torch.device | str = "cpu") -> str:
    """`dtype` if this device computes it natively, else a ConfigError saying why (no silent slow emulation)."""
    from rewardkit.machine import cpu_name, supports_bf16

    if dtype not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if dtype == "bf16" and not supports_bf16(device):
        where = f"this CPU ({cpu_name()})" if torch.device(device).type == "cpu" else f"device {device}"
        raise ConfigError(f"dtype bf16 needs native bf16 arithmetic (AVX-512 BF16 or AMX on a CPU, or a bf16 GPU); "
                          f"{where} would emulate it, slower than fp32. Use dtype fp32.")
    return dtype


def autocast(dtype: str, device: torch.device):
    """The context a forward runs in: bf16 autocast, or nothing for fp32."""
    if dtype == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def full_precision(hidden: torch.Tensor, *modules) -> torch.Tensor:
    """`modules` applied in turn to `hidden`, in fp32 with autocast off (a reward head and what feeds it). Outside
    autocast (fp32 runs, graph export) they are simply applied."""
    if torch.is_autocast_enabled(hidden.device.type):
        with torch.autocast(hidden.device.type, enabled=False):
            return full_precision(hidden.float(), *modules)
    for module in modules:
        hidden = module(hidden)
    return hidden
