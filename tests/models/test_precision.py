"""bf16 scoring: close to fp32 where the CPU has native bf16, refused (with the reason) where it has not; the
reward head stays fp32, so close rewards do not tie."""

from __future__ import annotations

import pytest
import torch

import rewardkit
from rewardkit.errors import ConfigError
from rewardkit.machine import supports_bf16
from rewardkit.models import scalar
from tests.models.test_scalar import SAMPLES

native = pytest.mark.skipif(not supports_bf16(), reason="this CPU has no native bf16 (AVX-512 BF16 or AMX)")

BF16_TOLERANCE = 0.02
"""|bf16 − fp32| reward allowed on the tiny models, relative to the spread (max − min) of their fp32 rewards.
bf16 keeps 8 bits of mantissa (relative rounding 2⁻⁹ ≈ 0.002 per value); a few layers of it stay well within 2%."""


@native
@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_bert"])
def test_bf16_scores_are_close_to_fp32(fixture, request):
    folder = request.getfixturevalue(fixture)
    exact = scalar.load(folder).score(SAMPLES).rewards
    rounded = rewardkit.load(folder, dtype="bf16").score(SAMPLES).rewards
    spread = max(exact) - min(exact)
    assert spread > 0
    differences = [abs(a - b) for a, b in zip(exact, rounded)]
    assert max(differences) <= BF16_TOLERANCE * spread
    assert max(differences) > 0  # bf16 really ran: it rounds


@native
def test_bf16_matmuls_run_in_bf16_and_the_head_in_fp32(tiny_llama):
    model = scalar.load(tiny_llama, dtype="bf16")
    seen = {}

    def recorder(name):
        def hook(module, inputs, output):
            seen[name] = output.dtype
        return hook

    model.network.base_model.layers[0].mlp.down_proj.register_forward_hook(recorder("layer"))
    model.network.score.register_forward_hook(recorder("head"))
    model.score(SAMPLES[:2])
    assert seen == {"layer": torch.bfloat16, "head": torch.float32}
    assert all(p.dtype == torch.float32 for p in model.network.parameters())  # weights are not cast


def test_bf16_is_refused_without_native_support(tiny_llama, monkeypatch):
    import rewardkit.machine

    monkeypatch.setattr(rewardkit.machine, "supports_bf16", lambda device="cpu": False)
    with pytest.raises(ConfigError, match="native bf16.*AVX-512 BF16 or AMX"):
        scalar.load(tiny_llama, dtype="bf16")
    with pytest.raises(ConfigError, match="dtype must be one of fp32, bf16"):
        scalar.load(tiny_llama, dtype="fp16")


# On an AVX2-only CPU (no AVX-512, no AMX) supports_bf16() is False: checked under qemu, in the same emulated
# run as the int8 path, by tests/export/test_emulated_cpus.py::test_an_avx2_cpu_has_no_native_bf16.
