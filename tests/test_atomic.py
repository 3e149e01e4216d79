"""rewardkit.atomic: all-or-nothing writes, and the temporary files of killed writers cleaned up by the next."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from rewardkit.atomic import _owner, atomic_dir, atomic_file


def test_an_error_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def _killed_writer(target, kind: str) -> None:
    """A process that starts an atomic write of `target` and dies by SIGKILL in the middle of it."""
    code = textwrap.dedent(f"""
        import os, signal
        from rewardkit.atomic import atomic_dir, atomic_file
        if {kind!r} == "dir":
            with atomic_dir({str(target)!r}) as tmp:
                (tmp / "model.safetensors").write_bytes(b"x" * 1000)
                os.kill(os.getpid(), signal.SIGKILL)
        with atomic_file({str(target)!r}) as handle:
            handle.write("half")
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert result.returncode == -9, result.stderr.decode()


@pytest.mark.parametrize("kind", ["dir", "file"])
def test_the_next_write_removes_what_a_killed_writer_left(tmp_path, kind):
    target = tmp_path / ("checkpoint" if kind == "dir" else "metrics.json")
    _killed_writer(target, kind)
    orphans = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{target.name}.tmp-")]
    assert len(orphans) == 1 and not target.exists()  # what SIGKILL leaves
    if kind == "dir":
        with atomic_dir(target) as tmp:
            (tmp / "config.json").write_text("{}")
    else:
        with atomic_file(target) as handle:
            handle.write("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_live_writers_other_hosts_and_other_paths_are_left_alone(tmp_path):
    target = tmp_path / "metrics.json"
    host, _ = _owner().rsplit("-", 1)
    keep = [f".metrics.json.tmp-{host}-{os.getppid()}-abc",  # a live process of this host (our parent)
            ".metrics.json.tmp-otherhost-1-abc",  # another host on a shared filesystem
            f".other.json.tmp-{host}-999999999-abc",  # another path's
            "notes.txt"]
    for name in keep:
        (tmp_path / name).write_text("x")
    dead = tmp_path / f".metrics.json.tmp-{host}-999999999-abc"  # no such pid: its writer is gone
    dead.write_text("x")
    with atomic_file(target) as handle:
        handle.write("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep + ["metrics.json"])


def test_an_old_folder_is_kept_while_its_path_is_missing(tmp_path):
    """A writer killed between moving the old folder aside and moving the new one in leaves `.model.old-*` and no
    `model`: the old folder is then the only copy, so a write finding it that way keeps it; once `model` exists
    again, the next write removes it."""
    host, _ = _owner().rsplit("-", 1)
    old = tmp_path / f".model.old-{host}-999999999"
    old.mkdir()
    (old / "config.json").write_text("{}")
    with atomic_dir(tmp_path / "model") as tmp:
        (tmp / "config.json").write_text("{}")
    assert old.is_dir()
    with atomic_dir(tmp_path / "model") as tmp:
        (tmp / "config.json").write_text("{}")
    assert not old.exists() and (tmp_path / "model" / "config.json").is_file()


def test_a_failed_final_rename_keeps_the_old_folder_in_place(tmp_path, monkeypatch):
    target = tmp_path / "model"
    target.mkdir()
    (target / "config.json").write_text("old")
    real_replace = os.replace

    def failing_replace(src, dst):
        if ".tmp-" in str(src):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"), atomic_dir(target) as tmp:
        (tmp / "config.json").write_text("new")
    assert (target / "config.json").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["model"]
