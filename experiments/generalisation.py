"""Generalisation (issue 4): does a DPO implicit reward model lose more accuracy under a shift of template
family than an explicit scalar reward model trained on the same pairs?

    python experiments/generalisation.py                     # SmolLM2-135M-Instruct; ≈ 21 min on 2 CPU cores
    python experiments/generalisation.py --steps 10 --test-pairs 40                # a quick look (≈ 6 min)

Both models start from the same backbone and train on the same pairs, in the same order (the report's
`train_tokens_sha256` shows the token sequences were identical), for the same steps, batch size, seed,
warm-up/decay schedule (10% linear warm-up, linear decay), weight decay (0.01) and clipping (1.0):

- **scalar-bt**: a linear head on the backbone, pooled at the last token, Bradley-Terry loss. Learning rate
  1e-5 for the backbone and 1e-4 for the freshly initialised head (a head starting from random needs larger
  steps; the backbone rate is the usual one for full fine-tuning of a small reward model).
- **dpo-implicit**: the policy starts as the backbone, the reference *is* the backbone; DPO loss with β = 0.1
  (the usual DPO β, and rewardkit's default for implicit:dpo); learning rate 1e-5 on every weight (the top of
  the 5e-7 … 1e-5 range DPO uses, since the run is short). Its reward is β·Σ(log πθ − log πref) over the
  response tokens, and the model is scored after being saved and loaded back, as a user would load it.

Data (rewardkit.synth, verifiable labels): training pairs from rewardkit.cli.quickstart.TRAINING_FAMILIES;
**in-distribution** = unseen pairs of those families; **held-out** = pairs of HELDOUT_FAMILIES, never trained
on. The report gives accuracy (ties wrong) with a 95% bootstrap interval, per family, the length-only
baseline, the drop (in-distribution − held-out) of each model, and the difference of the drops (> 0: DPO
loses more under shift). Results go to experiments/results/generalisation.json; models and data to --out.

Cost estimate for the defaults (SmolLM2-135M, 2 CPU cores; estimated, not measured): a sequence is ≈ 71
tokens with SmolLM2's chat template (its default system prompt included), so a step of 8 pairs is ≈ 1.1k
tokens. Scaling the MiniLM training benchmark on this machine (≈ 1.0 s for a step of ≈ 1.6k tokens through
10.6M non-embedding parameters, ≈ 100 GFLOP/s) to SmolLM2's 106M non-embedding parameters (+28M of output
matrix for DPO, which needs every token's log-probability) gives ≈ 8 s per scalar step and ≈ 10 s per DPO
step. With 40 steps (320 training pairs, one epoch):
    scalar: train 40 × 8 s ≈ 5.5 min, reward statistics over the training pairs ≈ 2 min, scoring ≈ 1.5 min
    DPO:    reference log-probs of the training pairs ≈ 2.5 min, train 40 × 10 s ≈ 6.5 min, scoring (policy
            and reference) ≈ 3 min
≈ 21 min in all, plus loading. The report records seconds per step of each model: if the first steps run
much slower than estimated, pass fewer --steps (the pairs follow: steps × batch size).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results" / "generalisation.json"
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import machine  # noqa: E402  (benchmarks/common.py: what the figures were measured on)


@dataclass(frozen=True)
class Method:
    """How one of the two reward models is trained; everything else is shared."""

    name: str
    learning_rate: float
    head_learning_rate: float = 0.0
    """0: the same as learning_rate (DPO has no new head)."""


SCALAR = Method("scalar-bt", learning_rate=1e-5, head_learning_rate=1e-4)
DPO = Method("dpo-implicit", learning_rate=1e-5)
DPO_BETA = 0.1


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="smollm2", help="causal LM folder or hub id; 'smollm2' = shipped")
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps, the same for both models")
    parser.add_argument("--pairs", type=int, default=0, help="training pairs; 0: steps × batch size (one epoch)")
    parser.add_argument("--test-pairs", type=int, default=100, help="pairs in each test split (ID and held-out)")
    parser.add_argument("--batch-size", type=int, default=8, help="pairs per step")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per sequence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "generalisation", help="models, data, logs")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON report is written")
    args = parser.parse_args(argv)
    args.pairs = args.pairs or args.steps * args.batch_size
    if args.test_pairs < 1:
        parser.error("--test-pairs must be at least 1")
    return args


def experiment_pairs(n_train: int, n_test: int, seed: int):
    """(train, in-distribution test, held-out-family test) SynthPairs: train and the in-distribution test are
    disjoint draws from the training families; the held-out test comes from families never trained on."""
    from rewardkit.cli.quickstart import HELDOUT_FAMILIES, TRAINING_FAMILIES
    from rewardkit.synth import generate_pairs
    from rewardkit.training.pair_data import holdout_split

    in_family = generate_pairs(n_train + n_test, seed=seed, families=TRAINING_FAMILIES)
    train, test = holdout_split(in_family, n_test / (n_train + n_test), seed)
    return train, test, generate_pairs(n_test, seed=seed, families=HELDOUT_FAMILIES)


def token_fingerprint(encoded) -> str:
    """sha256 of the token ids of a sequence of `Encoded`, in order."""
    return hashlib.sha256(json.dumps([e.input_ids for e in encoded]).encode()).hexdigest()


def scalar_task(backbone: str, train_pairs, max_length: int, seed: int):
    """A BT task on a fresh head (initialised from `seed`); no evaluation during training."""
    from rewardkit.models import scalar
    from rewardkit.training.objectives import pair_objective
    from rewardkit.training.tasks import PairTask

    task = PairTask(scalar.build(backbone, max_length=max_length, seed=seed), train_pairs, [], pair_objective("bt"))
    return task, token_fingerprint([e for pair in task.train_pairs for e in pair])


def dpo_task(backbone: str, train_pairs, max_length: int, seed: int):
    """A DPO task: policy and reference both start as `backbone`; no evaluation during training."""
    from rewardkit.training.implicit_tasks import build_pair_task
    from rewardkit.training.log_ratio import PolicyOptions

    task = build_pair_task(backbone, train_pairs, [], options=PolicyOptions(beta=DPO_BETA), max_length=max_length,
                           seed=seed)
    return task, token_fingerprint(task.train.items)


def shared_config(args):
    """The TrainConfig both models train under; only the learning rates differ (Method). No evaluation or
    checkpoint during training: the models are scored once, after training."""
    from rewardkit.training.config import TrainConfig

    return TrainConfig(max_steps=args.steps, batch_size=args.batch_size, max_length=args.max_length, seed=args.seed,
                       eval_every=args.steps + 1, save_every=args.steps + 1)


def train_and_score(method: Method, build, args, backbone: str, splits) -> dict:
    """Build, train, save; load the saved model back and score both test splits."""

    import rewardkit
    from rewardkit.cli.quickstart import accuracy_report
    from rewardkit.training.loop import train

    train_pairs, test, heldout = splits
    out = args.out / method.name
    print(f"{method.name}: loading and encoding", flush=True)
    started = time.perf_counter()
    task, fingerprint = build(backbone, [sp.pair for sp in train_pairs], args.max_length, args.seed)
    prepare_seconds = time.perf_counter() - started
    config = replace(shared_config(args), learning_rate=method.learning_rate,
                     head_learning_rate=method.head_learning_rate)
    print(f"{method.name}: training {args.steps} steps", flush=True)
    result = train(task, config, out, show_progress=sys.stderr.isatty())
    truncated = task.truncated
    del task
    gc.collect()
    print(f"{method.name}: scoring {len(test)} in-distribution and {len(heldout)} held-out pairs", flush=True)
    started = time.perf_counter()
    model = rewardkit.load(str(out / "model"))
    in_distribution, held = accuracy_report(model, test), accuracy_report(model, heldout)
    return {
        "in_distribution": in_distribution, "heldout": held, "drop": in_distribution["accuracy"] - held["accuracy"],
        "learning_rate": method.learning_rate, "head_learning_rate": method.head_learning_rate or None,
        "steps": result.steps, "train_seconds": round(result.train_seconds, 3),
        "seconds_per_step": round(result.train_seconds / max(result.steps, 1), 2),
        "prepare_seconds": round(prepare_seconds, 1), "eval_seconds": round(time.perf_counter() - started, 1),
        **train_losses(out / "train_log.jsonl"), "truncated_train_samples": truncated,
        "train_tokens_sha256": fingerprint, "model": str(out / "model"),
    }


def train_losses(log: Path, window: int = 5) -> dict:
    """Mean training loss over the first and the last `window` steps of a train_log.jsonl."""
    losses = [json.loads(line)["loss"] for line in log.read_text(encoding="utf-8").splitlines()]
    return {"train_loss_first": sum(losses[:window]) / len(losses[:window]),
            "train_loss_last": sum(losses[-window:]) / len(losses[-window:])}


def check_fresh(out: Path) -> None:
    for method in (SCALAR, DPO):
        if (out / method.name).exists():
            raise SystemExit(f"{out / method.name} already exists: pass another --out or delete it")


def main(argv=None) -> dict:
    args = parse_args(argv)
    import rewardkit
    from rewardkit.atomic import atomic_file
    from rewardkit.models.causal_lm import resolve_causal_lm
    from rewardkit.cli.quickstart import HELDOUT_FAMILIES, TRAINING_FAMILIES, write_jsonl
    from rewardkit.synth import to_jsonl_row

    check_fresh(args.out)
    backbone = resolve_causal_lm(args.backbone)
    splits = experiment_pairs(args.pairs, args.test_pairs, args.seed)
    for name, rows in zip(("train", "test", "heldout"), splits):
        write_jsonl(args.out / "data" / f"{name}.jsonl", (to_jsonl_row(sp) for sp in rows))
    models = {method.name: train_and_score(method, build, args, backbone, splits)
              for method, build in ((SCALAR, scalar_task), (DPO, dpo_task))}
    drop_difference = models[DPO.name]["drop"] - models[SCALAR.name]["drop"]
    shared = shared_config(args)
    report = {
        "experiment": "generalisation", "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(), "rewardkit_version": rewardkit.__version__,
        "settings": {"backbone": args.backbone, "steps": args.steps, "pairs": args.pairs,
                     "test_pairs": args.test_pairs, "batch_size": args.batch_size, "max_length": args.max_length,
                     "seed": args.seed, "dpo_beta": DPO_BETA, "warmup_ratio": shared.warmup_ratio,
                     "weight_decay": shared.weight_decay, "max_grad_norm": shared.max_grad_norm},
        "training_families": list(TRAINING_FAMILIES), "heldout_families": list(HELDOUT_FAMILIES),
        "n_train": len(splits[0]), "n_in_distribution": len(splits[1]), "n_heldout": len(splits[2]),
        "models": models, "drop_difference_dpo_minus_scalar": drop_difference,
        "dpo_loses_more_under_shift": drop_difference > 0,
    }
    with atomic_file(args.results) as handle:
        json.dump(report, handle, indent=2)
    print_table(report)
    return report


def print_table(report: dict) -> None:
    def cell(split: dict) -> str:
        return f"{split['accuracy']:.3f} [{split['ci_low']:.2f}, {split['ci_high']:.2f}]"

    print(f"\n{'model':<14}{'in-distribution':<22}{'held-out families':<22}{'drop':>7}{'s/step':>8}")
    for name, m in report["models"].items():
        print(f"{name:<14}{cell(m['in_distribution']):<22}{cell(m['heldout']):<22}{m['drop']:>+7.3f}"
              f"{m['seconds_per_step']:>8.1f}")
    for name, m in report["models"].items():
        families = {**m["in_distribution"]["per_family"], **m["heldout"]["per_family"]}
        print(f"{name} per family: " + ", ".join(f"{f} {v['accuracy']:.2f}" for f, v in families.items()))
    verdict = "DPO loses more" if report["dpo_loses_more_under_shift"] else "DPO does not lose more"
    print(f"drop(DPO) − drop(scalar) = {report['drop_difference_dpo_minus_scalar']:+.3f}: {verdict} under shift "
          "(point estimates; see the intervals above)")


if __name__ == "__main__":
    main()
