"""Where a step of TRL's RewardTrainer goes on realistic-length conversations, and what its settings cost.

    python benchmarks/trl_step_profile.py [--backbone smollm2|minilm|DIR] [--workload long|short] [--max-length N]
                                          [--batch-size 16] [--steps 3] [--config peer|trl-defaults] [--profile]

The same pairs, batches and order as train_vs_trl.py gives TRL. Printed:
- padding, counted (not timed): the tokens TRL's collator hands the model per step (chosen and rejected
  sequences, 2 x batch, right-padded to the longest of them) against the real tokens in them, over a whole
  epoch of batches; rewardkit's packed forward computes the real tokens only;
- seconds of each step (on_step_begin to on_step_end, the optimizer step included), wall-clock and this
  process's CPU time (less disturbed by other processes on a shared machine), torch's thread count inside the
  step, and this process's peak RSS, under `--config peer` (train_vs_trl.py's: gradient_checkpointing=False,
  bf16=False) or `--config trl-defaults` (RewardConfig's own defaults: gradient_checkpointing=True, bf16=True);
- `--profile`: torch.profiler over every step after the first: the operators with the most self CPU time, the
  share of matrix multiplications, and the matmul GFLOP per step (a count: the same on a busy machine).
`--steps 0` counts the padding only. Run each config in its own process, alone on the machine, to compare
their times.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import long_context_pairs, synth_splits  # noqa: E402
from common import machine_line, quiet  # noqa: E402
from train_vs_trl import batch_order  # noqa: E402
from trl_peer import fitting_pairs, trl_rows, trl_token_ids, trl_tokenizer, trl_train  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

CONFIGS = {"peer": {}, "trl-defaults": {"gradient_checkpointing": True, "bf16": True}}
"""RewardConfig fields over train_vs_trl's peer settings (trl_peer.PEER_SETTINGS)."""
MATMULS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear", "aten::_mkldnn")


def padding(lengths: list[int], order: list[int], batch_size: int) -> dict:
    """Tokens TRL computes (2B sequences padded to the longest) vs real tokens, over the batches of `order`.
    `lengths[2i]`, `lengths[2i+1]`: pair i's chosen and rejected token counts.

    >>> padding([3, 5, 2, 2], [0, 1], batch_size=2)
    {'steps': 1, 'real_tokens_per_step': 12.0, 'padded_tokens_per_step': 20.0, 'padded_over_real': 1.6667}
    """
    real, padded = [], []
    for start in range(0, len(order) - batch_size + 1, batch_size):
        sizes = [lengths[2 * i + side] for i in order[start:start + batch_size] for side in (0, 1)]
        real.append(sum(sizes))
        padded.append(len(sizes) * max(sizes))
    return {"steps": len(real), "real_tokens_per_step": statistics.fmean(real),
            "padded_tokens_per_step": statistics.fmean(padded),
            "padded_over_real": round(sum(padded) / sum(real), 4)}


def step_clock(profile: bool):
    """A TrainerCallback timing each step; with `profile`, torch.profiler runs from the second step to the end."""
    import torch
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self):
            self.seconds: list[float] = []
            self.cpu_seconds: list[float] = []
            self.threads: set[int] = set()
            self.profiler = None
            self.profiled_steps = 0

        def on_step_begin(self, args, state, control, **kwargs):
            if profile and state.global_step == 1:
                self.profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                                       with_flops=True)
                self.profiler.__enter__()
            self.threads.add(torch.get_num_threads())
            self.started, self.started_cpu = time.perf_counter(), time.process_time()

        def on_step_end(self, args, state, control, **kwargs):
            self.seconds.append(time.perf_counter() - self.started)
            self.cpu_seconds.append(time.process_time() - self.started_cpu)
            self.profiled_steps += self.profiler is not None

        def on_train_end(self, args, state, control, **kwargs):
            if self.profiler is not None:
                self.profiler.__exit__(None, None, None)

    return StepClock()


