"""Rows of several responses to one prompt, as rerank and annotate read them, in blocks fixed by file position.

A row:

    {"prompt": "Name a prime." | [{"role": "user", "content": "..."}, ...],
     "responses": ["2", "4", ...],          # or "candidates": [...] (one of the two); a response may also be
                                            # an assistant message, alone or in a list of one
     ...any other fields}                   # passed through to the output rows

A row that is not of this form raises a DataError naming file, line and field, or under on_bad_rows=skip
becomes a `BadRow` that holds its place (rewardkit.scale.partial_output).

Rows are read in blocks of `block_rows` rows counted from the first row of the file. A resumed run restarts at
the start of the block it stopped in and drops the rows already written, so every block is scored with the
same neighbours as in an uninterrupted run: same batches, same floats, same adaptive budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, TypeVar

from rewardkit.data.formats import LocatedRow, conversation_field
from rewardkit.data.jsonl import BadRow, iter_jsonl, json_type_name
from rewardkit.data.loaders import bad_row
from rewardkit.data.schemas import Conversation, Sample
from rewardkit.errors import DataError

RESPONSE_KEYS = ("responses", "candidates")
"""Where a row keeps its responses; either name, not both."""


@dataclass
class CandidateRow:
    """One input row: its prompt and responses, or why it is skipped."""

    row: dict | None
    prompt: Conversation = ()
    responses: list[str] = field(default_factory=list)
    key: str = "responses"
    """The field that held the responses (left out of output rows)."""
    bad: BadRow | None = None

    def sample(self, index: int) -> Sample:
        return Sample(self.prompt, self.responses[index])

    def passed_through(self) -> dict:
        """The row without its responses: the fields every output row keeps."""
        return {k: v for k, v in self.row.items() if k != self.key}


def candidate_row(row: dict, *, file: str, line: int, minimum: int = 1) -> CandidateRow:
    """The row's prompt and responses (at least `minimum`); a DataError naming the field otherwise.

    >>> candidate_row({"prompt": "Hi", "candidates": ["a", "b"]}, file="f", line=1).responses
    ['a', 'b']
    """
    present = [key for key in RESPONSE_KEYS if key in row]
    if not present:
        raise DataError("missing: the row needs 'responses' (or 'candidates'), a list of response strings",
                        file=file, line=line, field="responses")
    if len(present) > 1:
        raise DataError("given beside 'responses': keep one of the two", file=file, line=line, field="candidates")
    key = present[0]
    responses = row[key]
    if not isinstance(responses, list):
        raise DataError(f"must be a list of strings, got {json_type_name(responses)}", file=file, line=line,
                        field=key)
    responses = [response_text(value, file=file, line=line, field=f"{key}[{index}]")
                 for index, value in enumerate(responses)]
    if len(responses) < minimum:
        plural = "s" * (len(responses) != 1)
        raise DataError(f"{len(responses)} response{plural}; at least {minimum} needed", file=file, line=line,
                        field=key)
    return CandidateRow(row, conversation_field(row, "prompt", file=file, line=line), responses, key)


def response_text(value: Any, *, file: str, line: int, field: str) -> str:
    """A response: a string, an assistant message {"role": "assistant", "content": ...}, or a list of one (TRL's
    conversational completion); content as in rewardkit.data.content_parts."""
    if isinstance(value, str):
        return value
    message = value[0] if isinstance(value, list) and len(value) == 1 else value
    if not (isinstance(message, dict) and message.get("role") == "assistant"):
        raise DataError(f"must be a string or an assistant message ({{role: assistant, content}}, alone or in a "
                        f"list of one), got {json_type_name(value)}", file=file, line=line, field=field)
    return LocatedRow(message, file, line).message(field, message).content


def _checked(row: dict | BadRow, file: str, line: int, minimum: int, on_bad_rows: str) -> CandidateRow:
    if isinstance(row, BadRow):
        return CandidateRow(None, bad=row)
    try:
        return candidate_row(row, file=file, line=line, minimum=minimum)
    except DataError as err:
        if on_bad_rows != "skip":
            raise
        return CandidateRow(row, bad=bad_row(line, err, row))


Block = tuple[int, list[CandidateRow]]
"""(how many of the block's first rows are already written, the block's rows)."""


def blocks(path: str, block_rows: int, skip: int = 0, *, minimum: int = 1,
           on_bad_rows: str = "error") -> Iterator[Block]:
    """The blocks of `block_rows` rows that hold row `skip` and every row after it (see the module docstring)."""
    return positioned_blocks(iter_jsonl(path, on_bad_rows), block_rows, skip,
                             lambda line, row: _checked(row, path, line, minimum, on_bad_rows))


T = TypeVar("T")


def positioned_blocks(lines: Iterable[tuple[int, Any]], block_rows: int, skip: int,
                      check: Callable[[int, Any], T]) -> Iterator[tuple[int, list[T]]]:
    """(rows of the block already written, `check(line, row)` of each row) for the blocks of `block_rows` rows,
    counted from the first row, that hold row `skip` and every row after it; rows before that block are not
    checked. A last block already written whole is not yielded.

    >>> [(done, rows) for done, rows in positioned_blocks(enumerate("abcde", 1), 2, 3, lambda n, r: r)]
    [(1, ['c', 'd']), (0, ['e'])]
    """
    first = skip - skip % block_rows
    block: list[T] = []
    index = -1
    for index, (line, row) in enumerate(lines):
        if index < first:
            continue
        block.append(check(line, row))
        if len(block) == block_rows:
            yield max(0, skip - (index + 1 - block_rows)), block
            block = []
    if block and skip < index + 1:
        yield max(0, skip - (index + 1 - len(block))), block
