"""Training and held-out records from the configured files: preference pairs read with the pair keys every
pair-trained objective shares, and the deterministic hold-out split."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

from rewardkit.data.loaders import LoadStats, RecordSource, load_pairs
from rewardkit.data.schemas import PreferencePair
from rewardkit.errors import ConfigError

T = TypeVar("T")


@dataclass
class PairKeys:
    """How preference rows are read (objectives trained on pairs)."""

    data_format: str = "auto"
    """trl | trl-implicit | hh | keys | sharegpt | helpsteer2-preference | auto (detected per file)."""
    prompt_key: str = "prompt"
    """Key of the prompt (format `keys`, OpenRLHF style)."""
    chosen_key: str = "chosen"
    """Key of the chosen response (format `keys`)."""
    rejected_key: str = "rejected"
    """Key of the rejected response (format `keys`)."""
    margin_key: str = "margin"
    """Key of the preference strength, read by bt-margin and scaled-bt (format `keys`)."""
    strict_rows: bool = False
    """Pairs whose conversations diverge before their final responses are kept (shared turns = prompt) and
    counted; true makes them an error, naming the line."""
    on_bad_rows: str = "error"
    """error | skip: a broken row (not JSON, a missing field, a wrong type) stops the run naming it, or is
    skipped, counted and written with its reason to OUT/skipped_rows.jsonl."""


def holdout_split(records: Sequence[T], fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """Deterministic (train, eval) split holding out `fraction` of the records (at least 1 when fraction > 0)."""
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    n_eval = min(len(records) - 1, max(1, round(fraction * len(records)))) if fraction > 0 else 0
    held = set(order[:n_eval])
    return [r for i, r in enumerate(records) if i not in held], [records[i] for i in sorted(held)]


def train_and_heldout(data: str, eval_data: str, eval_fraction: float, seed: int,
                      loader: Callable[[str], RecordSource[T]]) -> tuple[list[T], list[T], LoadStats]:
    """(training, held-out) records: `eval_data` when given, else an `eval_fraction` of `data`; and what
    loading them did (rows kept, diverged, skipped)."""
    if not data:
        raise ConfigError("no training data: pass --data FILE (or data: in the config)")
    source = loader(data)
    train = list(source)
    if eval_data:
        held_source = loader(eval_data)
        held = list(held_source)
        return train, held, source.stats + held_source.stats
    return (*holdout_split(train, eval_fraction, seed), source.stats)


def load_pair_splits(config, keys: PairKeys) -> tuple[list[PreferencePair], list[PreferencePair], LoadStats]:
    """(training, held-out) pairs from a TrainConfig's `data` / `eval_data` read with `keys`, and the counts."""
    columns = dict(prompt_key=keys.prompt_key, chosen_key=keys.chosen_key, rejected_key=keys.rejected_key,
                   margin_key=keys.margin_key, strict_rows=keys.strict_rows, on_bad_rows=keys.on_bad_rows)
    return train_and_heldout(config.data, config.eval_data, config.eval_fraction, config.seed,
                             lambda source: load_pairs(source, keys.data_format, **columns))
