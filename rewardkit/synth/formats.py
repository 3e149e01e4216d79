"""Instruction-following families about form: opening phrase, closing phrase, JSON with required keys.

The prompt names both the right form and the one the rejected answer uses, and both answers draw from the same
pools, so neither the words of the prompt nor those of the answers tell which answer is right."""

from __future__ import annotations

import json
from random import Random
from typing import Any, Callable

from rewardkit.synth.lexicon import NAMES, TOPICS, ask, sentences
from rewardkit.synth.pair import SynthPair, make_pair

# No phrase is a prefix (or suffix) of another, so "starts with another phrase" always fails the check.
OPENERS = (
    "Great question", "Here is my answer", "In short", "To begin", "Good news", "Happy to help",
    "Let me explain", "Sure thing", "First of all", "Quick answer", "Absolutely", "Well now",
)
CLOSERS = (
    "Hope this helps!", "Good luck!", "That is all.", "Let me know if you have questions.",
    "Happy to help further.", "Thanks for asking.", "Enjoy!", "Have fun trying it.", "Take care.",
    "Wishing you success.", "Talk soon.",
)
# Each instruction names the phrase to use and another one not to, and the rejected answer uses the other one,
# so echoing the prompt's words favours neither answer.
_START = (
    'Begin your reply with "{p}", not "{o}".',
    "Start your answer with the exact words '{p}' rather than '{o}'.",
    'Your first words must be "{p}" (I do not want "{o}").',
    'Open with the phrase "{p}". Do not open with "{o}".',
)
_END = (
    'End your reply with "{p}", not "{o}"',
    "Finish with the exact sentence '{p}' rather than '{o}'",
    'Your last words must be "{p}" (I do not want "{o}")',
    'Close your answer with "{p}" instead of "{o}"',
)


def _body(rng: Random, topic: str) -> str:
    return " ".join(sentences(rng, topic, rng.randint(1, 3)))


def starts_with(rng: Random) -> SynthPair:
    """Open with one of two phrases the prompt names; the rejected answer opens with the other one."""
    topic, (phrase, other) = rng.choice(TOPICS), rng.sample(OPENERS, 2)
    prompt = ask(rng, topic, rng.choice(_START).format(p=phrase, o=other))
    sep, body = rng.choice((": ", ". ", " - ")), _body(rng, topic)
    chosen, rejected = f"{phrase}{sep}{body}", f"{other}{sep}{body}"
    return make_pair("starts_with", prompt, chosen, rejected, {"kind": "starts_with", "prefix": phrase})


def ends_with(rng: Random) -> SynthPair:
    """Close with one of two sentences the prompt names; the rejected answer closes with the other one."""
    topic, (phrase, other) = rng.choice(TOPICS), rng.sample(CLOSERS, 2)
    prompt = ask(rng, topic, rng.choice(_END).format(p=phrase, o=other) + ".")
    body = _body(rng, topic)
    chosen, rejected = f"{body} {phrase}", f"{body} {other}"
    return make_pair("ends_with", prompt, chosen, rejected, {"kind": "ends_with", "suffix": phrase})


_FIELDS: dict[str, Callable[[Random], Any]] = {
    "name": lambda rng: rng.choice(NAMES),
    "age": lambda rng: rng.randint(18, 80),
    "city": lambda rng: rng.choice(("Lisbon", "Oslo", "Kyoto", "Lima", "Accra", "Perth", "Quebec", "Tartu")),
    "color": lambda rng: rng.choice(("red", "teal", "amber", "olive", "navy", "violet")),
    "score": lambda rng: rng.randint(0, 100),
    "hobby": lambda rng: rng.choice(TOPICS),
    "year": lambda rng: rng.randint(1990, 2024),
    "pet": lambda rng: rng.choice(("cat", "dog", "parrot", "hamster", "tortoise")),
    "member": lambda rng: rng.random() < 0.5,
    "team": lambda rng: rng.choice(("north", "south", "east", "west")),
}
_JSON = (
    'Describe a made-up person as a JSON object with the keys {q}. Reply with JSON only.',
    "Return only JSON with these keys: {k}.",
    "Give me a JSON object containing {k} for an imaginary customer. No other text.",
    "Output a JSON record (keys: {k}) and nothing else.",
)


_LEAVE_OUT = ('Leave out "{x}".', "Do not include a {x} key.", "No {x} field, please.", "Skip the key {x}.")


def _key_list(keys: list[str], quoted: bool) -> str:
    shown = [f'"{k}"' if quoted else k for k in keys]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def json_keys(rng: Random) -> SynthPair:
    """A bare JSON object with given keys and without one named key; the rejected object swaps one asked-for key
    for the unwanted one. Both parse, both have as many keys, and both use only keys the prompt names."""
    keys = rng.sample(list(_FIELDS), rng.randint(3, 5))
    asked, unwanted = keys[:-1], keys[-1]
    prompt = rng.choice(_JSON).format(q=_key_list(asked, True), k=_key_list(asked, False))
    prompt += " " + rng.choice(_LEAVE_OUT).format(x=unwanted)
    record = {k: _FIELDS[k](rng) for k in keys}
    dropped = rng.choice(asked)
    chosen = json.dumps({k: v for k, v in record.items() if k != unwanted})
    rejected = json.dumps({k: v for k, v in record.items() if k != dropped})
    return make_pair("json_keys", prompt, chosen, rejected, {"kind": "valid_json", "keys": asked})
