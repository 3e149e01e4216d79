"""RewardBench v1 and RewardBench 2 rows as rewardkit records, from the hub (through `datasets`) or a local copy.

    v1  allenai/reward-bench, split "filtered": prompt (str), chosen (str), rejected (str), subset, id
    v2  allenai/reward-bench-2, split "test":   prompt (str), chosen (list), rejected (list), subset,
        num_correct, id

A local `.jsonl`, `.json`, `.parquet` or `.csv` file (or a saved dataset folder) with the same columns works
the same way, which is how the tests run without a hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from rewardkit.data.formats import conversation_field
from rewardkit.data.loaders import open_rows
from rewardkit.data.schemas import Conversation, PreferencePair
from rewardkit.errors import DataError

V1_HUB_ID, V1_SPLIT = "allenai/reward-bench", "filtered"
V2_HUB_ID, V2_SPLIT = "allenai/reward-bench-2", "test"


@dataclass(frozen=True)
class BenchItem:
    """One RewardBench 2 row: the correct completions, then the incorrect ones."""

    prompt: Conversation
    chosen: tuple[str, ...]
    rejected: tuple[str, ...]
    subset: str
    """The domain: Factuality, Precise IF, Math, Safety, Focus or Ties."""
    num_correct: int
    id: str

    def responses(self) -> tuple[str, ...]:
        return self.chosen + self.rejected


def _field(row: Mapping[str, Any], name: str, file: str, line: int) -> Any:
    if name not in row or row[name] is None:
        raise DataError("missing field", file=file, line=line, field=name)
    return row[name]


def _rows(source: str | None, hub_id: str, split: str) -> tuple[str, list[tuple[int, Mapping[str, Any]]]]:
    """(name, rows) of `source` (default the hub id); a hub failure says how to use a local copy instead."""
    try:
        name, rows = open_rows(source or hub_id, split)
        return name, list(rows())
    except DataError as err:
        if source:
            raise
        raise DataError(f"{err.reason} (no hub access? pass a local copy of {hub_id} with --data FILE)",
                        file=hub_id) from None


def load_rewardbench_v1(source: str | None = None, split: str = V1_SPLIT) -> list[PreferencePair]:
    """RewardBench v1 pairs, `subset` set to each row's subset (e.g. "alpacaeval-easy")."""
    name, rows = _rows(source, V1_HUB_ID, split)
    pairs = []
    for line, row in rows:
        chosen, rejected, subset = (_field(row, k, name, line) for k in ("chosen", "rejected", "subset"))
        pairs.append(PreferencePair(conversation_field(row, "prompt", file=name, line=line), str(chosen),
                                    str(rejected), subset=str(subset),
                                    id=str(row.get("id", line))))
    if not pairs:
        raise DataError("no rows", file=name)
    return pairs


def _as_list(value: Any, field: str, file: str, line: int) -> tuple[str, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise DataError("expected a list of completions", file=file, line=line, field=field)
    return tuple(str(v) for v in value)


def load_rewardbench_v2(source: str | None = None, split: str = V2_SPLIT) -> list[BenchItem]:
    """RewardBench 2 items; `num_correct` defaults to the number of chosen completions."""
    name, rows = _rows(source, V2_HUB_ID, split)
    items = []
    for line, row in rows:
        chosen = _as_list(_field(row, "chosen", name, line), "chosen", name, line)
        rejected = _as_list(_field(row, "rejected", name, line), "rejected", name, line)
        if not chosen or not rejected:
            raise DataError("needs at least one chosen and one rejected completion", file=name, line=line)
        items.append(BenchItem(conversation_field(row, "prompt", file=name, line=line), chosen, rejected,
                               str(_field(row, "subset", name, line)), int(row.get("num_correct") or len(chosen)),
                               str(row.get("id", line))))
    if not items:
        raise DataError("no rows", file=name)
    return items


def ties_kind(item_id: str) -> tuple[str, str]:
    """("ref" | "tied", prompt id) from a Ties row id such as "ref:12", "tied:12" or "12_ref".

    >>> ties_kind("tied:7"), ties_kind("7_ref")
    (('tied', '7'), ('ref', '7'))
    """
    import re

    parts = [p for p in re.split(r"[:_\-]", item_id) if p]
    kinds = [p for p in parts if p in ("ref", "tied")]
    if len(kinds) != 1:
        raise DataError(f"cannot tell whether Ties row {item_id!r} is a 'ref' or a 'tied' prompt", field="id")
    return kinds[0], "_".join(p for p in parts if p not in ("ref", "tied"))
