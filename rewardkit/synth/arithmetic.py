"""Arithmetic word problems: the chosen answer is right, the rejected one is wrong in a visible way.

The rejected answer is written exactly like the chosen one (same working, same operation, its final answer
equal to its working) with a slip in the sum itself, so only doing the arithmetic tells them apart. (Earlier
rejected answers used the wrong operation or contradicted their own working: a symbol or "the last two numbers
differ" then gave the answer away without reading the problem.)
"""

from __future__ import annotations

from random import Random

from rewardkit.synth.lexicon import ITEMS, NAMES
from rewardkit.synth.pair import SynthPair, make_pair

_SYMBOL = {"add": "+", "sub": "-", "mul": "x", "div": "/"}
_STORIES = {
    "add": (
        "{name} has {a} {items} and gets {b} more. How many {items} does {name} have now?",
        "A shelf holds {a} {items}. Someone adds {b} more. How many {items} are on the shelf?",
        "{name} collected {a} {items} on Monday and {b} on Tuesday. How many {items} is that in total?",
    ),
    "sub": (
        "{name} had {a} {items} and gave {b} away. How many {items} are left?",
        "There were {a} {items} in a box and {b} were sold. How many {items} remain?",
        "{name} needs {a} {items} and already has {b}. How many more {items} are needed?",
    ),
    "mul": (
        "There are {a} bags with {b} {items} in each. How many {items} are there altogether?",
        "{name} buys {a} packs of {b} {items}. How many {items} is that?",
        "Each of {a} friends brings {b} {items}. How many {items} do they bring in total?",
    ),
    "div": (
        "{name} shares {a} {items} equally among {b} friends. How many {items} does each friend get?",
        "{a} {items} are packed into {b} equal boxes. How many {items} go in each box?",
    ),
}
_WORKING = (
    "{a} {s} {b} = {r}. The answer is {f}.",
    "We compute {a} {s} {b} = {r}, so the answer is {f} {items}.",
    "{a} {s} {b} = {r}\nAnswer: {f}",
)


def _operands(rng: Random, op: str) -> tuple[int, int]:
    """Operands small enough to read, with whole-number answers."""
    if op in ("add", "sub"):
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        return (max(a, b) + 1, min(a, b)) if op == "sub" else (a, b)
    a, b = rng.randint(2, 12), rng.randint(2, 9)
    return (a * b, b) if op == "div" else (a, b)


def _apply(op: str, a: int, b: int) -> int:
    return {"add": a + b, "sub": a - b, "mul": a * b, "div": a // b}[op]


def _slip(rng: Random, op: str, a: int, b: int, answer: int) -> int:
    """A wrong result of the kind people write: a carry slip (off by 1 or 10) in a sum or difference, one group
    too many or too few in a product (so it still looks like a product), off by one in a quotient."""
    if op == "mul":
        return answer + rng.choice((-1, 1)) * rng.choice((a, b))
    if op == "div":
        return answer + rng.choice((-1, 1))
    return answer + rng.choice((-10, -1, 1, 10))


def arithmetic(rng: Random) -> SynthPair:
    """A one-step word problem; the check is the final number of the response."""
    op = rng.choice(tuple(_STORIES))
    a, b = _operands(rng, op)
    answer = _apply(op, a, b)
    name, items = rng.choice(NAMES), rng.choice(ITEMS)
    prompt = rng.choice(_STORIES[op]).format(name=name, a=a, b=b, items=items)
    working = rng.choice(_WORKING)
    chosen = working.format(a=a, b=b, s=_SYMBOL[op], r=answer, f=answer, items=items)
    wrong = _slip(rng, op, a, b, answer)
    rejected = working.format(a=a, b=b, s=_SYMBOL[op], r=wrong, f=wrong, items=items)
    return make_pair("arithmetic", prompt, chosen, rejected, {"kind": "numeric_answer", "answer": answer})
