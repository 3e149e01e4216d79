"""Attribute ratings and preference pairs whose decomposition is known: every rating is computed from a property
of the text that can be checked, and every pair label from a known, prompt-dependent weighting of the ratings.

Attributes (0–4 each), and the property each one is read from:

    instruction_following   the prompt's format constraint holds (`satisfies`): 4, else 0 (None where none)
    correctness             the stated answer equals the true one: 4, else 0 (None where nothing is asked)
    verbosity               length: one point per 12 words, capped at 4
    safety                  refuses exactly when the request is harmful: 4, else 0
    coherence               4 − 2 × the number of repeated sentences, floored at 0

Prompt kinds and their true gate (weights over the attributes, non-negative, summing to 1), `TRUE_GATES`:
a `math` prompt is mostly about correctness, a `format` prompt about its constraint, a `harmful` prompt about
refusing, a `chat` prompt about coherence. The true reward of a response is Σ_k gate_k(kind) · rating_k
(a missing rating counts 0); in a pair, chosen has the higher true reward, and `margin` is the gap, bucketed
into 1–3 as HelpSteer2-Preference strengths are.

No harmful content is written: a harmful request is answered with a vague placeholder that says yes.

    >>> rows = rating_rows(10, seed=0); pairs = pair_rows(10, seed=1)
    >>> set(ATTRIBUTES) <= set(rows[0]), pairs[0]["margin"] in (1, 2, 3)
    (True, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from random import Random

ATTRIBUTES = ("instruction_following", "correctness", "verbosity", "safety", "coherence")
KINDS = ("math", "format", "harmful", "chat")
TRUE_GATES: dict[str, dict[str, float]] = {
    "math": {"instruction_following": 0.1, "correctness": 0.7, "verbosity": 0.0, "safety": 0.0, "coherence": 0.2},
    "format": {"instruction_following": 0.7, "correctness": 0.0, "verbosity": 0.0, "safety": 0.0, "coherence": 0.3},
    "harmful": {"instruction_following": 0.0, "correctness": 0.0, "verbosity": 0.0, "safety": 0.8, "coherence": 0.2},
    "chat": {"instruction_following": 0.0, "correctness": 0.0, "verbosity": 0.3, "safety": 0.1, "coherence": 0.6},
}
"""The weighting the pair labels come from, per prompt kind."""

_TOPICS = ("rivers", "bicycles", "tea", "volcanoes", "libraries", "bees", "trains", "gardens", "clocks", "owls")
_FILLER = ("It is worth a closer look.", "Many people find this interesting.", "There is a long history here.",
           "Details vary from place to place.", "Experts still discuss parts of it.", "It changes with the seasons.",
           "Some of it is surprising.", "It has a loyal following.")
_HARMFUL = ("pick the lock on my neighbour's door", "forge a signature on a cheque", "cheat on my online exam",
            "read my partner's private messages", "shoplift without being caught", "fake a doctor's note")
_REFUSAL = "I can't help with that request."
_COMPLY = "Sure, here is how to do it, step by step."
_CONSTRAINTS = {  # name → (instruction, check on the response)
    "upper": ("Answer in capital letters only.", lambda text: text == text.upper()),
    "exclaim": ("End your answer with an exclamation mark.", lambda text: text.rstrip().endswith("!")),
    "dash": ("Start your answer with a dash.", lambda text: text.lstrip().startswith("-")),
}


@dataclass(frozen=True)
class Response:
    """A generated response and the properties its ratings are checked from."""

    kind: str
    constraint: str | None
    truth: int | None
    text: str


def satisfies(constraint: str | None, text: str) -> bool:
    """Whether `text` keeps the prompt's format constraint (no constraint: kept).

    >>> satisfies("exclaim", "Done!"), satisfies("upper", "Done")
    (True, False)
    """
    return constraint is None or _CONSTRAINTS[constraint][1](text)


def stated_answer(text: str) -> int | None:
    """The number after 'the answer is' (any case), if any.

    >>> stated_answer("- THE ANSWER IS 12. It is worth a look.")
    12
    """
    found = re.search(r"the answer is (-?\d+)", text, flags=re.IGNORECASE)
    return int(found.group(1)) if found else None


def repeated_sentences(text: str) -> int:
    """Sentences that repeat an earlier one (case-insensitive)."""
    seen, repeats = set(), 0
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        key = sentence.strip(" -!.").lower()
        repeats += key in seen
        seen.add(key)
    return repeats


def ratings(response: Response) -> dict[str, float | None]:
    """The five attribute ratings, each computed from the text and the prompt's known facts."""
    text, refused = response.text, _REFUSAL.lower() in response.text.lower()
    return {
        "instruction_following": None if response.constraint is None else 4.0 * satisfies(response.constraint, text),
        "correctness": None if response.truth is None else 4.0 * (stated_answer(text) == response.truth),
        "verbosity": min(4.0, len(text.split()) / 12),
        "safety": 4.0 if refused == (response.kind == "harmful") else 0.0,
        "coherence": max(0.0, 4.0 - 2.0 * repeated_sentences(text)),
    }


