"""Training with dtype=bf16: forward passes under bf16 autocast, fp32 master weights, gradients and optimizer
state; refused where the device has no native bf16."""

from __future__ import annotations

import pytest
import torch

from rewardkit.errors import ConfigError
from rewardkit.machine import supports_bf16
from tests.training.test_loop import config, make_task


@pytest.mark.skipif(not supports_bf16(), reason="this CPU has no native bf16 (AVX-512 BF16 or AMX)")
def test_bf16_steps_keep_fp32_master_weights(tiny_llama, tmp_path):
    from rewardkit.training.loop import train

    task = make_task(tiny_llama)
    before = {name: p.detach().clone() for name, p in task.model.network.named_parameters()}
    matmuls, gradients = [], []
    task.model.network.base_model.layers[0].self_attn.q_proj.register_forward_hook(
        lambda module, inputs, output: matmuls.append(output.dtype))
    task.model.network.score.weight.register_hook(lambda grad: gradients.append(grad.dtype))
    result = train(task, config(max_steps=3, dtype="bf16", eval_every=3), tmp_path, show_progress=False)
    assert result.steps == 3 and torch.bfloat16 in matmuls
    assert gradients and set(gradients) == {torch.float32}
    for name, parameter in task.model.network.named_parameters():
        assert parameter.dtype == torch.float32, name
    moved = [name for name, p in task.model.network.named_parameters() if not torch.equal(p, before[name])]
    assert len(moved) > len(before) // 2  # the optimizer updated the fp32 weights


def test_bf16_training_is_refused_without_native_support(tiny_llama, tmp_path, monkeypatch):
    import rewardkit.machine
    from rewardkit.training.loop import train

    monkeypatch.setattr(rewardkit.machine, "supports_bf16", lambda device="cpu": False)
    with pytest.raises(ConfigError, match="native bf16"):
        train(make_task(tiny_llama), config(dtype="bf16"), tmp_path, show_progress=False)
