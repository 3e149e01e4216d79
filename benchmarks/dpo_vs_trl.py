"""Training, DPO: TRL's `DPOTrainer` vs rewardkit's DPO training (`rewardkit train --kind implicit --objective dpo`:
training/implicit_tasks.py + training/loop.py), on the shipped SmolLM2-135M-Instruct causal LM.

Both sides train the same policy (SmolLM2, fp32, dropout off) against the same reference (the untrained SmolLM2)
with the standard DPO loss (TRL's `sigmoid`, rewardkit's `dpo`), β = 0.1, on the same pairs in the same batches
in the same order, with the same learning-rate schedule (AdamW, linear warm-up over int(0.1 × steps) steps, then
linear decay; weight decay 0.01, gradients clipped at 1.0), seed and number of steps. Over --rounds seeds (each
its own batch order; TRL first in even rounds, rewardkit first in odd ones) it reports:

  (a) seconds per step, the median over steps (the first two skipped as warm-up, fewer if that would leave
      none; a step runs from its start to the next one's, the last to its end), with TRL configured as its
      documentation shows, i.e. its default `precompute_ref_log_probs=False`: every step also runs the frozen
      reference model forward on the batch. rewardkit always computes the reference's log-prob sums once, before
      the first step, so its steps run the policy alone (packed: real tokens only, each pair's prompt computed
      once). The `peer=… ours=… ratio=…` line is this figure.
  (b) total seconds: setup plus training. Setup is rewardkit's `build_pair_task` (load the LM, encode the pairs,
      compute the reference sums) and the construction of TRL's `DPOTrainer` (load the policy and a second copy as
      reference, tokenize; with --trl-precompute-ref also its reference pass); training runs from `train()` to
      the end of the last step (rewardkit saving the trained model afterwards is not counted; TRL saves nothing).
      This puts rewardkit's up-front reference pass and TRL's per-step reference forwards on the same footing;
      printed as a second ratio line.

    python benchmarks/dpo_vs_trl.py [--workload short|long] [--max-length N] [--steps 10] [--batch-size 4]
                                    [--rounds 1] [--eval-pairs 64] [--learning-rate 1e-5]
                                    [--trl-precompute-ref] [--trl-gradient-checkpointing] [--no-save]

Data: one epoch over exactly steps × batch-size pairs of the verifiable suite (rewardkit.synth; the `long`
workload puts each after a multi-turn conversation of real preference-data length, bench_data.long_context_pairs,
max_length 512 unless told; `short` defaults to 128), so each side's reference pass covers exactly the pairs it
trains on. Both render them with SmolLM2's chat template (TRL's conversational rows: the prompt as a message list,
chosen / rejected as one assistant message each); the script checks that both sides get the same token ids and the
same response tokens. rewardkit's loop draws the batch order (seeded shuffle) and TRL trains on the rows in that
order with its sequential sampler (as benchmarks/train_vs_trl.py does); the script checks rewardkit saw the same
batches.

TRL's configuration: DPOConfig as documented, except where it must match rewardkit or the CPU: the learning rate
(1e-5, rewardkit's DPO recipe in experiments/generalisation.py; DPOConfig's default is 1e-6), warm-up, weight
decay and max_grad_norm as above; `gradient_checkpointing=False` (DPOConfig's default is True, a memory setting
that re-runs every layer's forward in the backward, so about a third more work; --trl-gradient-checkpointing turns
it back on) and `bf16=False` (DPOConfig's default is True; rewardkit trains in fp32). Dropout is off on both sides
(TRL's default `disable_dropout=True`, rewardkit's default `dropout: false`); no evaluation or checkpoints during
training. --trl-precompute-ref sets TRL's `precompute_ref_log_probs=True` (what rewardkit always does), which
moves TRL's reference pass into setup; that figure is saved under its own name.

Lengths: TRL truncates prompt + response from the right (`truncation_mode="keep_start"`, cutting the response) and
drops pairs whose prompt alone fills max_length; rewardkit cuts the prompt's left. So pairs whose chosen or
rejected sequence exceeds max_length are left out for both sides (counted in the results).

Accuracy sanity (--eval-pairs, 0 to skip): after training, each side's policy is scored by rewardkit's
`implicit:dpo` reward against the untrained SmolLM2 as reference, on the same held-out pairs (chosen's log-ratio >
rejected's counts as right; an untrained policy scores 0 on every pair: all ties, accuracy 0). Also printed: each
side's mean training loss (the first step's is ln 2 on both, since the policy starts as the reference), how far a
weight moved, and how many tokens each side runs per step (TRL: its padded chosen + rejected grid, once for the
policy and once more for the reference; rewardkit: real tokens, shared leading tokens of neighbouring rows once,
which with SmolLM2's template includes its default system prompt between pairs, not only a pair's own prompt). Both
run the LM head on response positions only (TRL 1.16's fused LM head, rewardkit's packed forward), so what differs
per step is the padding, the shared prefixes and TRL's reference forward.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import long_context_pairs, synth_splits  # noqa: E402
from common import machine_line, quiet, ratio_line, save_results  # noqa: E402
from train_vs_trl import batch_order, step_seconds  # noqa: E402
from trl_peer import fitting_pairs, step_timer, trl_rows, trl_tokenizer  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

BETA = 0.1
PROBE = "layers.0.self_attn.q_proj.weight"
"""The weight whose change shows that a side trained."""


def probe(network):
    """A copy of the PROBE weight (to measure how far training moved it)."""
    return next(p for name, p in network.named_parameters() if name.endswith(PROBE)).detach().clone()


def moved(network, before) -> float:
    """max |Δ| of the PROBE weight since `before`."""
    return float((probe(network) - before).abs().max())


def token_counts(items, order: list[int], batch_size: int) -> dict:
    """Tokens per step (mean over the steps) on the rewardkit-encoded samples (pair i at rows 2i, 2i + 1): real
    tokens; TRL's padded grid (2 × batch rows × the longest, per forward); rewardkit's packed forward (real tokens,
    a row's leading tokens shared with the row before it computed once)."""
    from rewardkit.data.batching import neighbour_prefixes

    real, grid, packed = [], [], []
    for start in range(0, len(order), batch_size):
        rows = [items[r].input_ids for i in order[start:start + batch_size] for r in (2 * i, 2 * i + 1)]
        real.append(sum(map(len, rows)))
        grid.append(len(rows) * max(map(len, rows)))
        packed.append(real[-1] - sum(neighbour_prefixes(rows)))
    return {"real": statistics.fmean(real), "peer_grid": statistics.fmean(grid),
            "ours_packed": statistics.fmean(packed)}


def same_tokens(trl_dataset, items, order: list[int]) -> int:
    """Pairs whose token ids or response start differ between TRL's tokenized rows (in `order`) and rewardkit's."""
    differ = 0
    for k, i in enumerate(order):
        row = trl_dataset[k]
        prompt = row["prompt_ids"]
        for side, item in (("chosen_ids", items[2 * i]), ("rejected_ids", items[2 * i + 1])):
            if prompt + row[side] != item.input_ids or len(prompt) != item.response_start:
                differ += 1
                break
    return differ


def implicit_accuracy(network, reference, pairs, max_length: int) -> float:
    """Held-out accuracy of `network` as rewardkit's implicit:dpo reward against `reference` (a LogprobScorer,
    whose tokenizer both use)."""
    from rewardkit.evaluation.pairwise import pairwise_accuracy
    from rewardkit.models.base import compare
    from rewardkit.models.implicit import ImplicitOptions, ImplicitRewardModel
    from rewardkit.models.logprobs import LogprobScorer

    model = ImplicitRewardModel(LogprobScorer(network, reference.tokenizer, max_length), reference,
                                ImplicitOptions(kind="dpo", beta=BETA, max_length=max_length))
    return pairwise_accuracy(compare(model, [sp.pair for sp in pairs]))


def ours_train(train_pairs, settings: dict, out: Path, order: list[int]) -> dict:
    """rewardkit's DPO training; returns its timings, losses, trained network and encoded samples."""
    from rewardkit.models.causal_lm import smollm2_path
    from rewardkit.training.config import TrainConfig
    from rewardkit.training.implicit_tasks import DpoOptions, build_pair_task
    from rewardkit.training.log_ratio import PolicyOptions
    from rewardkit.training.loop import TRAIN_LOG, train

    started = time.perf_counter()
    task = build_pair_task(smollm2_path(), [sp.pair for sp in train_pairs], [], objective="dpo",
                           options=PolicyOptions(beta=BETA), max_length=settings["max_length"], seed=settings["seed"])
    setup = time.perf_counter() - started
    before = probe(task.policy.network)
    starts: list[float] = []
    ends: list[float] = []
    seen: list[int] = []
    loss, evaluate = task.loss, task.evaluate
    task.loss = lambda module, indices: (starts.append(time.perf_counter()), seen.extend(indices),
                                         loss(module, indices))[2]
    # the loop evaluates right after its last step (on no pairs here): that is when the last step ended
    task.evaluate = lambda: (ends.append(time.perf_counter()), evaluate())[1]
    config = TrainConfig(family="implicit", objective="dpo", backbone=smollm2_path(), max_steps=settings["steps"],
                         batch_size=settings["batch_size"], seed=settings["seed"], max_length=settings["max_length"],
                         learning_rate=settings["learning_rate"], warmup_ratio=settings["warmup_ratio"],
                         weight_decay=settings["weight_decay"], max_grad_norm=1.0, dropout=False,
                         eval_every=settings["steps"] + 1, save_every=settings["steps"] + 1,
                         options=DpoOptions(beta=BETA))
    train_started = time.perf_counter()
    train(task, config, out, show_progress=False)
    if seen != order:
        raise RuntimeError("rewardkit's loop trained on other batches than TRL was given")
    losses = [json.loads(line)["loss"] for line in (out / TRAIN_LOG).read_text(encoding="utf-8").splitlines()]
    return {"network": task.policy.network, "items": task.train.items,
            "starts": starts, "end": ends[-1], "setup_seconds": setup, "train_seconds": ends[-1] - train_started,
            "mean_loss": statistics.fmean(losses), "first_loss": losses[0], "truncated": task.truncated,
            "weight_moved": moved(task.policy.network, before)}


def peer_train(train_pairs, settings: dict, out: Path, order: list[int]) -> dict:
    """TRL's DPOTrainer on the rows in `order` (sequential sampler); returns its timings, losses, trained network
    and tokenized dataset."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import DPOConfig, DPOTrainer

    from rewardkit.models.causal_lm import smollm2_path

    path = smollm2_path()
    tokenizer = trl_tokenizer(path)
    args = DPOConfig(
        output_dir=str(out), max_steps=settings["steps"], per_device_train_batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], lr_scheduler_type="linear",
        warmup_steps=int(settings["warmup_ratio"] * settings["steps"]),  # a step count: rewardkit's rounding
        weight_decay=settings["weight_decay"], max_grad_norm=1.0, seed=settings["seed"],
        beta=BETA, loss_type=["sigmoid"], max_length=settings["max_length"],
        precompute_ref_log_probs=settings["trl_precompute_ref"],
        gradient_checkpointing=settings["trl_gradient_checkpointing"], bf16=False,
        model_init_kwargs={"dtype": "float32"}, use_cpu=True, report_to="none", logging_steps=settings["steps"] + 1,
        save_strategy="no", eval_strategy="no", dataloader_num_workers=0, disable_tqdm=True,
        train_sampling_strategy="sequential",
    )
    rows = trl_rows(train_pairs, conversational=True)
    times = step_timer()
    started = time.perf_counter()
    trainer = DPOTrainer(model=path, args=args, train_dataset=Dataset.from_list([rows[i] for i in order]),
                         processing_class=tokenizer, callbacks=[times])
    setup = time.perf_counter() - started
    trainer.remove_callback(PrinterCallback)
    if len(trainer.train_dataset) != len(order):
        raise RuntimeError(f"TRL kept {len(trainer.train_dataset)} of {len(order)} pairs (over max_length?)")
    before = probe(trainer.model)
    train_started = time.perf_counter()
    output = trainer.train()
    return {"network": trainer.model, "dataset": trainer.train_dataset,
            "starts": times.starts, "end": times.ends[-1], "setup_seconds": setup,
            "train_seconds": times.ends[-1] - train_started, "mean_loss": output.training_loss,
            "weight_moved": moved(trainer.model, before)}


def one_round(train_pairs, test, settings: dict, sides: tuple[str, str], reference) -> dict:
    import gc

    order = batch_order(len(train_pairs), settings)
    result: dict = {}
    runs: dict = {}
    for side in sides:
        with tempfile.TemporaryDirectory() as tmp:
            run = (peer_train if side == "peer" else ours_train)(train_pairs, settings, Path(tmp), order)
        accuracy = (implicit_accuracy(run["network"], reference, test, settings["max_length"])
                    if reference is not None else None)
        runs[side] = run
        result[side] = {"seconds_per_step": step_seconds(run["starts"], run["end"]),
                        "setup_seconds": run["setup_seconds"], "train_seconds": run["train_seconds"],
                        "total_seconds": run["setup_seconds"] + run["train_seconds"],
                        "steps_timed": len(run["starts"]), "mean_loss": run["mean_loss"],
                        "weight_moved": run["weight_moved"], "accuracy": accuracy}
        if side == "ours":
            result[side].update(first_loss=run["first_loss"], truncated_samples=run["truncated"])
        run["network"] = None  # free the trained weights before the other side loads its models
        gc.collect()
    items = runs["ours"]["items"]
    result["token_id_mismatches"] = same_tokens(runs["peer"]["dataset"], items, order)
    result["tokens_per_step"] = token_counts(items, order, settings["batch_size"])
    for side in ("peer", "ours"):
        figures = result[side]
        if not (math.isfinite(figures["mean_loss"]) and figures["weight_moved"] > 0):
            raise RuntimeError(f"{side} did not train: mean loss {figures['mean_loss']}, "
                               f"weights moved {figures['weight_moved']}")
    return result


def benchmark_data(args, max_length: int):
    """(train, test, pairs generated, pairs left out over max_length): the first steps × batch-size training pairs
    and the first eval-pairs test pairs that fit max_length on both sides."""
    from rewardkit.models.causal_lm import smollm2_path

    train_pairs, test, _ = synth_splits(args.pairs, args.seed)
    if args.workload == "long":
        train_pairs, test = long_context_pairs(train_pairs, args.seed), long_context_pairs(test, args.seed + 1)
    wanted = args.steps * args.batch_size
    # check a margin beyond what is needed, so that left-out pairs are counted on a sample of the data
    candidates, test_candidates = train_pairs[: 2 * wanted], test[: 2 * args.eval_pairs]
    fitting = fitting_pairs(candidates, smollm2_path(), max_length)
    fitting_test = fitting_pairs(test_candidates, smollm2_path(), max_length) if args.eval_pairs else []
    if len(fitting) < wanted:
        raise SystemExit(f"dpo_vs_trl: only {len(fitting)} training pairs fit max_length {max_length}; "
                         f"{wanted} needed (raise --pairs or --max-length)")
    left_out = len(candidates) - len(fitting) + len(test_candidates) - len(fitting_test)
    return fitting[:wanted], fitting_test[: args.eval_pairs], len(candidates) + len(test_candidates), left_out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="short")
    parser.add_argument("--max-length", type=int, help="tokens per sequence (default: 128 short, 512 long)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=4, help="pairs per step")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds, each with its own seed (--seed + round): its own batch order, and alternating "
                             "TRL/rewardkit order")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    parser.add_argument("--pairs", type=int, default=2400, help="pairs generated (train/test split as quickstart)")
    parser.add_argument("--eval-pairs", type=int, default=64,
                        help="held-out pairs for the accuracy sanity check; 0 skips it")
    parser.add_argument("--trl-precompute-ref", action="store_true",
                        help="TRL with precompute_ref_log_probs=True (its reference pass before training, as ours)")
    parser.add_argument("--trl-gradient-checkpointing", action="store_true",
                        help="TRL with its default gradient checkpointing (less memory, a recomputed forward)")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or args.rounds < 1:
        parser.error("--steps, --batch-size and --rounds must be at least 1")
    quiet()
    os.environ.setdefault("TQDM_DISABLE", "1")  # TRL's reference-precompute progress bar

    max_length = args.max_length or WORKLOADS[args.workload]
    settings = {"backbone": "smollm2", "steps": args.steps, "batch_size": args.batch_size, "max_length": max_length,
                "seed": args.seed, "learning_rate": args.learning_rate, "warmup_ratio": 0.1, "weight_decay": 0.01,
                "beta": BETA, "loss": "sigmoid", "dtype": "fp32", "workload": args.workload,
                "trl_precompute_ref": args.trl_precompute_ref,
                "trl_gradient_checkpointing": args.trl_gradient_checkpointing}
    train_pairs, test, checked, left_out = benchmark_data(args, max_length)
    reference = None
    if test:
        from rewardkit.models.causal_lm import load_causal_lm_and_tokenizer
        from rewardkit.models.logprobs import LogprobScorer

        reference = LogprobScorer(*load_causal_lm_and_tokenizer("smollm2"), max_length, cache=True)
    rounds = []
    for i in range(args.rounds):
        seeded = {**settings, "seed": args.seed + i}
        sides = ("peer", "ours") if i % 2 == 0 else ("ours", "peer")
        rounds.append({"seed": seeded["seed"], **one_round(train_pairs, test, seeded, sides, reference)})

    def median(side: str, key: str) -> float:
        return statistics.median(r[side][key] for r in rounds)

    def median_ratio(key: str) -> float:
        return statistics.median(r["peer"][key] / r["ours"][key] for r in rounds)

    figures = {"settings": settings, "n_train": len(train_pairs), "n_test": len(test),
               "pairs_checked_for_length": checked, "pairs_left_out_over_max_length": left_out, "rounds": rounds,
               "peer_seconds_per_step": median("peer", "seconds_per_step"),
               "ours_seconds_per_step": median("ours", "seconds_per_step"),
               "ratio": median_ratio("seconds_per_step"),
               "peer_total_seconds": median("peer", "total_seconds"),
               "ours_total_seconds": median("ours", "total_seconds"),
               "total_ratio": median_ratio("total_seconds"),
               "peer_setup_seconds": median("peer", "setup_seconds"),
               "ours_setup_seconds": median("ours", "setup_seconds")}
    if test:
        figures["peer_accuracy"] = statistics.fmean(r["peer"]["accuracy"] for r in rounds)
        figures["ours_accuracy"] = statistics.fmean(r["ours"]["accuracy"] for r in rounds)
    label = " ".join(part for part in ("train DPO smollm2", args.workload, str(max_length),
                                       "TRL-precompute-ref" if args.trl_precompute_ref else "",
                                       "TRL-checkpointing" if args.trl_gradient_checkpointing else "") if part)
    ratio = figures["ratio"]
    print(ratio_line(figures["peer_seconds_per_step"], figures["ours_seconds_per_step"], ratio, "s/step", label)
          + f"  (ours/peer step time = {1 / ratio:.2f})")
    print(ratio_line(figures["peer_total_seconds"], figures["ours_total_seconds"], figures["total_ratio"], "s",
                     f"{label}, total: setup incl. reference + {args.steps} steps")
          + f"  (setup: peer={figures['peer_setup_seconds']:.4g} s ours={figures['ours_setup_seconds']:.4g} s)")
    tokens = rounds[0]["tokens_per_step"]
    reference_grid = "" if args.trl_precompute_ref else f" + {tokens['peer_grid']:.0f} (reference forward)"
    print(f"tokens per step (mean of {args.steps}, seed {rounds[0]['seed']}): {tokens['real']:.0f} real; "
          f"peer {tokens['peer_grid']:.0f} (padded grid, policy){reference_grid}; ours {tokens['ours_packed']:.0f} "
          f"(packed, shared prefixes once)")
    print(f"same data: {len(train_pairs)} training pairs, token ids differing in "
          f"{max(r['token_id_mismatches'] for r in rounds)}; samples rewardkit truncated: "
          f"{max(r['ours']['truncated_samples'] for r in rounds)}; pairs left out over max_length: {left_out} of "
          f"{checked} checked")
    for r in rounds:
        peer, ours = r["peer"], r["ours"]
        print(f"  seed {r['seed']}: mean train loss peer={peer['mean_loss']:.4f} ours={ours['mean_loss']:.4f} "
              f"(ours first step {ours['first_loss']:.4f}, ln 2 = {math.log(2):.4f}); "
              f"max |Δ {PROBE}| peer={peer['weight_moved']:.3g} ours={ours['weight_moved']:.3g}"
              + (f"; held-out accuracy peer={peer['accuracy']:.4f} ours={ours['accuracy']:.4f}" if test else ""))
    if test:
        print(f"held-out accuracy of the implicit reward ({len(test)} pairs, mean of {len(rounds)} seeds): "
              f"peer={figures['peer_accuracy']:.4f} ours={figures['ours_accuracy']:.4f}")
    print(machine_line())
    if not args.no_save:
        suffix = ("_trl-precompute-ref" if args.trl_precompute_ref else "") + \
            ("_trl-checkpointing" if args.trl_gradient_checkpointing else "")
        save_results(f"dpo_vs_trl_{args.workload}_{max_length}{suffix}", figures)
    return figures


if __name__ == "__main__":
    main()
