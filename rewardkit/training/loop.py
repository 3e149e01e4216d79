"""One training loop for every trainable family: AdamW, linear warm-up/decay, gradient accumulation and
clipping, periodic evaluation, atomic resumable checkpoints, a rich progress bar. Runs under `accelerate`, so
the same code serves one CPU, one GPU or `accelerate launch` across many."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch

from rewardkit.data.batching import shuffled_batches
from rewardkit.errors import ConfigError
from rewardkit.models.precision import autocast, check_dtype
from rewardkit.training.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from rewardkit.training.config import TrainConfig
from rewardkit.training.model_card import write_training_card
from rewardkit.training.tasks import TrainTask


LOG_SYNC_STEPS = 10
"""Steps between host syncs for logging (also at every evaluation, checkpoint and the last step)."""
TRAIN_LOG = "train_log.jsonl"


def keep_log_until(path: Path, step: int) -> None:
    """Drop the log records after `step` (written by a run killed after its last checkpoint), so that a resumed
    run's log reads like an uninterrupted one."""
    from rewardkit.atomic import atomic_file

    if not path.is_file():
        return
    def logged_step(line: str) -> float:
        try:
            return json.loads(line).get("step", 0)
        except json.JSONDecodeError:  # a line cut short by the kill
            return float("inf")

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() and logged_step(line) <= step]
    if len(kept) != len(lines):
        with atomic_file(path) as handle:
            handle.writelines(kept)


@dataclass
class TrainResult:
    steps: int
    train_seconds: float
    last_eval: dict = field(default_factory=dict)
    resumed_from: int = 0


def total_steps(config: TrainConfig, n_examples: int) -> int:
    """Optimizer steps: max_steps if set, else epochs × ceil(batches / grad_accum)."""
    if config.max_steps > 0:
        return config.max_steps
    batches = math.ceil(n_examples / config.batch_size)
    return max(1, math.ceil(config.epochs * math.ceil(batches / config.grad_accum)))


def undecayed(module: torch.nn.Module) -> set[int]:
    """ids of the parameters weight decay leaves alone: biases, and the weights of normalisation layers
    (torch's LayerNorm, and any layer class named *Norm such as an RMSNorm), as the HF Trainer does."""
    out = set()
    for layer in module.modules():
        is_norm = isinstance(layer, torch.nn.LayerNorm) or type(layer).__name__.endswith("Norm")
        for name, parameter in layer.named_parameters(recurse=False):
            if is_norm or name == "bias":
                out.add(id(parameter))
    return out


def parameter_groups(module: torch.nn.Module, config: TrainConfig) -> list[dict]:
    """Backbone parameters at `learning_rate`, the new head (anything outside the HF base model) at
    `head_learning_rate`; each split into weights with `weight_decay` and biases/norms without; token
    embeddings frozen when `freeze_embeddings`. Empty groups are left out."""
    from transformers import PreTrainedModel

    network = next((m for m in module.modules() if isinstance(m, PreTrainedModel)), None)
    if config.freeze_embeddings and network is not None:
        network.get_input_embeddings().requires_grad_(False)
    # a module without a transformers network (a gate on cached embeddings) is all head
    in_base = {id(p) for p in network.base_model.parameters()} if network is not None else set()
    no_decay = undecayed(module)
    trainable = [p for p in module.parameters() if p.requires_grad]
    groups = []
    for base, lr in ((True, config.learning_rate), (False, config.head_learning_rate or config.learning_rate)):
        for decay in (True, False):
            params = [p for p in trainable if (id(p) in in_base) == base and (id(p) not in no_decay) == decay]
            if params:
                groups.append({"params": params, "lr": lr, "weight_decay": config.weight_decay if decay else 0.0})
    return groups


