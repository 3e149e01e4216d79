"""Two-step arithmetic word problems with worked solutions; the rejected solution has a wrong step 1 (carried on
correctly to a wrong answer) or a wrong step 2. Its final answer always repeats its last step, as the chosen
one's does, so no "the answer contradicts the working" shortcut. The check is the final number."""

from __future__ import annotations

from random import Random

from rewardkit.synth.lexicon import ITEMS, NAMES
from rewardkit.synth.pair import SynthPair, make_pair

_STORIES = (
    ("{name} buys {a} packs of {b} {items} and gives {c} away. How many {items} does {name} have left?",
     "mul", "sub"),
    ("{name} has {a} boxes with {b} {items} in each, then finds {c} more. How many {items} is that?", "mul", "add"),
    ("{name} had {a} {items}, bought {b} more, then shared them equally among {c} friends. "
     "How many {items} does each friend get?", "add", "div"),
    ("A class collects {a} {items} a day for {b} days and then uses {c}. How many {items} are left?", "mul", "sub"),
)
_SYMBOL = {"add": "+", "sub": "-", "mul": "x", "div": "/"}
_STEP = ("Step {k}: {x} {s} {y} = {r}.", "{x} {s} {y} = {r}", "We get {x} {s} {y} = {r}.")
_FINAL = ("The answer is {f}.", "So the answer is {f} {items}.", "Answer: {f}")


def _apply(op: str, x: int, y: int) -> int:
    return {"add": x + y, "sub": x - y, "mul": x * y, "div": x // y}[op]


def _numbers(rng: Random, first: str, second: str) -> tuple[int, int, int]:
    """(a, b, c) with whole, positive intermediate and final values."""
    if second == "div":  # a + b shared among c: make the total a multiple of c
        c = rng.randint(2, 6)
        total = c * rng.randint(3, 9)
        a = rng.randint(1, total - 1)
        return a, total - a, c
    a, b = rng.randint(2, 9), rng.randint(3, 12)
    start = _apply(first, a, b)
    return a, b, rng.randint(1, start - 1) if second == "sub" else rng.randint(2, 30)


def _solution(rng: Random, steps: list[tuple[int, str, int, int]], final: int, items: str) -> str:
    style, closing = rng.choice(_STEP), rng.choice(_FINAL)
    lines = [style.format(k=k + 1, x=x, s=_SYMBOL[op], y=y, r=r) for k, (x, op, y, r) in enumerate(steps)]
    return "\n".join(lines + [closing.format(f=final, items=items)])


def multi_step_math(rng: Random) -> SynthPair:
    """A two-step problem; the rejected solution slips in step 1 or in step 2."""
    story, first, second = rng.choice(_STORIES)
    a, b, c = _numbers(rng, first, second)
    mid = _apply(first, a, b)
    answer = _apply(second, mid, c)
    name, items = rng.choice(NAMES), rng.choice(ITEMS)
    prompt = story.format(name=name, a=a, b=b, c=c, items=items)
    slip_first = rng.random() < 0.5
    slip = rng.choice((-2, -1, 1, 2)) * (c if second == "div" else 1)
    wrong_mid = mid + slip if slip_first else mid
    wrong_end = _apply(second, wrong_mid, c) + (0 if slip_first else rng.choice((-3, -1, 1, 3)))
    state = rng.random()
    chosen = _solution(Random(state), [(a, first, b, mid), (mid, second, c, answer)], answer, items)
    rejected = _solution(Random(state), [(a, first, b, wrong_mid), (wrong_mid, second, c, wrong_end)],
                         wrong_end, items)
    return make_pair("multi_step_math", prompt, chosen, rejected, {"kind": "numeric_answer", "answer": answer})
