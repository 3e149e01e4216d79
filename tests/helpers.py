"""Helpers the test modules share: the CLI run in-process, and JSONL files written from rows."""

import json
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


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


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


class ForkingLauncher:
    """Runs `attempt(**request)` (defined by `script`, which does its heavy imports at the top) in a fresh child
    process per request, forked from one interpreter that imported them once: what `python -c script` per
    request proves (a process that can be SIGKILLed mid-write), without paying the torch import each time.
    Children's stderr goes to `log`."""

    def __init__(self, script: str, log: Path):
        import os
        import subprocess

        self.log_path, self.log = log, log.open("w")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        self.process = subprocess.Popen([sys.executable, "-c", FORK_PER_REQUEST.format(script=script)], env=env,
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
