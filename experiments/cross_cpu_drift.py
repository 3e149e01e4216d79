"""What "same seed" promises (issue 21): the same seed-0 training on this CPU, with another thread count, with
deterministic=true, and on an emulated AVX2-only CPU — how far do weights, losses and accuracy move?

    python experiments/cross_cpu_drift.py --no-emulated    # MiniLM (6 layers), this CPU only: ≈ 4 min
    python experiments/cross_cpu_drift.py --layers 1 --steps 20 --batch-size 4 --max-length 32
                     # its first layer, with the emulated run: ≈ 90 min, most of it the emulated reward statistics

Each run trains the quickstart's Bradley-Terry MiniLM reward model (shipped weights, synthetic verifiable
pairs of the quickstart's training families, seed 0) in its own process. Emulation runs torch several
hundred to about 1000× slower than native (one MiniLM forward and backward of 8 × 128 tokens did not finish
in 14 minutes), so the emulated comparison uses MiniLM cut to its first `--layers` layers and shorter inputs. The runs:

- **native-2**: this CPU, 2 threads (the reference); **native-2-again**: the same, to show it is bit-identical;
- **native-1**: this CPU, 1 thread (thread-count-dependent reductions);
- **deterministic**: this CPU, 2 threads, `deterministic=true` (also gives its cost in seconds per step);
- **emulated-zen3**: `qemu-x86_64 -cpu EPYC-Milan` (AVX2, no AVX-512, no VNNI, no AMX), 2 threads, so torch
  dispatches its AVX2 kernels. Skipped where qemu-x86_64 is missing (`apt-get install qemu-user`).

Every trained model is then scored here, on this CPU, on the in-family test pairs and the held-out-family
pairs, so the differences below are the training's, not the scoring's. Results:
experiments/results/cross_cpu_drift_<model>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMULATED_CPU = "EPYC-Milan"
RUNS = {
    "native-2": {"threads": 2, "deterministic": False, "emulated": False},
    "native-2-again": {"threads": 2, "deterministic": False, "emulated": False},
    "native-1": {"threads": 1, "deterministic": False, "emulated": False},
    "deterministic": {"threads": 2, "deterministic": True, "emulated": False},
    "emulated-zen3": {"threads": 2, "deterministic": False, "emulated": True},
}


def backbone(out: Path, layers: int) -> str:
    """The shipped MiniLM, or (layers > 0) its first `layers` layers saved under `out` (safetensors)."""
    from rewardkit.models.defaults import minilm_path

    if not layers:
        return str(minilm_path())
    folder = out / f"minilm-first-{layers}-layers"
    if not folder.is_dir():
        from transformers import AutoModel, AutoTokenizer

        network = AutoModel.from_pretrained(minilm_path())
        network.encoder.layer = network.encoder.layer[:layers]
        network.config.num_hidden_layers = layers
        network.save_pretrained(folder, safe_serialization=True)
        AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(folder)
    return str(folder)


def train_one(out: Path, args) -> None:
    """One seed-0 training in this process; writes out/model and out/run.json (machine, seconds per step)."""
    import torch

    torch.set_num_threads(args.threads)
    from rewardkit.machine import describe
    from rewardkit.models import scalar
    from rewardkit.cli.quickstart import QuickstartPlan, prepare_data
    from rewardkit.training.config import TrainConfig
    from rewardkit.training.loop import train
    from rewardkit.training.objectives import pair_objective
    from rewardkit.training.tasks import PairTask

    steps = args.steps
    plan = QuickstartPlan(n_pairs=1200, steps=steps, batch_size=args.batch_size, max_length=args.max_length)
    train_pairs, test, _ = prepare_data(out, plan, seed=0)
    model = scalar.build(backbone(out.parent, args.layers), max_length=plan.max_length, seed=0)
    task = PairTask(model, [sp.pair for sp in train_pairs], [sp.pair for sp in test[:16]], pair_objective("bt"))
    config = TrainConfig(objective="bt", backbone="minilm", max_steps=steps, batch_size=plan.batch_size, seed=0,
                         max_length=plan.max_length, learning_rate=plan.learning_rate,
                         head_learning_rate=plan.head_learning_rate, deterministic=args.deterministic,
                         eval_every=steps, save_every=steps)
    result = train(task, config, out, show_progress=False)
    (out / "run.json").write_text(json.dumps({"machine": describe(), "steps": result.steps,
                                              "seconds_per_step": result.train_seconds / result.steps}, indent=2))


def launch(name: str, out: Path, args) -> float:
    run = RUNS[name]
    command = [sys.executable, __file__, "--train-into", str(out / name), "--steps", str(args.steps),
               "--layers", str(args.layers), "--batch-size", str(args.batch_size), "--max-length",
               str(args.max_length), "--threads", str(run["threads"])]
    command += ["--deterministic"] if run["deterministic"] else []
    if run["emulated"]:
        command = ["qemu-x86_64", "-cpu", EMULATED_CPU, *command]
    shutil.rmtree(out / name, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"}, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode:  # qemu warns about every CPUID feature it does not emulate: keep only the real error
        lines = [line for line in done.stderr.splitlines() if "TCG doesn't support" not in line]
        sys.exit(f"run {name} failed:\n" + "\n".join(lines[-30:]))
    return time.perf_counter() - started


def losses(folder: Path) -> list[float]:
    lines = (folder / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    return [record["loss"] for record in map(json.loads, lines) if "loss" in record]


def compare(out: Path, names: list[str]) -> dict:
    """Weights, logged losses and rewards (scored here) of every run against native-2."""
    import numpy as np
    from safetensors.numpy import load_file

    import rewardkit
    from rewardkit.models.base import compare as margins_of
    from rewardkit.data.loaders import load_pairs

    pairs = {split: list(load_pairs(str(out / "native-2" / "data" / f"{split}.jsonl")))
             for split in ("test", "heldout")}

    def weights(name):
        return load_file(str(next((out / name / "model").glob("*.safetensors"))))

    def scored(name):
        model = rewardkit.load(str(out / name / "model"))
        return {split: np.asarray(margins_of(model, rows)) for split, rows in pairs.items()}

    reference_weights, reference_losses, reference = weights("native-2"), losses(out / "native-2"), scored("native-2")
    report = {}
    for name in names:
        run = json.loads((out / name / "run.json").read_text())
        these_weights, these = weights(name), scored(name)
        weight_diff = max(float(np.abs(these_weights[key] - value).max()) for key, value in reference_weights.items())
        entry = {"machine": run["machine"], "seconds_per_step": run["seconds_per_step"],
                 "max_weight_difference": weight_diff,
                 "max_loss_difference": float(np.abs(np.subtract(losses(out / name), reference_losses)).max()),
                 "first_step_loss_difference": abs(losses(out / name)[0] - reference_losses[0])}
        for split, margins in these.items():
            base = reference[split]
            entry[split] = {"pairs": len(margins), "accuracy": float((margins > 0).mean()),
                            "reference_accuracy": float((base > 0).mean()),
                            "max_margin_difference": float(np.abs(margins - base).max()),
                            "flipped_pairs": int(((margins > 0) != (base > 0)).sum())}
        report[name] = entry
    return report


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--layers", type=int, default=0, help="keep MiniLM's first N layers (0: all 6)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--out", help="default: runs/cross-cpu-drift/minilm[-first-N-layers]")
    parser.add_argument("--no-emulated", action="store_true")
    parser.add_argument("--train-into", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--deterministic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.train_into:
        train_one(Path(args.train_into), args)
        return None

    tag = "minilm" + (f"-first-{args.layers}-layers" if args.layers else "")
    out = Path(args.out or ROOT / "runs" / "cross-cpu-drift" / tag)
    backbone(out, args.layers)
    names = [name for name, run in RUNS.items() if not (run["emulated"] and (args.no_emulated or
                                                                               not shutil.which("qemu-x86_64")))]
    wall = {}
    for name in names:
        print(f"training {name} ...", flush=True)
        wall[name] = launch(name, out, args)
    settings = {key: getattr(args, key) for key in ("steps", "layers", "batch_size", "max_length")}
    report = {**settings, "wall_seconds": wall, "runs": compare(out, names)}
    results = ROOT / "experiments" / "results" / f"cross_cpu_drift_{tag.replace('-', '_')}.json"
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{'run':<16} {'isa':<9} {'s/step':>7} {'max |Δw|':>10} {'max |Δloss|':>12} "
          f"{'test acc':>9} {'flips':>6} {'heldout acc':>12} {'flips':>6}")
    for name, entry in report["runs"].items():
        test, heldout = entry["test"], entry["heldout"]
        print(f"{name:<16} {entry['machine']['isa']:<9} {entry['seconds_per_step']:>7.2f} "
              f"{entry['max_weight_difference']:>10.2e} {entry['max_loss_difference']:>12.2e} "
              f"{test['accuracy']:>9.4f} {test['flipped_pairs']:>6} {heldout['accuracy']:>12.4f} "
              f"{heldout['flipped_pairs']:>6}")
    print(f"reference native-2 accuracy: test {report['runs']['native-2']['test']['reference_accuracy']:.4f} "
          f"({report['runs']['native-2']['test']['pairs']} pairs), heldout "
          f"{report['runs']['native-2']['heldout']['reference_accuracy']:.4f} → {results}")
    return report


if __name__ == "__main__":
    main()
