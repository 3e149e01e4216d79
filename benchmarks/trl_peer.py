"""TRL's `RewardTrainer` set up as its documentation shows, on the same MiniLM backbone and pairs."""

from __future__ import annotations

import time
from pathlib import Path


def trl_rows(synth_pairs) -> list[dict]:
    """Explicit-prompt, non-conversational rows: TRL tokenizes prompt + response + eos."""
    from rewardkit.data.chat import render_plain

    return [{"prompt": render_plain(sp.pair.prompt) + "\n", "chosen": sp.pair.chosen, "rejected": sp.pair.rejected}
            for sp in synth_pairs]


def step_timer():
    """A TrainerCallback recording the wall time at the start of every optimizer step."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.starts: list[float] = []

        def on_step_begin(self, args, state, control, **kwargs):
            self.starts.append(time.perf_counter())

    return StepTimer()


def trl_train(train_pairs, settings: dict, out: Path, order: list[int] | None = None):
    """Train with TRL; returns (model, tokenizer, step start times, pairs kept: TRL drops pairs over max_length).

    `order`: the pair indices to train on, in this order (TRL's sampler then runs sequentially over them)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, PrinterCallback
    from trl import RewardConfig, RewardTrainer

    from rewardkit.models.defaults import resolve_backbone

    backbone = resolve_backbone(settings["backbone"])
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    tokenizer.eos_token = tokenizer.sep_token  # a BERT tokenizer has no EOS; TRL appends one to every text
    torch.manual_seed(settings["seed"])
    model = AutoModelForSequenceClassification.from_pretrained(backbone, num_labels=1, dtype="float32")
    model.config.pad_token_id = tokenizer.pad_token_id
    args = RewardConfig(
        output_dir=str(out), max_steps=settings["steps"], per_device_train_batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], warmup_steps=settings["warmup_ratio"],
        weight_decay=settings["weight_decay"], max_grad_norm=1.0, lr_scheduler_type="linear", seed=settings["seed"],
        max_length=settings["max_length"], gradient_checkpointing=False, bf16=False, use_cpu=True,
        report_to="none", logging_steps=settings["steps"] + 1, save_strategy="no", eval_strategy="no",
        dataloader_num_workers=0, disable_tqdm=True,
        train_sampling_strategy="random" if order is None else "sequential",
    )
    rows = trl_rows(train_pairs)
    if order is not None:
        rows = [rows[i] for i in order]
    timer = step_timer()
    trainer = RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                            processing_class=tokenizer, callbacks=[timer])
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    return trainer.model, tokenizer, timer.starts, len(trainer.train_dataset)


def trl_accuracy(model, tokenizer, pairs, max_length: int, batch_size: int = 64) -> float:
    """Held-out accuracy of a TRL-trained model, scoring texts exactly as TRL formatted them in training."""
    import torch

    from rewardkit.evaluation.pairwise import pairwise_accuracy

    rows = trl_rows(pairs)
    texts = [r["prompt"] + r[side] + tokenizer.eos_token for r in rows for side in ("chosen", "rejected")]
    model.eval()
    rewards: list[float] = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
            rewards += model(**batch).logits[:, 0].tolist()
    return pairwise_accuracy([rewards[2 * i] - rewards[2 * i + 1] for i in range(len(rows))])
