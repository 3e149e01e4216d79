"""Write files and folders so a reader sees either the old version or the complete new one, never half.

The temporary siblings are named `.NAME.tmp-HOST-PID-*` (and a replaced folder `.NAME.old-HOST-PID`). A process
killed outright (SIGKILL, out of memory) cannot delete its own, so the next write to the same path deletes those
left by processes of this host that are gone: a killed checkpoint save does not leave a model's worth of files
behind for good. Other hosts' siblings (a shared filesystem) are never touched, nor is an `.old` folder while
NAME itself is missing (a writer killed between its two renames: the old folder is then the only copy).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Iterator, TextIO


def _host() -> str:
    """This host's name with only letters, digits and underscores (no '-', which separates the name's parts)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"


def _owner() -> str:
    return f"{_host()}-{os.getpid()}"


def _remove_orphans(path: Path) -> None:
    """Delete the temporary siblings of `path` left by processes of this host that no longer run."""
    host = re.escape(_host())
    kinds = "tmp|old" if path.exists() else "tmp"  # with `path` gone, an .old sibling may be its only copy
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:{kinds})-{host}-(\d+)(?:-.*)?\Z")
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        match = pattern.match(sibling.name)
        if match and not _running(int(match.group(1))):
            if sibling.is_dir() and not sibling.is_symlink():
                shutil.rmtree(sibling, ignore_errors=True)
            else:
                sibling.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        pass
    return True


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces `path`, on error it is deleted.

    >>> with atomic_dir("out/model") as tmp:          # doctest: +SKIP
    ...     (tmp / "config.json").write_text("{}")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-{_owner()}-", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = path.parent / f".{path.name}.old-{_owner()}"
    if path.exists():
        os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        if old.exists() and not path.exists():
            os.replace(old, path)  # the old version stays where it was
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w") -> Iterator[TextIO]:
    """Open a temporary sibling file; on success it replaces `path`, on error it is deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{_owner()}-", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual permissions
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
