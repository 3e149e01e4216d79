"""Critique-out-Loud reward model (Ankner et al., 2024): the LM first writes a critique of the response, then
a linear head on its last hidden state over [prompt, response, critique] gives the reward.

The sequence the head reads is one chat: the user turn is the critique template filled with the prompt and the
response (judge_templates/cloud.txt), the assistant turn is the critique; the head reads the hidden state of
its last token. With k > 1 samples (self-consistency) k critiques are drawn and the reward is the mean of
their k rewards, their standard deviation in `Scores.attributes["spread"]`.

A trained model (rewardkit.training.judge_tasks) is a folder: the LM (safetensors) and tokenizer,
cloud_head.safetensors, and rewardkit.json {"family": "judge", "options": {"kind": "cloud", "model": ".", …}}.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from rewardkit.atomic import atomic_dir
from rewardkit.data.batching import pad_batch, prefix_sharing_batches
from rewardkit.data.chat import ChatEncoder, Encoded
from rewardkit.data.schemas import Message, PreferencePair, Sample
from rewardkit.errors import ModelLoadError
from rewardkit.models.backends.local import TransformersBackend
from rewardkit.models.base import Scores, samples_of
from rewardkit.models.hf import MANIFEST
from rewardkit.models.judge import Judge, JudgeOptions, PairJudgement, pair_judgement_from_rewards
from rewardkit.models.judge_prompts import fill, load_template, prompt_text
from rewardkit.models.logprobs import next_token_logprobs
from rewardkit.models.packed_causal_lm import (
    decoded, logprobs_from, packable_causal_lm, packed_final_states, states_from,
)
from rewardkit.models.seeding import seeded

HEAD_FILE = "cloud_head.safetensors"
TRAINED_MODEL = "."
"""`model` of a saved cloud judge whose LM weights sit in its own folder."""


class CloudScorer(torch.nn.Module):
    """The trainable module: a causal LM plus a linear reward head on the last real token's hidden state.
    Llama-family LMs run packed (models/packed_causal_lm.py): real tokens only, the `shared` prefix each row has in
    common with the row before it computed once, and the LM head only where a critique token is predicted."""

    def __init__(self, network, head: torch.nn.Linear):
        super().__init__()
        self.network, self.head = network, head
        self.packed = packable_causal_lm(network)

    def forward(self, input_ids, attention_mask, firsts: list[int], shared: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(rewards [B], per row the log-probabilities of its tokens after column `firsts[b]`: columns firsts[b] …
        L_b − 2 of `next_token_logprobs`) of a right-padded batch."""
        ends = [[n - 1] for n in attention_mask.sum(-1).tolist()]
        if self.packed:
            packed, hidden = decoded(self.network, input_ids, attention_mask, shared)
            last = states_from(self.network, packed, hidden, ends)[:, 0]
            rows = logprobs_from(self.network, packed, hidden, input_ids, attention_mask, firsts)
            return self.head(last).squeeze(-1), rows
        out = self.network(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True,
                           use_cache=False)
        rows = torch.arange(input_ids.shape[0], device=input_ids.device)
        last = out.hidden_states[-1][rows, torch.tensor([e[0] for e in ends], device=input_ids.device)]
        grid = next_token_logprobs(out.logits, input_ids)
        return self.head(last).squeeze(-1), [grid[b, first: e[0]] for b, (first, e) in enumerate(zip(firsts, ends))]

    def rewards(self, input_ids, attention_mask, shared: torch.Tensor | None = None) -> torch.Tensor:
        """The rewards [B] alone (packed: no LM head at all)."""
        if not self.packed:
            return self.forward(input_ids, attention_mask, (attention_mask.sum(-1) - 1).tolist())[0]
        ends = [[n - 1] for n in attention_mask.sum(-1).tolist()]
        return self.head(packed_final_states(self.network, input_ids, attention_mask, ends, shared)[:, 0]).squeeze(-1)


def new_head(network, seed: int) -> torch.nn.Linear:
    """A fresh 1-output head over the LM's hidden size, drawn from `seed` alone."""
    with seeded(seed):
        head = torch.nn.Linear(network.config.hidden_size, 1)
        torch.nn.init.normal_(head.weight, std=0.02)
        torch.nn.init.zeros_(head.bias)
    return head


