"""TRL's `RewardTrainer` set up as its documentation shows, on the same backbone and pairs as rewardkit.

Rows are TRL's explicit-prompt format: plain text (`prompt + response + eos`) for an encoder, conversational
(message lists, rendered by the tokenizer's chat template) for a tokenizer that has one, as TRL's documentation
recommends for chat models."""

from __future__ import annotations

import time
from pathlib import Path


def trl_rows(synth_pairs, conversational: bool = False) -> list[dict]:
    """Explicit-prompt rows. Plain: TRL tokenizes prompt + response + eos. Conversational: TRL renders
    prompt + [assistant response] with the chat template."""
    from rewardkit.data.chat import render_plain

    if conversational:
        def turn(text):
            return [{"role": "assistant", "content": text}]

        return [{"prompt": [{"role": m.role, "content": m.content} for m in sp.pair.prompt],
                 "chosen": turn(sp.pair.chosen), "rejected": turn(sp.pair.rejected)} for sp in synth_pairs]
    return [{"prompt": render_plain(sp.pair.prompt) + "\n", "chosen": sp.pair.chosen, "rejected": sp.pair.rejected}
            for sp in synth_pairs]


def trl_tokenizer(backbone: str):
    """The backbone's tokenizer, with the eos and pad tokens TRL needs (a BERT tokenizer has no eos: [SEP])."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(backbone)
    if tokenizer.eos_token is None:
        tokenizer.eos_token = tokenizer.sep_token  # TRL appends eos to every plain text
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def trl_token_ids(rows: list[dict], tokenizer) -> list[list[int]]:
    """Token ids of every row's chosen then rejected text, as TRL's RewardTrainer tokenizes them."""
    out = []
    for row in rows:
        for side in ("chosen", "rejected"):
            if isinstance(row["prompt"], list):
                out.append(tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=True,
                                                         return_dict=True)["input_ids"])
            else:
                out.append(tokenizer(row["prompt"] + row[side] + tokenizer.eos_token)["input_ids"])
    return out


def fitting_pairs(synth_pairs, backbone: str, max_length: int) -> list:
    """The pairs TRL keeps: it drops a pair whose chosen or rejected text exceeds max_length tokens (rewardkit
    would cut the prompt's left instead); both sides then train on the same pairs."""
    tokenizer = trl_tokenizer(backbone)
    ids = trl_token_ids(trl_rows(synth_pairs, bool(tokenizer.chat_template)), tokenizer)
    return [sp for i, sp in enumerate(synth_pairs) if max(len(ids[2 * i]), len(ids[2 * i + 1])) <= max_length]


def step_timer():
    """A TrainerCallback recording the wall time at the start and at the end of every optimizer step."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.starts: list[float] = []
            self.ends: list[float] = []

        def on_step_begin(self, args, state, control, **kwargs):
            self.starts.append(time.perf_counter())

        def on_step_end(self, args, state, control, **kwargs):
            self.ends.append(time.perf_counter())

    return StepTimer()


PEER_SETTINGS = {"gradient_checkpointing": False, "bf16": False}
"""Where the peer departs from RewardConfig's defaults (gradient_checkpointing=True, bf16=True): both are memory
and GPU settings. Checkpointing recomputes every layer's forward in the backward (about a third more work);
bf16 is compared separately (rewardkit trains in fp32 by default). benchmarks/NOTES-trl.md has the measurements."""


def trl_train(train_pairs, settings: dict, out: Path, order: list[int] | None = None,
              overrides: dict | None = None, callbacks=()):
    """Train with TRL; returns (model, tokenizer, step start times, pairs kept: TRL drops pairs over max_length).

    `order`: the pair indices to train on, in this order (TRL's sampler then runs sequentially over them).
    `overrides`: RewardConfig fields replacing the peer's (e.g. {"gradient_checkpointing": True}); `callbacks`:
    more TrainerCallbacks."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, PrinterCallback
    from trl import RewardConfig, RewardTrainer

    from rewardkit.models.defaults import resolve_backbone

    backbone = resolve_backbone(settings["backbone"])
    tokenizer = trl_tokenizer(backbone)
    torch.manual_seed(settings["seed"])
    model = AutoModelForSequenceClassification.from_pretrained(backbone, num_labels=1, dtype="float32")
    model.config.pad_token_id = tokenizer.pad_token_id
    args = RewardConfig(
        output_dir=str(out), max_steps=settings["steps"], per_device_train_batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], warmup_steps=int(settings["warmup_ratio"] * settings["steps"]),
        weight_decay=settings["weight_decay"], max_grad_norm=1.0, lr_scheduler_type="linear", seed=settings["seed"],
        max_length=settings["max_length"], use_cpu=True,
        report_to="none", logging_steps=settings["steps"] + 1, save_strategy="no", eval_strategy="no",
        dataloader_num_workers=0, disable_tqdm=True,
        train_sampling_strategy="random" if order is None else "sequential",
        **{**PEER_SETTINGS, **(overrides or {})},
    )
    rows = trl_rows(train_pairs, bool(tokenizer.chat_template))
    if order is not None:
        rows = [rows[i] for i in order]
    timer = step_timer()
    trainer = RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                            processing_class=tokenizer, callbacks=[timer, *callbacks])
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    return trainer.model, tokenizer, timer.starts, len(trainer.train_dataset)


def trl_accuracy(model, tokenizer, pairs, max_length: int, batch_size: int = 64) -> float:
    """Held-out accuracy of a TRL-trained model, scoring texts exactly as TRL formatted them in training."""
    import torch

    from rewardkit.evaluation.pairwise import pairwise_accuracy

    rows = trl_rows(pairs, bool(tokenizer.chat_template))
    ids = [row[:max_length] for row in trl_token_ids(rows, tokenizer)]
    model.eval()
    rewards: list[float] = []
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            batch = tokenizer.pad({"input_ids": ids[start:start + batch_size]}, return_tensors="pt")
            rewards += model(**batch).logits[:, 0].tolist()
    return pairwise_accuracy([rewards[2 * i] - rewards[2 * i + 1] for i in range(len(rows))])
