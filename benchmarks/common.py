"""What every benchmark shares: the machine's description, interleaved timing, the `peer=… ours=… ratio=…`
line, the latest figures in benchmarks/results/, the shared data and the cached trained MiniLM reward model.

Timing rules (the machine may be shared): peer and ours run alternately in the same process, several times;
we report the median of each and the median of the per-round ratios, so a load spike hits both sides.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CACHE = ROOT / "runs" / "bench"


def machine() -> dict:
    """What the figures were measured on, including how busy the machine was."""
    from rewardkit.machine import describe

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {**describe(), "load_average_1_5_15": [round(x, 2) for x in load]}


def machine_line(record: dict | None = None) -> str:
    """One printed line saying what a figure was measured on (the `machine` of the saved record)."""
    m = record or machine()
    return (f"machine: {m['cpu']} ({m['isa']}, native bf16: {'yes' if m['native_bf16'] else 'no'}), "
            f"{m['logical_cpus']} logical CPUs, torch threads {m['torch_threads']}, "
            f"load average {' '.join(str(x) for x in m['load_average_1_5_15'])}")


@dataclass
class Rounds:
    """Per-round timings of peer and ours (seconds for the same work)."""

    peer: list[float] = field(default_factory=list)
    ours: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Median over rounds of peer_time / our_time (> 1: we are faster)."""
        return statistics.median(p / o for p, o in zip(self.peer, self.ours))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def interleaved(peer: Callable[[], object], ours: Callable[[], object], rounds: int) -> Rounds:
    """Run peer and ours alternately (ABBA order), `rounds` times each."""
    result = Rounds()
    for i in range(rounds):
        order = [("peer", peer), ("ours", ours)]
        for name, fn in order if i % 2 == 0 else order[::-1]:
            getattr(result, name).append(timed(fn)[0])
    return result


def ratio_line(peer: float, ours: float, ratio: float, unit: str, label: str = "") -> str:
    prefix = f"[{label}] " if label else ""
    return f"{prefix}peer={peer:.4g} {unit} ours={ours:.4g} {unit} ratio={ratio:.2f}"


def save_results(name: str, figures: dict) -> Path:
    """benchmarks/results/NAME.json with the figures, the date and the machine."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {"benchmark": name, "date": datetime.datetime.now().isoformat(timespec="seconds"),
              "machine": machine(), **figures}
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def quiet() -> None:
    """No progress bars or advisory warnings in the benchmark output."""
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    import datasets
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


def peer_batch_size(value: str) -> int | str:
    """--peer-batch-size: 'best' or a positive integer."""
    if value == "best":
        return value
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected 'best' or a positive integer, got {value!r}")
    return int(value)


def scoring_parser(description: str, pairs: int, work: str, peer: bool = True) -> argparse.ArgumentParser:
    """The options every scoring benchmark shares: the model, how many pairs and rounds, the batch size, a work
    folder under runs/bench/, and --no-save."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", help="reward model folder (default: the cached benchmark MiniLM RM)")
    parser.add_argument("--pairs", type=int, default=pairs)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32, help="rewardkit's batch size")
    if peer:
        parser.add_argument("--peer-batch-size", type=peer_batch_size, default="best",
                            help="the pipeline's batch size, or 'best' (default): the fastest of 1, 4, 8, 16, 32 on "
                                 "a spread of the inputs, measured in the same run (peers.PipelinePeer)")
    parser.add_argument("--work", default=str(CACHE / work))
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    return parser
