"""Resumable checkpoints: module weights, optimizer, scheduler and the random generators' states, all in
safetensors + JSON, so that a resumed run ends with the same weights as an uninterrupted one (the batch order
is a function of the seed and the step, see loop.micro_batches).

Layout of `<out>/checkpoint/` (replaced atomically, so a kill leaves the previous complete checkpoint):
    weights.safetensors     the trained module's parameters
    optimizer.safetensors   per-parameter optimizer tensors (e.g. Adam moments) + torch's RNG state
    state.json              step, optimizer param groups, scheduler state, Python and numpy RNG states, config
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from rewardkit.atomic import atomic_dir
from rewardkit.errors import ConfigError

CHECKPOINT = "checkpoint"


def save_checkpoint(out_dir: Path, module, optimizer, scheduler, step: int, extra: dict) -> Path:
    tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
    plain_state: dict[str, dict] = {}
    opt_state = optimizer.state_dict()
    for index, values in opt_state["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                plain_state.setdefault(str(index), {})[name] = value
    state = {
        "step": step,
        "param_groups": opt_state["param_groups"],
        "plain_optimizer_state": plain_state,
        "scheduler": scheduler.state_dict(),
        "rng": generator_states(),
        **extra,
    }
    with atomic_dir(out_dir / CHECKPOINT) as tmp:
        save_model(module, str(tmp / "weights.safetensors"))
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        (tmp / "state.json").write_text(json.dumps(state, indent=2, default=str), encoding="utf-8")
    return out_dir / CHECKPOINT


def load_checkpoint(out_dir: Path, module, optimizer, scheduler) -> dict:
    """Restore everything saved by `save_checkpoint`; returns state.json's contents."""
    folder = out_dir / CHECKPOINT
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    load_model(module, str(folder / "weights.safetensors"))
    tensors = load_file(str(folder / "optimizer.safetensors"))
    per_param: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, index, name = key.split(".", 2)
            per_param.setdefault(int(index), {})[name] = value
    for index, values in state["plain_optimizer_state"].items():
        per_param.setdefault(int(index), {}).update(values)
    try:
        optimizer.load_state_dict({"state": per_param, "param_groups": state["param_groups"]})
    except ValueError as err:  # other parameter groups: another rewardkit version, or other freezing settings
        raise ConfigError(f"{folder}: the checkpoint's optimizer does not fit this run ({err}); it was written "
                          "with other trainable parameters or by another rewardkit version. Resume it with the "
                          "settings it was started with, or start again with a new --out") from None
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    if "rng" in state:
        restore_generators(state["rng"])
    return state


def generator_states() -> dict:
    """Python's and numpy's global generator states as JSON (torch's goes into optimizer.safetensors)."""
    version, internal, gauss = random.getstate()
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {"python": [version, list(internal), gauss],
            "numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)]}


def restore_generators(states: dict) -> None:
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))


def has_checkpoint(out_dir: Path) -> bool:
    return (out_dir / CHECKPOINT / "state.json").is_file()