def disable_dropout(module: torch.nn.Module) -> None:
    """Set every dropout layer's probability to 0 (they stay in the graph; train/eval mode no longer matters)."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Dropout):
            layer.p = 0.0


def fused_adamw_supported(device: torch.device) -> bool:
    """torch's fused AdamW kernel (one pass over all parameters, as the HF Trainer's default `adamw_torch_fused`)
    runs on CPU, CUDA and MPS; elsewhere the per-tensor implementation is used."""
    return device.type in ("cpu", "cuda", "mps")


def micro_batches(n_examples: int, config: TrainConfig, skip: int) -> Iterator[list[int]]:
    """Endless, deterministic stream of index batches (a new shuffle per epoch), skipping the first `skip`."""
    epoch, seen = 0, 0
    while True:
        for batch in shuffled_batches(n_examples, config.batch_size, seed=config.seed * 1000 + epoch):
            if seen >= skip:
                yield batch
            seen += 1
        epoch += 1


def train(task: TrainTask, config: TrainConfig, out_dir: str | Path, *, resume: bool = False,
          show_progress: bool = True) -> TrainResult:
    from accelerate import Accelerator
    from transformers import get_linear_schedule_with_warmup, set_seed

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if has_checkpoint(out_dir) and not resume:
        raise ConfigError(f"{out_dir} already holds a checkpoint: pass --resume to continue it, or use another --out")
    set_seed(config.seed, deterministic=config.deterministic)
    if not config.dropout:
        disable_dropout(task.module)
    # bf16 is our own autocast around the loss (not accelerate's mixed_precision, which is fixed per process)
    accelerator = Accelerator(gradient_accumulation_steps=config.grad_accum)
    check_dtype(config.dtype, accelerator.device)
    steps = total_steps(config, len(task.lengths()))
    optimizer = torch.optim.AdamW(parameter_groups(task.module, config),
                                  fused=fused_adamw_supported(accelerator.device))
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * steps), steps)
    module, optimizer, scheduler = accelerator.prepare(task.module, optimizer, scheduler)
    start = load_checkpoint(out_dir, module, optimizer, scheduler)["step"] if resume and has_checkpoint(out_dir) else 0
    keep_log_until(out_dir / TRAIN_LOG, start)
    result = TrainResult(steps=start, train_seconds=0.0, resumed_from=start)
    if start < steps:
        _run(task, config, out_dir, accelerator, (module, optimizer, scheduler), range(start, steps), result,
             show_progress)
    task.finish(out_dir)
    if (out_dir / "model").is_dir():
        write_training_card(out_dir / "model", config, result, task)
    return result


def _run(task, config, out_dir, accelerator, prepared, step_range, result, show_progress) -> None:
    module, optimizer, scheduler = prepared
    batches = micro_batches(len(task.lengths()), config, skip=step_range.start * config.grad_accum)
    log = (out_dir / TRAIN_LOG).open("a", encoding="utf-8")
    started = time.perf_counter()
    module.train()
    pending: list[dict] = []  # per-step records whose metrics are still device tensors
    with _progress(show_progress, len(step_range)) as (progress, bar):
        for step in step_range:
            step_started = time.perf_counter()
            metrics = _optimizer_step(task, config, accelerator, module, optimizer, scheduler, batches)
            pending.append({"step": step + 1, "lr": scheduler.get_last_lr()[0], **metrics,
                            "seconds": time.perf_counter() - step_started})
            evaluate = (step + 1) % config.eval_every == 0 or step + 1 == step_range.stop
            if evaluate:
                result.last_eval = task.evaluate()
                pending[-1].update(result.last_eval)
                module.train()
            save = (step + 1) % config.save_every == 0 and step + 1 < step_range.stop
            if evaluate or save or len(pending) >= LOG_SYNC_STEPS:
                progress.update(bar, info=_describe(_write_records(log, pending)))
                pending = []
            result.steps = step + 1
            if save:
                save_checkpoint(out_dir, module, optimizer, scheduler, step + 1, {"config": config.to_dict()})
            progress.update(bar, advance=1)
    log.close()
    result.train_seconds = time.perf_counter() - started


def _write_records(log, records: list[dict]) -> dict:
    """Sync the pending records' metrics to the host, append them to the log; returns the last one."""
    plain = [{k: float(v) if isinstance(v, torch.Tensor) else v for k, v in record.items()} for record in records]
    log.write("".join(json.dumps(record) + "\n" for record in plain))
    log.flush()
    return plain[-1]


def _optimizer_step(task, config, accelerator, module, optimizer, scheduler, batches) -> dict:
    """grad_accum micro-batches, one clipped AdamW step. Returns the mean loss (and metrics) of the step, as
    device tensors: reading them here would make the host wait for the device every step."""
    totals: dict[str, torch.Tensor | float] = {}
    for _ in range(config.grad_accum):
        with accelerator.accumulate(module):
            with autocast(config.dtype, accelerator.device):
                loss, metrics = task.loss(module, next(batches))
            accelerator.backward(loss)
            if accelerator.sync_gradients and config.max_grad_norm > 0:
                accelerator.clip_grad_norm_(module.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        for name, value in {"loss": loss.detach(), **metrics}.items():
            totals[name] = totals.get(name, 0.0) + value / config.grad_accum
    return totals


def _describe(record: dict) -> str:
    parts = [f"loss {record['loss']:.4f}"]
    parts += [f"{k.replace('_', ' ')} {v:.3f}" for k, v in record.items() if "accuracy" in k or k.endswith("mse")]
    return "  ".join(parts)


class _progress:
    """A rich progress bar with the latest loss/accuracy, or a silent stand-in."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total = enabled, total

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"), disable=not self.enabled,
        )
        self.progress.__enter__()
        return self.progress, self.progress.add_task("train", total=self.total, info="")

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)
