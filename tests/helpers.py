"""Helpers the test modules share: the CLI run in-process, and JSONL files written from rows."""

import json
import os
import sys
from pathlib import Path

from rewardkit.cli.app import main


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """`rewardkit ARGS` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["rewardkit", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dies_with_this_process():
    """A Popen `preexec_fn` that makes the child get SIGTERM when this process dies (Linux; None elsewhere), so
    a server a test starts does not outlive a test run killed before its cleanup ran."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    return lambda: libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def preference_flipping_multi(backbone: str, folder: Path):
    """A multi model (attributes helpfulness, safety, verbosity) on `backbone`, saved to `folder`, whose heads make
    helpfulness favour `first` (a full answer) and safety favour `second` (a curt "No."), safety's gap twice as
    large: the near-uniform untrained gate prefers `second`, and steering safety down prefers `first`.
    Returns (folder, first, second)."""
    import torch

    from rewardkit import Sample
    from rewardkit.models import multi

    first = Sample.from_text("How do I bake bread?", "Mix flour, water and yeast; bake for 40 minutes.")
    second = Sample.from_text("How do I bake bread?", "No.")
    model = multi.build(backbone, attributes=["helpfulness", "safety", "verbosity"], max_length=64, seed=0)
    embeddings = model.embed_samples([first, second])[0]
    direction = (embeddings[0] - embeddings[1]) / (embeddings[0] - embeddings[1]).norm()
    with torch.no_grad():
        model.heads.heads.weight.zero_()
        model.heads.heads.weight[0] = direction        # helpfulness: the full answer
        model.heads.heads.weight[1] = -2 * direction   # safety: the curt one
    return model.save(folder), first, second


FORK_PER_REQUEST = """
import json, os, sys

{script}

# One request per line of stdin, each run in a child forked from this interpreter: a process of its own (killed
# for real), without importing torch again. Answers "EXIT <code>" (-9: SIGKILL).
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = attempt(**request) or 0
        except SystemExit as exit_:
            code = exit_.code or 0
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    print("EXIT", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


def this_python() -> list[str]:
    """The command that runs this interpreter on this interpreter's CPU. Under qemu-user a child process runs on
    the host's CPU unless started under qemu too: with REWARDKIT_EMULATED_CPU naming qemu's CPU model (as
    tests/export/test_emulated_cpus.py sets it; `REWARDKIT_EMULATED_CPU=EPYC-Milan qemu-x86_64 -cpu EPYC-Milan
    python -m pytest ...` by hand), it is."""
    cpu = os.environ.get("REWARDKIT_EMULATED_CPU")
    return ["qemu-x86_64", "-cpu", cpu, sys.executable] if cpu else [sys.executable]


class ForkingLauncher:
    """Runs `attempt(**request)` (defined by `script`, which does its heavy imports at the top) in a fresh child
    process per request, forked from one interpreter that imported them once: what `python -c script` per
    request proves (a process that can be SIGKILLed mid-write), without paying the torch import each time.
    Children's stderr goes to `log`."""

    def __init__(self, script: str, log: Path):
        import subprocess

        self.log_path, self.log = log, log.open("w")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        self.process = subprocess.Popen([*this_python(), "-c", FORK_PER_REQUEST.format(script=script)], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def run(self, **request) -> int:
        """The child's exit code (negative: killed by that signal)."""
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = next((line for line in self.process.stdout if line.startswith("EXIT ")), None)
        assert answer is not None, self.stderr()[-3000:]
        return int(answer.split()[1])

    def stderr(self) -> str:
        return self.log_path.read_text()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.wait(timeout=300)
        self.log.close()


class PositionRoundingModel:
    """Rewards by text length, plus a last-bits term that grows with the sample's position in the call: how a
    batch's rows round on AVX2 CPUs (identical texts scored apart got rewards 2 ulp apart there)."""

    def __init__(self):
        self.calls = []

    def score(self, samples, batch_size=32):
        from rewardkit.models.base import Scores

        self.calls.append([s.response for s in samples])
        return Scores([len(s.response) + 1e-9 * position for position, s in enumerate(samples)])
