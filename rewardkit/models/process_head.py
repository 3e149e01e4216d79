"""The explicit process reward model: a per-token linear head on a (causal) backbone, read at the last token of
each step and trained with BCE on step labels (rewardkit.training.process_tasks, objective `step-bce`).

    step value v_k = σ(w · h_{e_k} + b),   e_k = index of the last token of step k

With a causal backbone h_{e_k} sees only the prompt and steps 1 … k, so v_k judges the prefix. Saved as an
ordinary `AutoModelForTokenClassification` folder (num_labels = 1) + rewardkit.json (family `process`,
kind `explicit`). It exists to compare against the implicit PRM, which needs no step labels.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import torch

from rewardkit.data.batching import length_sorted_batches, pad_batch
from rewardkit.data.chat import ChatEncoder, Encoded
from rewardkit.data.schemas import Sample
from rewardkit.errors import ModelLoadError
from rewardkit.models.hf import save_model_folder
from rewardkit.models.base import Scores
from rewardkit.models.process import ProcessOptions
from rewardkit.models.steps import aggregate_steps, response_token_steps


def step_end_positions(token_steps: Sequence[int], n_steps: int, first: int) -> list[int]:
    """Absolute index of the last token of each step; response token j sits at `first + j`. A step with no
    token of its own borrows the end of the step before it (or the token before the response).

    >>> step_end_positions([0, 0, 2, 2], 3, first=5)
    [6, 6, 8]
    """
    ends = [-1] * n_steps
    for j, step in enumerate(token_steps):
        ends[step] = first + j
    previous = first - 1
    for k, end in enumerate(ends):
        ends[k] = previous = end if end >= 0 else previous
    return ends


class StepHeadModel:
    """A token-classification network whose output at each step's last token is that step's logit."""

    family = "process"

    def __init__(self, network, tokenizer, options: ProcessOptions):
        options.kind = "explicit"
        options.check()
        self.network, self.tokenizer, self.options = network, tokenizer, options
        self.encoder = ChatEncoder(tokenizer, options.max_length)
        self.module = network

    def encode(self, sample: Sample) -> tuple[Encoded, list[int]]:
        """The encoded sample and the positions of its step ends."""
        encoded = self.encoder.encode(sample)
        index, n_steps = response_token_steps(self.encoder, sample, encoded, self.options.separator)
        return encoded, step_end_positions(index, n_steps, max(encoded.response_start, 1))

    def collate(self, encoded: Sequence[Encoded]) -> dict:
        batch = pad_batch([e.input_ids for e in encoded], self.tokenizer.pad_token_id, "right")
        device = next(self.network.parameters()).device
        return {k: v.to(device) for k, v in batch.items()}

    @staticmethod
    def token_logits(module, batch: dict) -> torch.Tensor:
        """[B, T] per-token logits."""
        return module(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[..., 0]

    @torch.no_grad()
    def step_values(self, batch: Sequence[Sample]) -> tuple[list[list[float]], int]:
        items = [self.encode(s) for s in batch]
        out: list[list[float]] = [[] for _ in items]
        was_training = self.network.training
        self.network.eval()
        for index in length_sorted_batches([len(e.input_ids) for e, _ in items], self.options.batch_size):
            logits = self.token_logits(self.network, self.collate([items[i][0] for i in index])).float().cpu()
            for row, i in enumerate(index):
                out[i] = torch.sigmoid(logits[row, items[i][1]]).tolist()
        self.network.train(was_training)
        return out, sum(e.truncated for e, _ in items)

    def score(self, batch: Sequence[Sample]) -> Scores:
        steps, truncated = self.step_values(list(batch))
        rewards = [aggregate_steps(values, self.options.aggregation) for values in steps]
        return Scores(rewards, steps=steps, truncated=truncated)

    def save(self, path: str | Path) -> Path:
        return save_model_folder(self.network, self.tokenizer, self.family, asdict(self.options), path)


def _token_classifier(path: str, trust_remote_code: bool, new_head: bool):
    from transformers import AutoModelForTokenClassification

    from rewardkit.models.hf import _quiet_transformers, check_local_folder

    check_local_folder(path)
    _quiet_transformers()
    extra = {"num_labels": 1} if new_head else {}
    try:
        return AutoModelForTokenClassification.from_pretrained(
            path, use_safetensors=True, trust_remote_code=trust_remote_code, dtype="float32", **extra
        )
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"cannot load a token-classification model from {path}: {err}") from None


def build_step_head(backbone: str, *, separator: str = "newline", aggregation: str = "min",
                    max_length: int = 1024, trust_remote_code: bool = False, seed: int = 0) -> StepHeadModel:
    """A new (untrained) step head on a backbone folder, hub id or 'smollm2'; its initial weights depend on
    `seed` alone."""
    from rewardkit.models.causal_lm import resolve_causal_lm
    from rewardkit.models.hf import load_tokenizer
    from rewardkit.models.seeding import seeded

    path = resolve_causal_lm(backbone)
    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    with seeded(seed):
        network = _token_classifier(path, trust_remote_code, new_head=True)
    network.config.pad_token_id = tokenizer.pad_token_id
    options = ProcessOptions(kind="explicit", separator=separator, aggregation=aggregation, max_length=max_length)
    return StepHeadModel(network, tokenizer, options)


def load_step_head(path: str, options: ProcessOptions, *, trust_remote_code: bool = False) -> StepHeadModel:
    from rewardkit.models.hf import load_tokenizer

    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    return StepHeadModel(_token_classifier(path, trust_remote_code, new_head=False), tokenizer, options)