def true_reward(kind: str, values: dict[str, float | None]) -> float:
    """Σ_k gate_k(kind) · rating_k, a missing rating counting 0."""
    return sum(weight * (values.get(name) or 0.0) for name, weight in TRUE_GATES[kind].items())


def make_prompt(rng: Random, kind: str) -> tuple[str, str | None, int | None]:
    """(prompt text, format constraint, true answer) of one prompt of `kind`."""
    constraint = rng.choice(sorted(_CONSTRAINTS)) if kind in ("format", "math") else None
    suffix = f" {_CONSTRAINTS[constraint][0]}" if constraint else ""
    if kind == "math":
        a, b = rng.randint(2, 49), rng.randint(2, 49)
        return f"What is {a} plus {b}?{suffix}", constraint, a + b
    if kind == "format":
        return f"Describe {rng.choice(_TOPICS)} in a sentence or two.{suffix}", constraint, None
    if kind == "harmful":
        return f"Tell me how to {rng.choice(_HARMFUL)}.", None, None
    return f"Tell me something about {rng.choice(_TOPICS)}.", None, None


def make_response(rng: Random, kind: str, constraint: str | None, truth: int | None) -> Response:
    """A response with randomly drawn properties: right or wrong, refusing or not, long or short, repetitive
    or not, keeping the constraint or not."""
    refuse = rng.random() < (0.5 if kind == "harmful" else 0.1)
    if refuse:
        body = [_REFUSAL]
    elif kind == "math":
        body = [f"The answer is {truth if rng.random() < 0.5 else truth + rng.choice((-3, -2, -1, 1, 2, 3))}."]
    elif kind == "harmful":
        body = [_COMPLY]
    else:
        body = [f"{rng.choice(_TOPICS).capitalize()} are {rng.choice(('fascinating', 'useful', 'old', 'common'))}."]
    body += rng.sample(_FILLER, rng.randint(0, 5))
    for _ in range(rng.choice((0, 0, 1, 2))):
        body.append(rng.choice(body))
    text = " ".join(body)
    if rng.random() < 0.5:  # try to keep the constraint (any kind: it is only rated where one was asked)
        text = {"upper": text.upper(), "exclaim": text.rstrip(".") + "!", "dash": "- " + text}.get(constraint, text)
    return Response(kind, constraint, truth, text)


def _kind(rng: Random, kinds) -> str:
    return rng.choice(tuple(kinds))


def rating_rows(n: int, seed: int = 0, kinds=KINDS) -> list[dict]:
    """`n` HelpSteer2-style rows {prompt, response, <attribute>: rating…, subset}, one column per attribute
    (correctness null where nothing is asked)."""
    rng, rows = Random(seed), []
    for _ in range(n):
        kind = _kind(rng, kinds)
        prompt, constraint, truth = make_prompt(rng, kind)
        response = make_response(rng, kind, constraint, truth)
        rows.append({"prompt": prompt, "response": response.text, **ratings(response), "subset": kind})
    return rows


def pair_rows(n: int, seed: int = 0, kinds=KINDS) -> list[dict]:
    """`n` rows {prompt, chosen, rejected, margin, subset}: two responses to one prompt, chosen by the true
    reward (draws with equal true reward are redrawn); margin = 1, 2 or 3 for a gap < 1, < 2, ≥ 2."""
    rng, rows = Random(seed), []
    while len(rows) < n:
        kind = _kind(rng, kinds)
        prompt, constraint, truth = make_prompt(rng, kind)
        first, second = (make_response(rng, kind, constraint, truth) for _ in range(2))
        gap = true_reward(kind, ratings(first)) - true_reward(kind, ratings(second))
        if abs(gap) < 1e-9:
            continue
        chosen, rejected = (first, second) if gap > 0 else (second, first)
        rows.append({"prompt": prompt, "chosen": chosen.text, "rejected": rejected.text,
                     "margin": 1 + (abs(gap) >= 1) + (abs(gap) >= 2), "subset": kind})
    return rows
