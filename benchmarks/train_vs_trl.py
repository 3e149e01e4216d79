"""Training, Bradley-Terry: TRL's `RewardTrainer` vs rewardkit's loop, on MiniLM or a decoder (SmolLM2).

Same backbone, same pairs (rewardkit.synth), batch size, max length, steps, learning-rate schedule and seed,
and the same batches in the same order; seconds per step (median over steps) and held-out accuracy for both,
over --rounds seeds.

Why the same batches: after 120 steps, held-out accuracy moves by several points with the batch order alone.
With each side drawing its own order, 6 seeds gave rewardkit 0.729 and TRL 0.748, per-seed differences from
-6.2 to +4.5 points (2026-12-01), too spread to tell 1 point. So rewardkit's loop draws the order (seeded
shuffle, a new one per epoch) and TRL trains on those rows with its sequential sampler; the training pairs are
cut to a multiple of the batch size, so no epoch ends in a short batch and both see the same 16 pairs each step.

    python benchmarks/train_vs_trl.py [--backbone minilm|smollm2|DIR] [--workload short|long] [--steps 120]
                                      [--batch-size 16] [--max-length N] [--rounds 3] [--dtype fp32|bf16]
                                      [--trl-gradient-checkpointing]

Each side formats the pairs its own documented way: for an encoder, TRL as `prompt + response + eos` (eos =
[SEP], as a BERT tokenizer needs) and rewardkit as the text pair (`role: content` prompt, response); for a
decoder with a chat template (SmolLM2), both render the conversation with that template (TRL's conversational
rows). TRL runs with `gradient_checkpointing=False` (its default is True, which is slower) and its default
`disable_dropout=True`. `--dtype bf16` trains both in bf16 mixed precision (TRL's `bf16=True`, its default and
what its speed-up guide recommends; rewardkit's `dtype=bf16`), where the CPU has native bf16.
`--trl-gradient-checkpointing` turns TRL's default back on, for batches whose activations do not fit in memory
without it (benchmarks/NOTES-trl.md: SmolLM2 at batch 16 on the long workload).

Workloads: `short`, the verifiable pairs (≈ 49 MiniLM tokens; max_length 128), and `long`, the same pairs after
a multi-turn conversation of real preference-data length (benchmarks/workloads.py; max_length 512 unless told,
1024 is the other figure to take). TRL drops pairs longer than max_length where rewardkit cuts their prompt, so
such pairs are left out for both sides (counted in the results).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import long_context_pairs, synth_splits  # noqa: E402
from common import machine_line, quiet, ratio_line, save_results  # noqa: E402
from trl_peer import fitting_pairs, trl_accuracy, trl_train  # noqa: E402
from workloads import WORKLOADS  # noqa: E402



def step_seconds(starts: list[float], end: float | None = None, warmup: int = 2) -> float:
    """Median step duration, each step from its start to the next one's (the last to `end`; without `end` the
    last step is not timed), skipping the first `warmup` steps (fewer when that would leave none).

    >>> step_seconds([0.0, 5.0, 6.0, 7.0, 8.5, 9.5], warmup=2), step_seconds([0.0, 5.0, 6.0], warmup=2)
    (1.0, 1.0)
    >>> step_seconds([0.0, 5.0, 6.0, 7.0], 8.5), step_seconds([0.0, 5.0], 6.0)
    (1.25, 1.0)
    """
    durations = [b - a for a, b in zip(starts, [*starts[1:], end] if end is not None else starts[1:])]
    return statistics.median(durations[min(warmup, len(durations) - 1):])


def ours_train(train_pairs, settings: dict, out: Path):
    """rewardkit's loop; returns (trained ScalarRewardModel, step start times, pair indices trained on in order)."""

    from rewardkit.models import scalar
    from rewardkit.models.defaults import resolve_backbone
    from rewardkit.training.config import TrainConfig
    from rewardkit.training.loop import train
    from rewardkit.training.objectives import pair_objective
    from rewardkit.training.tasks import PairTask

    model = scalar.build(resolve_backbone(settings["backbone"]), max_length=settings["max_length"],
                         seed=settings["seed"])
    task = PairTask(model, [sp.pair for sp in train_pairs], [], pair_objective("bt"))
    starts: list[float] = []
    seen: list[int] = []
    loss = task.loss
    task.loss = lambda module, indices: (starts.append(time.perf_counter()), seen.extend(indices),
                                         loss(module, indices))[2]
    config = TrainConfig(max_steps=settings["steps"], batch_size=settings["batch_size"], seed=settings["seed"],
                         dtype=settings.get("dtype", "fp32"),
                         max_length=settings["max_length"], learning_rate=settings["learning_rate"],
                         warmup_ratio=settings["warmup_ratio"], weight_decay=settings["weight_decay"],
                         eval_every=settings["steps"] + 1, save_every=settings["steps"] + 1)
    train(task, config, out, show_progress=False)
    return model, starts, seen


def ours_accuracy(model, pairs) -> float:
    from rewardkit.evaluation.pairwise import pairwise_accuracy
    from rewardkit.models.base import compare

    return pairwise_accuracy(compare(model, [sp.pair for sp in pairs]))


def batch_order(n_pairs: int, settings: dict) -> list[int]:
    """The pair indices rewardkit's loop trains on, step by step, flattened (what TRL is then given)."""
    import itertools

    from rewardkit.training.config import TrainConfig
    from rewardkit.training.loop import micro_batches

    config = TrainConfig(batch_size=settings["batch_size"], seed=settings["seed"])
    return [i for batch in itertools.islice(micro_batches(n_pairs, config, skip=0), settings["steps"])
            for i in batch]


