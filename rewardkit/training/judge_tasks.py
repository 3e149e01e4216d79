"""Training Critique-out-Loud reward models (judge family, objective `cloud`; Ankner et al., 2024).

Each training pair carries a critique of each response: a reference critique from the data (written by people
or generated beforehand by a stronger judge through any backend), or, when a row has none, one the untrained
model writes itself at the start (greedy, `critique_tokens` long). The loss (training/losses.cloud_loss) is

    −log σ(r(x, y_c, c_c) − r(x, y_r, c_r))  +  λ · NLL(reference critique tokens | prompt, response)

with r the linear head on the LM's last hidden state over [prompt, response, critique]
(rewardkit.models.cloud); the LM term only covers reference critiques, never self-written ones.

Data: JSONL rows {"prompt", "chosen", "rejected", "chosen_critique"?, "rejected_critique"?} (keys
configurable); a missing or non-string field is an error naming the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from rewardkit.data.batching import neighbour_prefixes, pad_batch
from rewardkit.data.formats import conversation_field
from rewardkit.data.jsonl import iter_jsonl
from rewardkit.data.schemas import PreferencePair
from rewardkit.errors import ConfigError, DataError
from rewardkit.models.logprobs import first_response_column
from rewardkit.training import losses
from rewardkit.training.config import max_length_for
from rewardkit.training.log_ratio import causal_backbone
from rewardkit.training.pair_data import holdout_split


@dataclass
class CloudOptions:
    """Keys of the judge family's cloud objective."""

    critique_weight: float = 1.0
    """λ: weight of the LM loss on reference critiques beside the Bradley-Terry loss on rewards."""
    critique_tokens: int = 64
    """Tokens of a critique the model writes for a row without a reference critique (and when scoring)."""
    chosen_critique_key: str = "chosen_critique"
    """Key of the chosen response's reference critique."""
    rejected_critique_key: str = "rejected_critique"
    """Key of the rejected response's reference critique."""
    template: str = ""
    """Critique prompt template file (fields {prompt} and {response}); empty: judge_templates/cloud.txt."""


@dataclass(frozen=True)
class CritiquedPair:
    pair: PreferencePair
    chosen_critique: str | None
    rejected_critique: str | None


def read_critiqued_pairs(path: str, options: CloudOptions) -> list[CritiquedPair]:
    """Pairs with optional critiques from a JSONL file; wrong rows are errors naming file, line and field."""
    rows = [critiqued_pair(row, options, file=path, line=line) for line, row in iter_jsonl(path)]
    if not rows:
        raise DataError("no pairs", file=path)
    return rows


def critiqued_pair(row: dict, options: CloudOptions, *, file: str, line: int) -> CritiquedPair:
    """One row {"prompt", "chosen", "rejected", critiques?} as a CritiquedPair; a DataError names the field."""
    for key in ("prompt", "chosen", "rejected"):
        if key not in row:
            raise DataError("missing", file=file, line=line, field=key)
        if not isinstance(row[key], str) and not (key == "prompt" and isinstance(row[key], list)):
            raise DataError("must be a string", file=file, line=line, field=key)
    critiques = []
    for key in (options.chosen_critique_key, options.rejected_critique_key):
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise DataError("must be a string (or absent)", file=file, line=line, field=key)
        critiques.append(value or None)
    pair = PreferencePair(conversation_field(row, "prompt", file=file, line=line), row["chosen"], row["rejected"],
                          id=str(line))
    return CritiquedPair(pair, *critiques)


