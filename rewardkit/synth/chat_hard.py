"""Instruction-following pairs whose violation is subtle: both answers are about the same thing and about the
same length, and the rejected one misses the instruction by a little (one word too many or too few, the plural
for the singular or back, one bullet off, a changed final mark, JSON that almost parses or a record that was
asked not to parse). Each subset misses in both directions, so no surface feature tells the right answer.
"""

from __future__ import annotations

import json
from random import Random

from rewardkit.synth import formats
from rewardkit.synth.constraints import _AT_LEAST, _AT_MOST, _BULLETS
from rewardkit.synth.lexicon import NOUNS, TOPICS, ask, paragraph_at_least, sentences
from rewardkit.synth.pair import SynthPair, make_pair


def _words(rng: Random, topic: str, n: int) -> str:
    """The first `n` words of a paragraph about `topic`, ending with a full stop."""
    words = paragraph_at_least(rng, topic, n + 5).split()[:n]
    return " ".join(words).rstrip(".,!?") + "."


def tight_word_limit(rng: Random) -> SynthPair:
    """At most n or at least n words (half each); the rejected answer misses by one to three words. Both answers
    are cut from the same text, so the right one is the shorter as often as the longer."""
    topic, n = rng.choice(TOPICS), rng.randint(15, 35)
    seed, under, over = rng.random(), n - rng.randint(0, 2), n + rng.randint(1, 3)
    if rng.random() < 0.5:
        prompt, (right, wrong), check = ask(rng, topic, rng.choice(_AT_MOST).format(n=n)), (under, over), "max_words"
    else:
        under, over = n - rng.randint(1, 3), n + rng.randint(0, 2)
        prompt, (right, wrong), check = ask(rng, topic, rng.choice(_AT_LEAST).format(n=n)), (over, under), "min_words"
    chosen, rejected = _words(Random(seed), topic, right), _words(Random(seed), topic, wrong)
    return make_pair("tight_word_limit", prompt, chosen, rejected, {"kind": check, "n": n})


_SINGULAR_PLURAL = (
    ("Even a simple {w} can help here.", "Even simple {w} can help here."),
    ("Think of it like a {w} that guides you.", "Think of it like {w} that guide you."),
    ("I always keep a {w} nearby for this.", "I always keep {w} nearby for this."),
    ("The {w} is a good example.", "The {w} are a good example."),
)


def _plural(word: str) -> str:
    return word + "es" if word.endswith(("s", "sh", "ch", "x")) else word + "s"


_EXACT_WORD = (
    'Make sure to use the exact word "{w}" ("{v}" does not count).',
    "Include the word '{w}' in exactly that form, not '{v}'.",
    "Your reply must contain the word {w} (the form {w}, not {v}).",
    'Use "{w}" at least once; "{v}" is not the same word.',
)


def keyword_variant(rng: Random) -> SynthPair:
    """Use a word in the exact form asked, singular or plural (half each); the rejected answer is the same text
    with the other form. The prompt names both forms."""
    topic, noun = rng.choice(TOPICS), rng.choice(NOUNS)
    parts = sentences(rng, topic, rng.randint(1, 3))
    at, (one, many) = rng.randint(0, len(parts)), rng.choice(_SINGULAR_PLURAL)
    article = "an" if noun[0] in "aeiou" else "a"
    singular = one.format(w=noun).replace(f" a {noun}", f" {article} {noun}")
    plural = many.format(w=_plural(noun))
    (word, other), (right, wrong) = ((noun, _plural(noun)), (singular, plural)) if rng.random() < 0.5 else \
        ((_plural(noun), noun), (plural, singular))
    prompt = ask(rng, topic, rng.choice(_EXACT_WORD).format(w=word, v=other))
    chosen = " ".join(parts[:at] + [right] + parts[at:])
    rejected = " ".join(parts[:at] + [wrong] + parts[at:])
    return make_pair("keyword_variant", prompt, chosen, rejected, {"kind": "include_keyword", "keyword": word})


def _as_list(items: list[str], marker: str) -> str:
    return "\n".join(f"{i + 1}. {s}" if marker == "1." else f"{marker} {s}" for i, s in enumerate(items))


def bullet_off_by_one(rng: Random) -> SynthPair:
    """Exactly n list items; the rejected list is the same list with one item more or one fewer. The two counts
    are drawn as a pair and either may be the asked one."""
    topic, low = rng.choice(TOPICS), rng.randint(3, 6)
    n, m = (low, low + 1) if rng.random() < 0.5 else (low + 1, low)
    prompt = rng.choice(_BULLETS).format(n=n, t=topic)
    marker = rng.choice(("-", "*", "1."))
    items = sentences(rng, topic, max(n, m))
    chosen, rejected = _as_list(items[:n], marker), _as_list(items[:m], marker)
    return make_pair("bullet_off_by_one", prompt, chosen, rejected, {"kind": "bullet_count", "n": n})


_END_EXACTLY = (
    'End your reply with exactly "{p}"',
    "Finish with the exact sentence '{p}', punctuation included",
    'Your last words must be "{p}", with that final mark',
    'Close your answer with "{p}" exactly as written',
)


def closing_variant(rng: Random) -> SynthPair:
    """End with an exact sentence; the rejected answer changes only its final mark ("!" for "." or back). The
    asked sentence ends with either mark as often, so neither mark is the right one more often."""
    topic, closer = rng.choice(TOPICS), rng.choice(formats.CLOSERS)
    flipped = closer[:-1] + {"!": ".", ".": "!"}[closer[-1]]
    phrase, changed = (closer, flipped) if rng.random() < 0.5 else (flipped, closer)
    prompt = ask(rng, topic, rng.choice(_END_EXACTLY).format(p=phrase) + ".")
    body = " ".join(sentences(rng, topic, rng.randint(1, 3)))
    return make_pair("closing_variant", prompt, f"{body} {phrase}", f"{body} {changed}",
                     {"kind": "ends_with", "suffix": phrase})


def _broken_json(rng: Random, record: dict) -> str:
    """Almost JSON: a trailing comma, Python's quotes and booleans, or a missing closing brace."""
    text = json.dumps(record)
    mode = rng.randrange(3)
    if mode == 0:
        return text[:-1] + ", }"
    if mode == 1:
        return repr(record)
    return text[:-1]


_BREAK_JSON = (
    "I am testing my JSON parser's error messages. Give me a record with the keys {k} that is NOT valid JSON "
    "(for example a trailing comma or single quotes). Reply with the record only.",
    "For a unit test I need a malformed JSON object with {k}: it must fail to parse. Only the record, please.",
    "Write an almost-JSON record with the keys {k} that a strict JSON parser rejects. No other text.",
)


def json_near_miss(rng: Random) -> SynthPair:
    """Half the prompts ask for a bare JSON object (the rejected one has the right keys and values but does not
    parse); half ask for a record that must NOT parse, to test a parser (the rejected one is valid JSON).
    "Parses as JSON" is right half the time."""
    keys = rng.sample(list(formats._FIELDS), rng.randint(2, 4))
    record = {k: formats._FIELDS[k](rng) for k in keys}
    valid, broken = json.dumps(record), _broken_json(rng, record)
    if rng.random() < 0.5:
        prompt = rng.choice(formats._JSON).format(q=formats._key_list(keys, True), k=formats._key_list(keys, False))
        return make_pair("json_near_miss", prompt, valid, broken, {"kind": "valid_json", "keys": keys})
    prompt = rng.choice(_BREAK_JSON).format(k=formats._key_list(keys, False))
    return make_pair("json_near_miss", prompt, broken, valid, {"kind": "invalid_json"})
