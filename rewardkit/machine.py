"""What a result was computed on: the CPU, the instruction set torch dispatches to, threads and versions.

Model cards, export manifests and benchmark records all say this, so that a figure can be traced to the
kind of machine that produced it (integer and bf16 kernels differ between CPUs).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux), else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict:
    """CPU, torch's dispatch level (from CPUID, so right under emulation too), threads and library versions."""
    import torch
    import transformers

    from rewardkit.version import __version__

    return {
        "cpu": cpu_name(),
        "isa": torch.backends.cpu.get_cpu_capability(),
        "native_bf16": supports_bf16("cpu"),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "rewardkit": __version__,
        "torch": str(torch.__version__),
        "transformers": str(transformers.__version__),
        "os": f"{platform.system()} {platform.release()}",
    }


BF16_CPU_FEATURES = ("avx512_bf16", "amx_bf16")
"""CPU features with native bf16 matmul kernels in torch (oneDNN). Elsewhere torch emulates bf16 in fp32, slower
than fp32 itself."""


def supports_bf16(device="cpu") -> bool:
    """True where bf16 arithmetic is native: a CPU with AVX-512 BF16 or AMX (read from CPUID by torch, so right
    under emulation too), or a CUDA GPU that reports bf16 support."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    capabilities = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
    return any(capabilities.get(feature, False) for feature in BF16_CPU_FEATURES)