def one_round(train_pairs, test, settings: dict, order: tuple[str, str]) -> dict:
    result = {}
    batches = batch_order(len(train_pairs), settings)
    for side in order:
        with tempfile.TemporaryDirectory() as tmp:
            if side == "peer":
                overrides = {"bf16": settings.get("dtype") == "bf16",
                             "gradient_checkpointing": settings.get("trl_gradient_checkpointing", False)}
                model, tokenizer, starts, kept = trl_train(train_pairs, settings, Path(tmp), order=batches,
                                                           overrides=overrides)
                accuracy = trl_accuracy(model, tokenizer, test, settings["max_length"])
                result["peer_pairs_kept"] = kept
            else:
                model, starts, seen = ours_train(train_pairs, settings, Path(tmp))
                accuracy = ours_accuracy(model, test)
                if seen != batches:
                    raise RuntimeError("rewardkit's loop trained on other batches than TRL was given")
        result[side] = {"seconds_per_step": step_seconds(starts), "accuracy": accuracy,
                        "total_seconds": starts[-1] - starts[0]}
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, help="tokens per sample (default: 128 short, 512 long)")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="short")
    parser.add_argument("--pairs", type=int, default=2400, help="pairs generated (train/test split as quickstart)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds, each with its own seed (--seed + round) and alternating TRL/rewardkit order; "
                             "accuracy at this length of training varies by several points with the seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backbone", default="minilm",
                        help="'minilm' (the shipped MiniLM), 'smollm2' (the shipped SmolLM2-135M-Instruct) or a folder")
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32",
                        help="both sides' precision: bf16 mixed precision needs native bf16")
    parser.add_argument("--trl-gradient-checkpointing", action="store_true",
                        help="TRL with its default gradient checkpointing (less memory, a recomputed forward)")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args(argv)
    quiet()
    from rewardkit.errors import ConfigError
    from rewardkit.models.defaults import resolve_backbone
    from rewardkit.models.precision import check_dtype

    try:
        check_dtype(args.dtype)
    except ConfigError as err:
        parser.exit(2, f"train_vs_trl: no {args.dtype} figure on this machine: {err}\n")

    max_length = args.max_length or WORKLOADS[args.workload]
    settings = {"backbone": args.backbone, "steps": args.steps, "batch_size": args.batch_size,
                "max_length": max_length, "seed": args.seed, "learning_rate": 5e-5, "warmup_ratio": 0.1,
                "weight_decay": 0.01, "workload": args.workload, "dtype": args.dtype,
                "trl_gradient_checkpointing": args.trl_gradient_checkpointing}
    train_pairs, test, _ = synth_splits(args.pairs, args.seed)
    if args.workload == "long":
        train_pairs, test = long_context_pairs(train_pairs, args.seed), long_context_pairs(test, args.seed + 1)
    generated = len(train_pairs) + len(test)
    backbone = resolve_backbone(args.backbone)
    train_pairs, test = fitting_pairs(train_pairs, backbone, max_length), fitting_pairs(test, backbone, max_length)
    left_out = generated - len(train_pairs) - len(test)
    train_pairs = train_pairs[: len(train_pairs) // args.batch_size * args.batch_size]
    rounds = []
    for i in range(args.rounds):
        seeded = {**settings, "seed": args.seed + i}
        rounds.append({"seed": seeded["seed"], **one_round(train_pairs, test, seeded,
                                                          ("peer", "ours") if i % 2 == 0 else ("ours", "peer"))})
    peer = statistics.median(r["peer"]["seconds_per_step"] for r in rounds)
    ours = statistics.median(r["ours"]["seconds_per_step"] for r in rounds)
    ratio = statistics.median(r["peer"]["seconds_per_step"] / r["ours"]["seconds_per_step"] for r in rounds)
    figures = {"settings": settings, "n_train": len(train_pairs), "n_test": len(test),
               "pairs_left_out_over_max_length": left_out, "rounds": rounds,
               "peer_seconds_per_step": peer, "ours_seconds_per_step": ours, "ratio": ratio,
               "peer_accuracy": statistics.mean(r["peer"]["accuracy"] for r in rounds),
               "ours_accuracy": statistics.mean(r["ours"]["accuracy"] for r in rounds)}
    label = " ".join(part for part in ("train BT", Path(args.backbone).name, args.workload, str(max_length),
                                       args.dtype if args.dtype != "fp32" else "",
                                       "TRL-checkpointing" if args.trl_gradient_checkpointing else "") if part)
    print(ratio_line(peer, ours, ratio, "s/step", label) + f"  (ours/peer step time = {1 / ratio:.2f})")
    print(f"held-out accuracy ({len(test)} pairs, mean of {len(rounds)} seeds): "
          f"peer={figures['peer_accuracy']:.4f} ours={figures['ours_accuracy']:.4f}")
    for r in rounds:
        print(f"  seed {r['seed']}: peer={r['peer']['accuracy']:.4f} ours={r['ours']['accuracy']:.4f}")
    print(machine_line())
    if not args.no_save:
        suffix = "" if (args.backbone, args.workload, args.dtype) == ("minilm", "short", "fp32") else \
            f"_{Path(args.backbone).name}_{args.workload}_{max_length}" + \
            (f"_{args.dtype}" if args.dtype != "fp32" else "")
        save_results("train_vs_trl" + suffix, figures)
    return figures


if __name__ == "__main__":
    main()