def matmul_share(profiler) -> float:
    """Share of self CPU time spent in matrix-multiplication operators."""
    events = profiler.key_averages()
    total = sum(e.self_cpu_time_total for e in events) or 1
    return sum(e.self_cpu_time_total for e in events if e.key.startswith(MATMULS)) / total


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="smollm2")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="long")
    parser.add_argument("--max-length", type=int, help="tokens per sample (default: 128 short, 512 long)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=600, help="pairs generated (the training split is used)")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="peer")
    parser.add_argument("--profile", action="store_true", help="torch.profiler over the steps after the first")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    quiet()
    from rewardkit.models.defaults import resolve_backbone

    max_length = args.max_length or WORKLOADS[args.workload]
    train_pairs, _, _ = synth_splits(args.pairs, args.seed)
    if args.workload == "long":
        train_pairs = long_context_pairs(train_pairs, args.seed)
    backbone = resolve_backbone(args.backbone)
    train_pairs = fitting_pairs(train_pairs, backbone, max_length)
    train_pairs = train_pairs[: len(train_pairs) // args.batch_size * args.batch_size]
    tokenizer = trl_tokenizer(backbone)
    lengths = [len(ids) for ids in trl_token_ids(trl_rows(train_pairs, bool(tokenizer.chat_template)), tokenizer)]
    settings = {"backbone": args.backbone, "steps": args.steps, "batch_size": args.batch_size,
                "max_length": max_length, "seed": args.seed, "learning_rate": 5e-5, "warmup_ratio": 0.1,
                "weight_decay": 0.01}
    epoch = batch_order(len(train_pairs), {**settings, "steps": len(train_pairs) // args.batch_size})
    pads = padding(lengths, epoch, args.batch_size)
    name = Path(args.backbone).name
    print(f"[TRL {name} {args.workload} {max_length}, batch {args.batch_size}] padding over {pads['steps']} steps: "
          f"{pads['padded_tokens_per_step']:.0f} tokens computed per step for {pads['real_tokens_per_step']:.0f} "
          f"real ({pads['padded_over_real']:.2f}x)")
    figures = {"settings": settings, "config": args.config, "overrides": CONFIGS[args.config], **pads}
    if args.steps == 0:
        return figures
    clock = step_clock(args.profile)
    with tempfile.TemporaryDirectory() as tmp:
        model, _, _, _ = trl_train(train_pairs, settings, Path(tmp), order=batch_order(len(train_pairs), settings),
                                   overrides=CONFIGS[args.config], callbacks=[clock])
    figures.update({"attention": model.config._attn_implementation, "step_seconds": clock.seconds,
                    "step_cpu_seconds": clock.cpu_seconds, "torch_threads_in_step": sorted(clock.threads),
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    print(f"config {args.config} {CONFIGS[args.config] or '(gradient_checkpointing=False, bf16=False)'}, "
          f"attention {figures['attention']}, torch threads {figures['torch_threads_in_step']}: step seconds " +
          " ".join(f"{s:.1f}" for s in clock.seconds) + "; CPU seconds " +
          " ".join(f"{s:.1f}" for s in clock.cpu_seconds) + f"; peak RSS {figures['peak_rss_mb']:.0f} MB")
    if clock.profiler is not None:
        events = clock.profiler.key_averages()
        figures["matmul_share"] = matmul_share(clock.profiler)
        figures["gflop_per_step"] = sum(e.flops for e in events) / 1e9 / max(1, clock.profiled_steps)
        print(events.table(sort_by="self_cpu_time_total", row_limit=15))
        print(f"matrix multiplications: {100 * figures['matmul_share']:.0f}% of self CPU time; "
              f"{figures['gflop_per_step']:.0f} GFLOP per step (profiler count, {clock.profiled_steps} steps)")
    print(machine_line())
    return figures


if __name__ == "__main__":
    main()