class CloudTask:
    """Pairwise Critique-out-Loud training: one forward runs chosen and rejected [prompt, response, critique]."""

    data_stats = None

    def __init__(self, model, train: Sequence[CritiquedPair], evaluation: Sequence[CritiquedPair],
                 critique_weight: float):
        self.model, self.module, self.weight = model, model.scorer, critique_weight
        self.train_items, self.train_reference = self._encode(train)
        self.eval_items, _ = self._encode(evaluation)
        self.truncated = sum(e.truncated for e in self.train_items)

    def _encode(self, rows: Sequence[CritiquedPair]):
        """Items [chosen_0, rejected_0, …] and, per item, whether its critique is a reference one."""
        missing = [s for r in rows for s, c in zip(r.pair.samples(), (r.chosen_critique, r.rejected_critique))
                   if c is None]
        written = iter(self.model.generate([self.model.critique_prompt(s) for s in missing])) if missing else None
        items, reference = [], []
        for r in rows:
            for sample, critique in zip(r.pair.samples(), (r.chosen_critique, r.rejected_critique)):
                reference.append(critique is not None)
                items.append(self.model.encode(sample, critique if critique is not None else next(written)[0]))
        return items, torch.tensor(reference, dtype=torch.float32)

    def lengths(self) -> list[int]:
        return [max(len(self.train_items[2 * i].input_ids), len(self.train_items[2 * i + 1].input_ids))
                for i in range(len(self.train_items) // 2)]

    def loss(self, module, indices):
        rows = [row for i in indices for row in (2 * i, 2 * i + 1)]
        items = [self.train_items[r] for r in rows]
        batch = pad_batch([e.input_ids for e in items], self.model.tokenizer.pad_token_id)
        device = next(module.parameters()).device
        ids, attention = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        shared = torch.tensor(neighbour_prefixes([e.input_ids for e in items]), device=device)  # a pair's chats
        rewards, critiques = module(ids, attention, [first_response_column(e) for e in items], shared)
        nll = losses.mean_token_nll(critiques, self.train_reference[rows])  # host weights: no device sync
        chosen, rejected = rewards[0::2], rewards[1::2]
        loss = losses.cloud_loss(chosen, rejected, nll, self.weight)
        return loss, {"accuracy": (chosen > rejected).float().mean().detach(), "critique_nll": nll.detach()}

    def evaluate(self) -> dict[str, float]:
        if not self.eval_items:
            return {}
        was_training = self.module.training
        self.module.eval()
        rewards = self.model.rewards_for(self.eval_items)
        self.module.train(was_training)
        margins = [rewards[i] - rewards[i + 1] for i in range(0, len(rewards), 2)]
        return {"eval_accuracy": sum(m > 0 for m in margins) / len(margins), "eval_pairs": len(margins)}

    def finish(self, out_dir) -> None:
        self.model.save(out_dir / "model")


def build_cloud_task(config, options: CloudOptions) -> CloudTask:
    """The task for a TrainConfig of family `judge`, objective `cloud`: the LM is `backbone` (default the
    shipped SmolLM2), the head new; data / eval_data (or an eval_fraction of data) are critiqued pairs."""
    from rewardkit.models.causal_lm import load_causal_lm_and_tokenizer
    from rewardkit.models.cloud import CloudRewardModel, new_head
    from rewardkit.models.judge import JudgeOptions

    if not config.data:
        raise ConfigError("no training data: pass --data FILE of critiqued pairs (or data: in the config)")
    if options.critique_weight < 0:
        raise ConfigError(f"critique_weight must be >= 0, got {options.critique_weight}")
    rows = read_critiqued_pairs(config.data, options)
    if config.eval_data:
        train, held = rows, read_critiqued_pairs(config.eval_data, options)
    else:
        train, held = holdout_split(rows, config.eval_fraction, config.seed)
    backbone = causal_backbone(config.backbone)
    network, tokenizer = load_causal_lm_and_tokenizer(backbone)
    judge_options = JudgeOptions(kind="cloud", model=backbone, max_tokens=options.critique_tokens,
                                 template=options.template or None, critique_weight=options.critique_weight,
                                 seed=config.seed)
    model = CloudRewardModel(judge_options, network, tokenizer, new_head(network, config.seed),
                             max_length_for(config, backbone))
    return CloudTask(model, train, held, options.critique_weight)
