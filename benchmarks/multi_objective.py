"""Multi-objective training: rewardkit's two-stage `multi` recipe (frozen backbone, cached embeddings, ridge
heads, then the gate) against the same attributes learnt end to end by gradient descent (peer: rewardkit's own
`scalar` regression objective, fine-tuning the backbone). Same backbone, synthetic data
(rewardkit.synth.multi_attribute), max length and seed.

Figures: wall-clock seconds to a trained model for each side (ours cold: embeddings computed; ours warm: read
back from the cache, as a second run with other gate settings would), and on held-out data the pairwise accuracy
(ours: the gated reward; peer: the equal-weight mean of its outputs, as it has no gate) and per-attribute Pearson.

    python benchmarks/multi_objective.py [--ratings 10000] [--pairs 10000] [--peer-steps 625]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE, quiet, ratio_line, save_results  # noqa: E402


def write_data(folder: Path, n_ratings: int, n_pairs: int, n_heldout: int) -> dict[str, str]:
    import json

    from rewardkit.synth.multi_attribute import pair_rows, rating_rows

    folder.mkdir(parents=True, exist_ok=True)
    files = {"ratings": rating_rows(n_ratings, 0), "pairs": pair_rows(n_pairs, 1),
             "heldout_ratings": rating_rows(n_heldout, 2), "heldout_pairs": pair_rows(n_heldout, 3)}
    for name, rows in files.items():
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return {name: str(folder / f"{name}.jsonl") for name in files}


def train_seconds(values: dict, out: Path) -> float:
    """Build the task (data, embeddings, stage 1) and run the loop; seconds for both."""
    from rewardkit.families import build_task, train_config
    from rewardkit.training.loop import train

    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    config = train_config(values)
    train(build_task(config), config, out, show_progress=False)
    return time.perf_counter() - started


def heldout_figures(model_dir: Path, data: dict[str, str], attributes: list[str]) -> dict:
    """Held-out accuracy of the reward (the gate's, or the mean of a gateless model's outputs) and per-attribute
    Pearson against the held-out ratings."""
    import numpy as np

    import rewardkit
    from rewardkit.data.loaders import load_pairs, load_rated
    from rewardkit.evaluation.attributes import pearson

    model = rewardkit.load(str(model_dir))
    pairs = list(load_pairs(data["heldout_pairs"]))
    scores = model.score([s for p in pairs for s in p.samples()])
    if scores.weights is not None:
        rewards = np.asarray(scores.rewards)
    else:
        rewards = np.mean([scores.attributes[a] for a in attributes], axis=0)
    rated = list(load_rated(data["heldout_ratings"], attributes))
    predicted = model.score([r.sample() for r in rated]).attributes
    correlations = {}
    for name in attributes:
        rows = [(p, r.ratings[name]) for p, r in zip(predicted[name], rated) if r.ratings[name] is not None]
        x, y = np.array(rows, dtype=float).T
        correlations[name] = round(pearson(x, y), 4)
    return {"accuracy": float((rewards[0::2] > rewards[1::2]).mean()), "pearson": correlations}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backbone", default="minilm", help="backbone name or folder, shared by both sides")
    parser.add_argument("--ratings", type=int, default=10_000, help="rated responses (stage 1; the peer's data)")
    parser.add_argument("--pairs", type=int, default=10_000, help="preference pairs (stage 2, the gate)")
    parser.add_argument("--heldout", type=int, default=1_000, help="held-out rated responses and pairs, each")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per sample")
    parser.add_argument("--batch-size", type=int, default=16, help="peer: rated responses per step")
    parser.add_argument("--peer-steps", type=int, default=0, help="peer steps (0: one epoch over the ratings)")
    parser.add_argument("--gate-epochs", type=float, default=10.0, help="ours: epochs of gate training")
    parser.add_argument("--work", default=str(CACHE / "multi_objective"), help="data, embedding cache and models")
    parser.add_argument("--no-save", action="store_true", help="do not write the figures to the results folder")
    args = parser.parse_args(argv)
    quiet()
    from rewardkit.synth.multi_attribute import ATTRIBUTES

    work = Path(args.work)
    data = write_data(work / "data", args.ratings, args.pairs, args.heldout)
    shutil.rmtree(work / "cache", ignore_errors=True)
    shared = {"backbone": args.backbone, "data": data["ratings"], "max_length": args.max_length, "seed": 0,
              "eval_fraction": 0.0}
    ours = {**shared, "family": "multi", "pairs": data["pairs"], "eval_pairs": data["heldout_pairs"],
            "cache_dir": str(work / "cache"), "batch_size": 256, "epochs": args.gate_epochs,
            "head_learning_rate": 0.01, "eval_every": 10_000, "save_every": 10_000}
    peer = {**shared, "family": "scalar", "objective": "regression", "attributes": list(ATTRIBUTES),
            "batch_size": args.batch_size, "max_steps": args.peer_steps, "eval_every": 10_000, "save_every": 10_000}
    ours_cold = train_seconds(ours, work / "ours")
    ours_warm = train_seconds(ours, work / "ours")
    peer_seconds = train_seconds(peer, work / "peer")
    seconds = {"peer": peer_seconds, "ours_cold": ours_cold, "ours_warm": ours_warm}
    figures = {"settings": vars(args), "seconds": seconds,
               "ours": heldout_figures(work / "ours" / "model", data, list(ATTRIBUTES)),
               "peer": heldout_figures(work / "peer" / "model", data, list(ATTRIBUTES))}
    figures["ratio"] = peer_seconds / ours_cold
    print(ratio_line(peer_seconds, ours_cold, figures["ratio"], "s", "train, embeddings computed"))
    print(ratio_line(peer_seconds, ours_warm, peer_seconds / ours_warm, "s", "train, embeddings cached"))
    print(f"held-out pair accuracy: peer={figures['peer']['accuracy']:.3f} (equal-weight mean of its outputs) "
          f"ours={figures['ours']['accuracy']:.3f} (gated)")
    print(f"held-out Pearson: peer={figures['peer']['pearson']} ours={figures['ours']['pearson']}")
    if not args.no_save:
        print(f"figures → {save_results('multi_objective', figures)}")
    return figures


if __name__ == "__main__":
    main()
