"""Small Python functions: the chosen one passes its unit tests, the rejected one (a plausible bug) fails them.

The check `{"kind": "python_tests", "tests": "assert f(...) == ...", "timeout": 5}` is proved by running the
response's code and the asserts in a fresh interpreter (`python -I`) with a time limit, so a stored row can be
re-proved at any time. That costs a process start per response (tens of milliseconds), so generation does not
run it; tests and `verify` do. Only verify responses you trust to run: the code is executed, not sandboxed.

Generation picks test inputs with the trusted templates of `code_tasks`, executed in this process, so that every
rejected function fails at least one assert (each task also has edge inputs that expose its bugs). A rejected
function is a sibling task's correct source, so each source is right as often as it is wrong across the subset.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from random import Random
from typing import Any, Mapping, Sequence

from rewardkit.synth.code_tasks import TASKS, CodeTask
from rewardkit.synth.pair import SynthPair, make_pair

DEFAULT_TIMEOUT = 5.0
"""Seconds a response's tests may run before they count as failed."""
_CODE_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


_ASKS = (
    "Write a Python function `{name}` that {ask}.",
    "Implement `{name}` in Python: it {ask}.",
    "I need a Python function called `{name}` which {ask}. Please give the code.",
    "Can you write `{name}`? It {ask}.",
)
_LEADS = ("Here is the function:", "Sure, here you go:", "This implementation works:", "Here is one way to do it:")


def _run_in_process(source: str, name: str, args: tuple) -> Any:
    """Call our own trusted template source here (never a response's), to pick inputs and expected values."""
    scope: dict[str, Any] = {}
    exec(source, scope)  # noqa: S102 - the templates in TASKS only
    try:
        return scope[name](*args)
    except Exception as err:  # a buggy template may crash on an input; that input exposes it
        return err


def _tests(rng: Random, task: CodeTask, bug: str) -> list[str]:
    """3-4 asserts from random inputs, plus edge inputs until the bug fails one of them."""
    drawn: list[tuple] = []
    for _ in range(rng.randint(3, 4)):
        args = task.inputs(rng)
        if args not in drawn:
            drawn.append(args)

    def exposes(args: tuple) -> bool:
        return _run_in_process(bug, task.name, args) != _run_in_process(task.correct, task.name, args)

    if not any(exposes(args) for args in drawn):
        drawn.insert(rng.randint(0, len(drawn)), next(args for args in task.edges if exposes(args)))
    calls = [f"{task.name}({', '.join(repr(a) for a in args)})" for args in drawn]
    return [f"assert {call} == {_run_in_process(task.correct, task.name, args)!r}" for call, args in zip(calls, drawn)]


def _answer(lead: str, source: str) -> str:
    return f"{lead}\n\n```python\n{source}\n```"


def python_function(rng: Random) -> SynthPair:
    """A function with its unit tests in the prompt; the rejected code is right for a sibling specification
    and wrong for this one, which the tests catch."""
    task = rng.choice(TASKS)
    bug = rng.choice(task.bugs)
    tests = _tests(rng, task, bug)
    prompt = rng.choice(_ASKS).format(name=task.name, ask=task.ask)
    prompt += " It must pass these tests:\n" + "\n".join(tests)
    lead = rng.choice(_LEADS)  # the same lead-in for both answers, so only the code differs
    chosen, rejected = _answer(lead, task.correct), _answer(lead, bug)
    check = {"kind": "python_tests", "tests": "\n".join(tests), "timeout": DEFAULT_TIMEOUT}
    return make_pair("python_function", prompt, chosen, rejected, check)


def extract_code(response: str) -> str:
    """The fenced code blocks of a response joined, or the whole response when it has none.

    >>> extract_code("Here:\\n```python\\nx = 1\\n```")
    'x = 1\\n'
    """
    blocks = _CODE_BLOCK.findall(response)
    return "\n".join(blocks) if blocks else response


def passes_tests(check: Mapping[str, Any], response: str) -> bool:
    """Run the response's code then `check["tests"]` in a fresh isolated interpreter; True on exit code 0.

    A run longer than `check["timeout"]` seconds (default 5) is killed and counts as a failure.
    """
    program = extract_code(response) + "\n\n" + str(check["tests"]) + "\n"
    with tempfile.TemporaryDirectory(prefix="rewardkit-code-") as folder:
        try:
            done = subprocess.run([sys.executable, "-I", "-c", program], cwd=folder, capture_output=True,
                                  timeout=float(check.get("timeout", DEFAULT_TIMEOUT)),
                                  env={"PATH": os.environ.get("PATH", "")})
        except subprocess.TimeoutExpired:
            return False
    return done.returncode == 0


def verify_many(checks: Sequence[Mapping[str, Any]], responses: Sequence[str]) -> list[bool]:
    """`passes_tests` for each (check, response), in order."""
    return [passes_tests(check, response) for check, response in zip(checks, responses)]
