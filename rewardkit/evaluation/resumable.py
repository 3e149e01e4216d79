"""What `rewardkit eval --resume` continues from: each scoring loop's finished chunks, journaled as they finish.

While `journaling(folder, model_name, resume)` is active, the evaluation's scoring loops (suite_eval.score_samples
and the judge loop) append one JSON line per finished chunk to a journal in `folder`, named after the model and a
hash of the loop's inputs (the samples or pairs, in order, and the chunk size). The line holds the chunk's
results, and for a judge its counters so far, so that the report of a resumed run is the one an uninterrupted run
writes. A resumed run reads the journal of the same model name and inputs, takes its chunks, and scores the
rest; other inputs (other data, another --n or --batch-size) have another journal, so nothing is mixed. A torn
last line (a run killed while writing it) is dropped. Without `resume`, a loop starts its journal afresh.

The folder is OUT/.partial; `rewardkit eval` deletes it once the outputs are written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

_ACTIVE: ContextVar["Journals | None"] = ContextVar("rewardkit_eval_journals", default=None)


@dataclass(frozen=True)
class Journals:
    folder: Path
    model: str
    """The model's name, in the journals' file names."""
    resume: bool
    identity: str = ""
    """Whatever else makes the model what it is (its options, its files), hashed into the journals' names."""

    def journal(self, kind: str, items: Sequence, chunk: int) -> "Journal":
        """The journal of the loop over `items` (samples or pairs) in chunks of `chunk`."""
        digest = hashlib.sha256(f"{self.model}\0{self.identity}\0{kind}\0{chunk}\0{len(items)}".encode())
        for item in items:
            digest.update(repr(item).encode())
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.model).strip("._")[-60:] or "model"
        return Journal(self.folder / f"{name}-{kind}-{digest.hexdigest()[:16]}.jsonl", self.resume)


@contextmanager
def journaling(folder: Path, model: str, resume: bool, identity: str = "") -> Iterator[Journals]:
    """Scoring loops run inside this block journal their chunks in `folder` under `model`'s name; `identity`
    (the model's options and files) must match too for a resumed run to take them."""
    journals = Journals(Path(folder), model, resume, identity)
    token = _ACTIVE.set(journals)
    try:
        yield journals
    finally:
        _ACTIVE.reset(token)


def journal_for(kind: str, items: Sequence, chunk: int) -> "Journal | None":
    """The active journal of this loop, or None when no `journaling` block is active (the Python API)."""
    journals = _ACTIVE.get()
    return None if journals is None else journals.journal(kind, items, chunk)


class Journal:
    """One loop's finished chunks: `chunks()` reads them (resume), `add(record)` appends one."""

    def __init__(self, path: Path, resume: bool):
        self.path, self.resume, self._started = path, resume, False

    def chunks(self) -> list[dict]:
        """The chunks a previous run finished, in order ([] without resume or journal). A torn last line (a run
        killed while writing it) is cut off, so the chunks appended next follow the ones read."""
        if not self.resume or not self.path.is_file():
            return []
        records, whole = [], 0
        with self.path.open("rb") as handle:
            for line in handle:
                try:
                    if not line.endswith(b"\n"):
                        break
                    records.append(json.loads(line))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    break
                whole += len(line)
        os.truncate(self.path, whole)
        self._started = True
        return records

    def add(self, record: dict) -> None:
        """Append one finished chunk, flushed to disk before the loop goes on."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a" if self._started else "w", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._started = True


def folder_identity(path: str) -> str:
    """The names, sizes and modification times of the files in a model folder ("" for a hub id or spec): a model
    retrained into the same folder is another model."""
    folder = Path(path)
    if not folder.is_dir():
        return ""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