class CloudRewardModel(Judge):
    """judge:cloud: critique with the LM (greedy, or k samples), then reward = head(h_last)."""

    def __init__(self, options: JudgeOptions, network, tokenizer, head: torch.nn.Linear, max_length: int = 1024):
        backend = TransformersBackend(options.model, network=network, tokenizer=tokenizer,
                                      batch_size=options.batch_size)
        super().__init__(options, backend)
        self.network, self.tokenizer = network, tokenizer
        self.scorer = CloudScorer(network, head).eval()
        self.template = load_template("cloud", options.template)
        self.encoder = ChatEncoder(tokenizer, max_length)

    def critique_prompt(self, sample: Sample) -> str:
        return fill(self.template, prompt=prompt_text(sample), response=sample.response)

    def encode(self, sample: Sample, critique: str) -> Encoded:
        """[prompt, response, critique] as one chat; `response_start` marks the critique's first token."""
        return self.encoder.encode(Sample((Message("user", self.critique_prompt(sample)),), critique))

    @torch.no_grad()
    def rewards_for(self, items: Sequence[Encoded], batch_size: int = 8) -> list[float]:
        """Head rewards of encoded [prompt, response, critique] chats, in their order; chats that begin alike (the k
        critiques of one response) share a pass, their common prefix computed once."""
        rewards = [0.0] * len(items)
        device = next(self.network.parameters()).device
        for index, shared in prefix_sharing_batches([e.input_ids for e in items], batch_size):
            batch = pad_batch([items[i].input_ids for i in index], self.tokenizer.pad_token_id)
            values = self.scorer.rewards(batch["input_ids"].to(device), batch["attention_mask"].to(device),
                                         torch.tensor(shared, device=device))
            for i, value in zip(index, values.float().cpu().tolist()):
                rewards[i] = value
        return rewards

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        batch, k = samples_of(batch), self.options.samples
        critiques = self.generate([self.critique_prompt(s) for s in batch], n=k)
        items = [self.encode(s, c) for s, texts in zip(batch, critiques) for c in texts]
        grid = np.asarray(self.rewards_for(items, batch_size or self.options.batch_size)).reshape(len(batch), k)
        return Scores(grid.mean(1).tolist(), {"spread": grid.std(1).tolist()},
                      texts=["\n\n".join(texts) for texts in critiques],
                      truncated=sum(e.truncated for e in items))

    def compare_pairs(self, pairs: Sequence[PreferencePair]) -> PairJudgement:
        scores = self.score([s for p in pairs for s in p.samples()])
        return pair_judgement_from_rewards(scores.rewards, scores.texts, self.stats)

    def parameter_count(self) -> int | None:
        return sum(p.numel() for p in self.scorer.parameters())

    def save(self, path: str | Path) -> Path:
        from safetensors.torch import save_file

        options = replace(self.options, model=TRAINED_MODEL)
        with atomic_dir(path) as tmp:
            self.network.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer.save_pretrained(tmp)
            save_file({k: v.detach().cpu().contiguous() for k, v in self.scorer.head.state_dict().items()},
                      str(tmp / HEAD_FILE))
            manifest = {"family": "judge", "options": asdict(options), "max_length": self.encoder.max_length}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return Path(path)


def build_cloud(options: JudgeOptions, max_length: int = 1024) -> CloudRewardModel:
    """judge:cloud over `options.model` (local LM) with a new, untrained head (seeded): train it before use."""
    from rewardkit.models.causal_lm import load_causal_lm_and_tokenizer

    network, tokenizer = load_causal_lm_and_tokenizer(options.model)
    return CloudRewardModel(options, network, tokenizer, new_head(network, options.seed), max_length)


def load_cloud(path: str, options: JudgeOptions) -> CloudRewardModel:
    """A trained cloud judge from its folder (its LM, tokenizer and head)."""
    from safetensors.torch import load_file

    from rewardkit.models.causal_lm import load_causal_lm_and_tokenizer
    from rewardkit.models.hf import read_manifest

    head_file = Path(path) / HEAD_FILE
    if not head_file.is_file():
        raise ModelLoadError(f"{path} is a cloud judge without {HEAD_FILE}")
    lm = path if options.model == TRAINED_MODEL else options.model
    network, tokenizer = load_causal_lm_and_tokenizer(lm)
    head = torch.nn.Linear(network.config.hidden_size, 1)
    head.load_state_dict(load_file(str(head_file)))
    return CloudRewardModel(replace(options, model=str(lm)), network, tokenizer, head,
                            int(read_manifest(path).get("max_length", 1024)))
