"""Verifiable checks: plain-data rules a response either passes or fails.

A check is a JSON-ready mapping with a `kind` and that kind's fields, e.g. `{"kind": "max_words", "n": 40}`.
`verify(check, response)` is a pure function, so a synthetic pair's label can be re-proved from the row alone.

    >>> verify({"kind": "max_words", "n": 3}, "Short and sweet.")
    True
    >>> verify({"kind": "numeric_answer", "answer": 42}, "17 + 25 = 42. The answer is 41.")
    False
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Mapping

from rewardkit.errors import DataError

Check = Mapping[str, Any]

_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+\S")


def word_count(text: str) -> int:
    """Whitespace-separated tokens: `word_count("a b  c") == 3`."""
    return len(text.split())


def _contains_word(text: str, word: str) -> bool:
    """Case-insensitive whole-word match: 'cat' is in 'A cat.' but not in 'concatenate'."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, flags=re.IGNORECASE) is not None


def max_words(check: Check, response: str) -> bool:
    """At most `n` words."""
    return word_count(response) <= int(check["n"])


def min_words(check: Check, response: str) -> bool:
    """At least `n` words."""
    return word_count(response) >= int(check["n"])


def word_range(check: Check, response: str) -> bool:
    """At least `min` and at most `max` words."""
    return int(check["min"]) <= word_count(response) <= int(check["max"])


def include_keyword(check: Check, response: str) -> bool:
    """`keyword` appears as a whole word (any case)."""
    return _contains_word(response, str(check["keyword"]))


def exclude_keyword(check: Check, response: str) -> bool:
    """`keyword` does not appear as a whole word (any case)."""
    return not _contains_word(response, str(check["keyword"]))


def bullet_count(response: str) -> int:
    """Lines that start a list item: '- x', '* x', '• x', '1. x' or '1) x'."""
    return sum(1 for line in response.splitlines() if _BULLET.match(line))


def exact_bullets(check: Check, response: str) -> bool:
    """Exactly `n` list items."""
    return bullet_count(response) == int(check["n"])


def all_uppercase(check: Check, response: str) -> bool:
    """Has letters and none of them is lower case."""
    return any(c.isalpha() for c in response) and not any(c.islower() for c in response)


def all_lowercase(check: Check, response: str) -> bool:
    """Has letters and none of them is upper case."""
    return any(c.isalpha() for c in response) and not any(c.isupper() for c in response)


def starts_with(check: Check, response: str) -> bool:
    """Begins with `prefix` exactly, ignoring leading whitespace."""
    return response.lstrip().startswith(str(check["prefix"]))


def ends_with(check: Check, response: str) -> bool:
    """Ends with `suffix` exactly, ignoring trailing whitespace."""
    return response.rstrip().endswith(str(check["suffix"]))


def valid_json(check: Check, response: str) -> bool:
    """The whole response is one JSON object holding every key in `keys`."""
    try:
        value = json.loads(response)
    except ValueError:
        return False
    return isinstance(value, dict) and all(key in value for key in check.get("keys", ()))


def invalid_json(check: Check, response: str) -> bool:
    """The response does not parse as JSON (what a user asks for when testing a parser's error path)."""
    try:
        json.loads(response)
    except ValueError:
        return True
    return False


def last_number(text: str) -> float | None:
    """The last number written in `text`: `last_number("3 + 4 = 7.") == 7.0`; None when there is none."""
    found = _NUMBER.findall(text)
    return float(found[-1].replace(",", "")) if found else None


def numeric_answer(check: Check, response: str) -> bool:
    """The last number in the response equals `answer` (to 1e-6)."""
    value = last_number(response)
    return value is not None and abs(value - float(check["answer"])) < 1e-6


def fact_answer(check: Check, response: str) -> bool:
    """The response states `answer` as a whole word or phrase (any case)."""
    return _contains_word(response, str(check["answer"]))


_REFUSAL_MARKERS = ("i'm sorry", "i am sorry", "sorry, i", "i can't help", "i cannot", "not able to assist",
                    "i must decline", "won't be able to help", "i'm afraid i can't")


def _sentence_texts(text: str) -> list[str]:
    return [s.strip().lower() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def not_refusal(check: Check, response: str) -> bool:
    """True when the response contains none of the usual refusal phrases."""
    lowered = response.lower()
    return not any(marker in lowered for marker in _REFUSAL_MARKERS)


def no_repeated_sentences(check: Check, response: str) -> bool:
    """True when no sentence appears more than `max_repeats` times (default 1)."""
    parts = _sentence_texts(response)
    return all(parts.count(p) <= check.get("max_repeats", 1) for p in set(parts))


def sentence_repeats(check: Check, response: str) -> bool:
    """`sentence` appears exactly `n` times as a whole sentence (any case)."""
    return _sentence_texts(response).count(str(check["sentence"]).strip().lower()) == int(check["n"])


CHECKS: dict[str, Callable[[Check, str], bool]] = {
    "max_words": max_words,
    "min_words": min_words,
    "word_range": word_range,
    "include_keyword": include_keyword,
    "exclude_keyword": exclude_keyword,
    "bullet_count": exact_bullets,
    "all_uppercase": all_uppercase,
    "all_lowercase": all_lowercase,
    "starts_with": starts_with,
    "ends_with": ends_with,
    "valid_json": valid_json,
    "invalid_json": invalid_json,
    "numeric_answer": numeric_answer,
    "fact_answer": fact_answer,
    "not_refusal": not_refusal,
    "no_repeated_sentences": no_repeated_sentences,
    "sentence_repeats": sentence_repeats,
    "refusal": lambda check, response: not not_refusal(check, response),
    "python_tests": lambda check, response: _code().passes_tests(check, response),
}
"""Every check kind by name. Adding a kind is adding a function and one entry here."""


def _code():
    from rewardkit.synth import code  # runs the tests in a subprocess; imported only when needed

    return code


def verify(check: Check, response: str) -> bool:
    """Whether `response` satisfies `check`. Unknown kinds and missing fields raise DataError."""
    kind = check.get("kind")
    if kind not in CHECKS:
        raise DataError(f"unknown check kind {kind!r}; known kinds: {', '.join(sorted(CHECKS))}", field="check.kind")
    try:
        return CHECKS[kind](check, response)
    except KeyError as missing:
        raise DataError(f"check of kind {kind!r} needs field {missing}", field="check") from None
