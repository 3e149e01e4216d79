"""The data and the models the benchmarks share: verifiable synthetic pairs (rewardkit.synth) and Bradley-Terry
reward models trained on them by rewardkit (cached under runs/bench/, trained on first use)."""

from __future__ import annotations

import json
from pathlib import Path

from common import CACHE


def synth_splits(n_pairs: int, seed: int, test_fraction: float = 0.15):
    """(train, test, heldout-family) SynthPairs, split exactly as the quickstart splits them."""
    from rewardkit.synth import DEFAULT_HELDOUT_FAMILIES, generate_pairs, split_by_family
    from rewardkit.training.pair_data import holdout_split

    in_family, heldout = split_by_family(generate_pairs(n_pairs, seed=seed), DEFAULT_HELDOUT_FAMILIES)
    train, test = holdout_split(in_family, test_fraction, seed)
    return train, test, heldout


def write_pairs_jsonl(path: Path, synth_pairs) -> Path:
    """A TRL-style pairs JSONL (what `rewardkit score` reads)."""
    from rewardkit.synth import to_jsonl_row

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for sp in synth_pairs:
            handle.write(json.dumps(to_jsonl_row(sp)) + "\n")
    return path


BENCHMARK_TRAINING = {
    "minilm": dict(steps=150, batch_size=16, max_length=128, learning_rate=5e-5, head_learning_rate=0.0),
    "smollm2": dict(steps=200, batch_size=8, max_length=256, learning_rate=2e-5, head_learning_rate=2e-4),
}
"""How each benchmark backbone's Bradley-Terry model is trained (a folder backbone trains as 'smollm2'). SmolLM2
gets a lower rate and a faster head: 80 steps at 1e-5 / 1e-4 (experiments/generalisation.py's rates) left it at
0.548 on the verifiable suite, too near chance for an accuracy comparison to say much."""


def trained_model(backbone: str = "minilm", seed: int = 0) -> Path:
    """A Bradley-Terry reward model on `backbone` ('minilm', 'smollm2' or a folder) trained by rewardkit on
    synthetic pairs (BENCHMARK_TRAINING); trained once under runs/bench/<name>-bt, then reused."""
    folder = CACHE / f"{Path(backbone).name}-bt"
    model_dir = folder / "model"
    if (model_dir / "rewardkit.json").is_file():
        return model_dir

    from rewardkit.models import scalar
    from rewardkit.models.defaults import resolve_backbone
    from rewardkit.training.config import TrainConfig
    from rewardkit.training.loop import train
    from rewardkit.training.objectives import pair_objective
    from rewardkit.training.tasks import PairTask

    recipe = dict(BENCHMARK_TRAINING.get(backbone, BENCHMARK_TRAINING["smollm2"]))
    steps = recipe.pop("steps")
    print(f"training the benchmark model on {backbone} once ({steps} steps) → {model_dir}", flush=True)
    train_pairs, _, _ = synth_splits(2400, seed)
    model = scalar.build(resolve_backbone(backbone), max_length=recipe["max_length"], seed=seed)
    task = PairTask(model, [sp.pair for sp in train_pairs], [], pair_objective("bt"))
    config = TrainConfig(max_steps=steps, seed=seed, eval_every=steps + 1, save_every=steps + 1, **recipe)
    train(task, config, folder, resume=True, show_progress=False)  # resume: a killed first run continues
    return model_dir


def model_argument(value: str | None) -> Path:
    """--model given: that folder; otherwise the cached benchmark model (trained on first use)."""
    return Path(value) if value else trained_model()


def long_context_pairs(synth_pairs, seed: int = 0) -> list:
    """The pairs at realistic length: each after a multi-turn conversation drawn from benchmarks/workloads.py (its
    turns and final response become earlier turns), then the pair's own prompt; labels and checks unchanged, so
    accuracy still means something. Lengths: the workload's (median ≈ 130 tokens) plus the pair's own (≈ 49)."""
    from dataclasses import replace

    from rewardkit.data.schemas import Message
    from workloads import long_conversations

    out = []
    for sp, context in zip(synth_pairs, long_conversations(len(synth_pairs), seed)):
        history = tuple(context.prompt) + (Message("assistant", context.response),)
        out.append(replace(sp, pair=replace(sp.pair, prompt=history + tuple(sp.pair.prompt))))
    return out


def decoder_reward_model(backbone: str, folder: Path, seed: int = 0) -> Path:
    """A new (untrained) scalar head on `backbone` ('smollm2' or a folder), saved once under `folder`: scoring speed
    and agreement with a peer do not depend on training."""
    model_dir = folder / "model"
    if (model_dir / "rewardkit.json").is_file():
        return model_dir
    from rewardkit.models import scalar
    from rewardkit.models.defaults import resolve_backbone

    scalar.build(resolve_backbone(backbone), seed=seed).save(model_dir)
    return model_dir


def perturbed_policy(backbone: str = "smollm2", scale: float = 0.02, seed: int = 0) -> Path:
    """A stand-in DPO policy: `backbone`'s causal LM with every weight moved by scale × (its tensor's std) ×
    N(0, 1), saved once under runs/bench/dpo-policy-<name>. Against the backbone as reference it gives non-zero,
    varied implicit rewards; scoring speed does not depend on training."""
    folder = CACHE / f"dpo-policy-{Path(backbone).name}"
    if (folder / "config.json").is_file():
        return folder
    import torch

    from rewardkit.atomic import atomic_dir
    from rewardkit.models.causal_lm import load_causal_lm_and_tokenizer

    network, tokenizer = load_causal_lm_and_tokenizer(backbone)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in network.parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            parameter.add_(scale * parameter.float().std() * noise if parameter.numel() > 1 else 0 * noise)
    with atomic_dir(folder) as tmp:
        network.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return folder
