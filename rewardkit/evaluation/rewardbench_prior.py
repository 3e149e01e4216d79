"""RewardBench v1's prior sets (allenai/preference-test-sets) as rewardkit pairs, from the hub or a local copy.

On the hub the data set has one split per prior set (anthropic_helpful, anthropic_hhh, shp, summarize, and the
unscored anthropic_harmless, mtbench_gpt4, mtbench_human; upstream drops pku_safer and pku_better). Each row
holds `prompt` (a list of role/content messages, or a string), `chosen` and `rejected` (strings).

A local copy is either a folder written by `DatasetDict.save_to_disk` (splits named as on the hub), or one
`.jsonl`/`.json`/`.parquet`/`.csv` file whose rows carry the split name in a `subset` field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

from rewardkit.data.formats import conversation_field
from rewardkit.data.schemas import PreferencePair
from rewardkit.errors import DataError
from rewardkit.evaluation.rewardbench import V1_PRIOR_SETS, V1_PRIOR_SETS_UNSCORED

PRIOR_HUB_ID = "allenai/preference-test-sets"
DROPPED_SPLITS = ("pku_safer", "pku_better")
"""Splits of the hub data that upstream no longer counts."""


def load_prior_sets(source: str | None = None) -> list[PreferencePair]:
    """Prior-set pairs with `subset` set to the prior set's name; `source` None reads the hub."""
    name, rows = _named_rows(source)
    known = set(V1_PRIOR_SETS) | set(V1_PRIOR_SETS_UNSCORED)
    pairs = []
    for subset, line, row in rows:
        if subset in DROPPED_SPLITS:
            continue
        if subset not in known:
            raise DataError(f"unknown prior set {subset!r} (known: {', '.join(sorted(known))})", file=name,
                            line=line, field="subset")
        chosen, rejected = (_field(row, key, name, line) for key in ("chosen", "rejected"))
        pairs.append(PreferencePair(conversation_field(row, "prompt", file=name, line=line), str(chosen),
                                    str(rejected), subset=subset, id=f"{subset}:{row.get('id', line)}"))
    if not pairs:
        raise DataError("no prior-set rows", file=name)
    return pairs


def _field(row: Mapping[str, Any], key: str, file: str, line: int) -> Any:
    if row.get(key) is None:
        raise DataError("missing field", file=file, line=line, field=key)
    return row[key]


def _named_rows(source: str | None) -> tuple[str, Iterator[tuple[str, int, Mapping[str, Any]]]]:
    """(name for errors, (subset, line, row) for every row)."""
    if source is not None and Path(source).is_file():
        from rewardkit.data.loaders import open_rows

        name, rows = open_rows(source)
        return name, ((str(_field(row, "subset", name, line)), line, row) for line, row in rows())
    return source or PRIOR_HUB_ID, _split_rows(_dataset_dict(source))


def _dataset_dict(source: str | None) -> Any:
    import datasets

    name = source or PRIOR_HUB_ID
    try:
        if source is not None:
            if not Path(source).is_dir():
                raise DataError("file not found", file=source)
            return datasets.load_from_disk(source)
        return datasets.load_dataset(PRIOR_HUB_ID)
    except DataError:
        raise
    except Exception as exc:  # hub, network and format errors all come as different types
        hint = "" if source else " (no hub access? pass a local copy with --prior-data FILE)"
        raise DataError(f"could not load prior sets: {exc}{hint}", file=name) from exc


def _split_rows(splits: Any) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    if not hasattr(splits, "items"):
        raise DataError("expected one split per prior set (a saved DatasetDict)", field="subset")
    for subset, rows in splits.items():
        for line, row in enumerate(rows, 1):
            yield subset, line, row
