"""What the training loop trains: a module, per-example lengths, a batch loss, an evaluation and a save.

The loop (loop.py) knows nothing about reward-model families; each family's trainable setup is a task.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import torch

from rewardkit.data.batching import common_prefix
from rewardkit.data.loaders import LoadStats
from rewardkit.data.schemas import PreferencePair, RatedResponse
from rewardkit.training import losses
from rewardkit.training.objectives import PairObjective


class TrainTask(Protocol):
    module: torch.nn.Module
    truncated: int
    """Training samples cut to max_length."""
    data_stats: LoadStats | None
    """What loading the rows did (kept, diverged, skipped); None for data not read from rows (synthetic)."""

    def lengths(self) -> list[int]: ...
    def loss(self, module, indices: Sequence[int]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...
    def evaluate(self) -> dict[str, float]: ...
    def finish(self, out_dir) -> None: ...


def store_reward_stats(model, encoded) -> None:
    """Mean and std of the raw reward over (up to 2,000) training responses, kept for normalisation."""
    rewards = model.reward_from_outputs(model.outputs_for(encoded))
    model.options.reward_mean = float(rewards.mean())
    model.options.reward_std = float(rewards.std()) if len(rewards) > 1 else 1.0


class PairTask:
    """Pairwise training of a scalar model: one forward over chosen and rejected together."""

    data_stats: LoadStats | None = None

    def __init__(self, model, train: Sequence[PreferencePair], evaluation: Sequence[PreferencePair],
                 objective: PairObjective, centering: float = 0.0):
        self.model, self.module, self.objective, self.centering = model, model.scorer, objective, centering
        self.train_pairs = [self._encode(p) for p in train]
        self.eval_pairs = [self._encode(p) for p in evaluation]
        self.margins = torch.tensor([p.margin if p.margin is not None else 0.0 for p in train])
        self.truncated = sum(c.truncated + r.truncated for c, r in self.train_pairs)
        self.shared = [common_prefix(c.input_ids, r.input_ids) for c, r in self.train_pairs]
        """Leading tokens each training pair's chosen and rejected have in common (its prompt, at least)."""

    def _encode(self, pair: PreferencePair):
        chosen, rejected = pair.samples()
        return self.model.encoder.encode(chosen), self.model.encoder.encode(rejected)

    def lengths(self) -> list[int]:
        return [max(len(c.input_ids), len(r.input_ids)) for c, r in self.train_pairs]

    def loss(self, module, indices):
        encoded = [e for i in indices for e in self.train_pairs[i]]  # chosen, rejected, chosen, rejected, ...
        batch = self.model.collate(encoded)
        if self.model.scorer.packed_decoder:  # each pair's prompt computed once for both responses
            batch["shared"] = torch.tensor([n for i in indices for n in (0, self.shared[i])],
                                           device=batch["input_ids"].device)
        rewards = self.model.reward_from_outputs(module(**batch))
        r_chosen, r_rejected = rewards[0::2], rewards[1::2]
        margin = self.margins[list(indices)].to(rewards.device)
        loss = self.objective(r_chosen, r_rejected, margin)
        if self.centering:
            loss = loss + self.centering * losses.centering_penalty(r_chosen, r_rejected)
        return loss, {"accuracy": (r_chosen > r_rejected).float().mean().detach()}

    def evaluate(self) -> dict[str, float]:
        if not self.eval_pairs:
            return {}
        margins = self.pair_margins(self.eval_pairs)
        return {"eval_accuracy": float((margins > 0).float().mean()), "eval_pairs": len(margins)}

    def pair_margins(self, pairs) -> torch.Tensor:
        flat = [e for pair in pairs for e in pair]
        rewards = self.model.reward_from_outputs(self.model.outputs_for(flat))
        return rewards[0::2] - rewards[1::2]

    def finish(self, out_dir) -> None:
        store_reward_stats(self.model, [e for pair in self.train_pairs[:1000] for e in pair])
        self.model.save(out_dir / "model")


class RatingTask:
    """Regression of a scalar model's outputs (one per attribute) on ratings, masked where a rating is missing."""

    data_stats: LoadStats | None = None

    def __init__(self, model, train: Sequence[RatedResponse], evaluation: Sequence[RatedResponse]):
        self.model, self.module = model, model.scorer
        self.attributes = list(model.options.attributes)
        self.train_items = [model.encoder.encode(r.sample()) for r in train]
        self.eval_items = [model.encoder.encode(r.sample()) for r in evaluation]
        self.train_targets, self.train_mask = self._targets(train)
        self.eval_targets, self.eval_mask = self._targets(evaluation)
        self.truncated = sum(e.truncated for e in self.train_items)

    def _targets(self, rows: Sequence[RatedResponse]):
        values = [[r.ratings.get(a) for a in self.attributes] for r in rows]
        mask = torch.tensor([[v is not None for v in row] for row in values], dtype=torch.float32)
        targets = torch.tensor([[v if v is not None else 0.0 for v in row] for row in values], dtype=torch.float32)
        return targets, mask

    def lengths(self) -> list[int]:
        return [len(e.input_ids) for e in self.train_items]

    def loss(self, module, indices):
        predicted = module(**self.model.collate([self.train_items[i] for i in indices]))
        index = list(indices)
        target = self.train_targets[index].to(predicted.device)
        mask = self.train_mask[index].to(predicted.device)
        return losses.masked_mse(predicted, target, mask), {}

    def evaluate(self) -> dict[str, float]:
        if not self.eval_items:
            return {}
        predicted = self.model.outputs_for(self.eval_items)
        return {"eval_mse": float(losses.masked_mse(predicted, self.eval_targets, self.eval_mask))}

    def finish(self, out_dir) -> None:
        store_reward_stats(self.model, self.train_items[:2000])
        self.model.save(out_dir / "model")
