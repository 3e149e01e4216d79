"""LoRA adapters (peft) inside a sequence classifier's backbone, trained beside its new head, then folded back.

`add_adapters` puts rank-r adapters on every Linear layer of the backbone (named by full path, so a head's own
layers, such as RoBERTa's `classifier.dense`, are never matched) and leaves trainable only the adapters and the
head. The network keeps its class and forward: the packed forwards (packed_encoder, packed_decoder) call the
wrapped projections as they are. `merge_adapters` folds them into the weights, so the saved folder is a plain
sequence classifier any tool loads.
"""

from __future__ import annotations

import torch

from rewardkit.errors import ConfigError
from rewardkit.models.seeding import seeded


def add_adapters(network, rank: int, alpha: float, seed: int = 0) -> int:
    """Inject adapters into `network` in place; returns the number of trainable parameters. The adapters'
    initial weights depend on `seed` alone (B starts at zero: the network computes what it did before)."""
    try:
        from peft import LoraConfig, inject_adapter_in_model
    except ImportError:
        raise ConfigError("lora_rank > 0 needs the peft package: pip install peft") from None
    prefix = network.base_model_prefix
    targets = [f"{prefix}.{name}" for name, module in network.base_model.named_modules()
               if isinstance(module, torch.nn.Linear)]
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=targets)
    with seeded(seed):
        inject_adapter_in_model(config, network)
    in_base = {id(p) for p in network.base_model.parameters()}
    trainable = 0
    for name, parameter in network.named_parameters():
        parameter.requires_grad_("lora_" in name or id(parameter) not in in_base)
        trainable += parameter.numel() if parameter.requires_grad else 0
    return trainable


def merge_adapters(network) -> bool:
    """Fold every LoRA adapter of `network` into its base layer's weights and put the base layer back in its
    place; True if there were any. Weights unfreeze again."""
    if not any(type(m).__module__.startswith("peft.") for m in network.modules()):
        return False
    from peft.tuners.lora import LoraLayer

    for name, module in list(network.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge()
            parent, _, child = name.rpartition(".")
            setattr(network.get_submodule(parent), child, module.get_base_layer())
    network.requires_grad_(True)
    return True
