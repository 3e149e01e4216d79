"""UltraFeedback's fine-grained ratings (openbmb/UltraFeedback): one row holds an `instruction` and several
`completions`, each with GPT-4 `annotations` rating four aspects 1–5:

    {"instruction": "...", "completions": [{"response": "...", "model": "...",
      "annotations": {"instruction_following": {"Rating": "5", "Rationale": "..."},
                      "honesty": {"Rating": "4", ...}, "truthfulness": {"Rating": "N/A", ...},
                      "helpfulness": {"Rating": "3", ...}}}, ...]}

Each completion becomes a RatedResponse (a row of four completions gives four records). A rating of "N/A", null
or a missing aspect is None (masked by the objectives, never imputed). Ratings may be numbers or numeric
strings; anything else is a DataError naming file, line and field (`completions[2].annotations.honesty`).
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping, Sequence

from rewardkit.data.formats import LocatedRow
from rewardkit.data.jsonl import json_type_name
from rewardkit.data.loaders import RecordSource, check_bad_row_policy, first_usable_row, open_rows
from rewardkit.data.schemas import RatedResponse

ULTRAFEEDBACK_ATTRIBUTES = ("instruction_following", "honesty", "truthfulness", "helpfulness")


def _rating(r: LocatedRow, where: str, annotation: Any) -> float | None:
    if isinstance(annotation, list) and len(annotation) == 1:  # some dumps wrap each aspect in a list
        annotation = annotation[0]
    if annotation is None:
        return None
    if not isinstance(annotation, Mapping):
        raise r.error(f"must be an object with a 'Rating', got {json_type_name(annotation)}", where)
    value = annotation.get("Rating")
    if value is None or (isinstance(value, str) and value.strip().upper() in ("N/A", "NA", "")):
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise r.error(f"must be a number or N/A, got {value!r}", f"{where}.Rating") from None
    return r.number(f"{where}.Rating", value)


def ultrafeedback_rated(row: Mapping[str, Any], *, attributes: Sequence[str] = ULTRAFEEDBACK_ATTRIBUTES,
                        file: str | None = None, line: int | None = None, strict: bool = False) -> list[RatedResponse]:
    """The rated completions of one UltraFeedback row.

    >>> row = {"instruction": "Hi", "completions": [{"response": "Hello",
    ...        "annotations": {"helpfulness": {"Rating": "4"}, "honesty": {"Rating": "N/A"}}}]}
    >>> ultrafeedback_rated(row)[0].ratings["helpfulness"], ultrafeedback_rated(row)[0].ratings["honesty"]
    (4.0, None)
    """
    r = LocatedRow(row, file, line)
    prompt = r.conversation("instruction")
    completions = r.required("completions")
    if not isinstance(completions, list):
        raise r.error(f"must be a list of completions, got {json_type_name(completions)}", "completions")
    meta = {"subset": r.optional("source") if isinstance(r.optional("source"), str) else None}
    records = []
    for index, completion in enumerate(completions):
        where = f"completions[{index}]"
        if not isinstance(completion, Mapping):
            raise r.error(f"must be an object, got {json_type_name(completion)}", where)
        response = completion.get("response")
        if not isinstance(response, str):
            raise r.error(f"must be a string, got {json_type_name(response)}", f"{where}.response")
        annotations = completion.get("annotations") or {}
        if not isinstance(annotations, Mapping):
            raise r.error(f"must be an object, got {json_type_name(annotations)}", f"{where}.annotations")
        ratings = {name: _rating(r, f"{where}.annotations.{name}", annotations.get(name)) for name in attributes}
        records.append(RatedResponse(prompt, response, ratings, id=f"{line}.{index}" if line else None, **meta))
    return records


class _FlatSource(RecordSource):
    """A RecordSource whose rows each parse to a list of records, yielded one by one (stats count rows)."""

    def __iter__(self) -> Iterator[RatedResponse]:
        for records in super().__iter__():
            yield from records


def load_ultrafeedback(source: str | os.PathLike, attributes: Sequence[str] = ULTRAFEEDBACK_ATTRIBUTES, *,
                       split: str = "train", on_bad_rows: str = "error") -> RecordSource[RatedResponse]:
    """Rated completions from an UltraFeedback file, folder or hub id (one record per completion).

    >>> rated = list(load_ultrafeedback("ultrafeedback.jsonl"))   # doctest: +SKIP
    """
    from functools import partial

    check_bad_row_policy(on_bad_rows)
    name, rows = open_rows(source, split, on_bad_rows)
    parse = partial(ultrafeedback_rated, attributes=tuple(attributes))
    first_usable_row(name, rows, lambda row, number: parse(row, file=name, line=number), on_bad_rows)
    return _FlatSource(name, "ultrafeedback", rows, parse, on_bad_rows)
