"""Instruction-following families about content: word limits, keywords, bullet counts, letter case.

Each family is `(rng) -> SynthPair`; the chosen response satisfies the prompt's constraint, the rejected
one breaks it in a way that is visible in the text (too long or too short, the wrong word, two bullets off...).
Each family breaks its rule in both directions and draws both answers from the same sentences, so no surface
feature seen without the prompt (length, the words used, the case) tells the right answer.
"""

from __future__ import annotations

from random import Random

from rewardkit.synth.lexicon import NOUNS, TOPICS, ask, paragraph_at_least, paragraph_at_most, sentences
from rewardkit.synth.pair import SynthPair, make_pair

_AT_MOST = (
    "Answer in at most {n} words.",
    "Use no more than {n} words.",
    "Keep your answer to {n} words or fewer.",
    "Limit your reply to {n} words.",
    "Be brief: {n} words maximum.",
)
_AT_LEAST = (
    "Write at least {n} words.",
    "Use {n} words or more.",
    "Your answer must be at least {n} words long.",
    "Do not write fewer than {n} words.",
    "Give a detailed answer of {n} words minimum.",
)
_BETWEEN = (
    "Write between {lo} and {hi} words.",
    "Use at least {lo} words but no more than {hi}.",
    "Your answer must be {lo} to {hi} words long.",
    "Keep it to {lo}-{hi} words.",
    "Aim for no fewer than {lo} and no more than {hi} words.",
)
# Both words are named in the prompt, so echoing the prompt's words favours neither answer.
_INCLUDE = (
    'Make sure to mention the word "{w}" (not "{o}").',
    "Include the word '{w}' somewhere in your answer, rather than '{o}'.",
    "Your reply must contain the word {w}; {o} will not do.",
    'Use the word "{w}" at least once. I do not need "{o}".',
)
_EXCLUDE = (
    'Do not use the word "{w}"; "{o}" is fine.',
    "Avoid the word '{w}' entirely. Say '{o}' if you need a noun.",
    "Never mention the word {w}, though {o} is allowed.",
    'Answer without using the word "{w}" (you may use "{o}").',
)
_NOUN_SENTENCES = (
    "Even a simple {w} can help here.",
    "Think of it like a {w} that guides you.",
    "I always keep a {w} nearby for this.",
    "The {w} is a good example.",
    "My neighbour once compared it to a {w}.",
)
_BULLETS = (
    "List exactly {n} tips for {t}.",
    "Give me {n} bullet points about {t}, no more and no fewer.",
    "Write a bulleted list of exactly {n} ideas about {t}.",
    "I need precisely {n} short points on {t}, as a list.",
)
_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}


_UPPER = ("Reply in capital letters only.", "Write your whole answer in UPPER CASE.",
          "Use only uppercase letters, no lowercase ones.")
_LOWER = ("Reply using only lowercase letters.", "write your whole answer in lower case.",
          "Use no capital letters at all, only lowercase ones.")


def word_limit(rng: Random) -> SynthPair:
    """At most n words or at least n words (half each); the rejected answer misses the limit by 10 or more.
    The right answer is the shorter one as often as the longer one."""
    topic, gap = rng.choice(TOPICS), rng.randint(10, 20)
    if rng.random() < 0.5:
        n = rng.randint(12, 40)
        prompt = ask(rng, topic, rng.choice(_AT_MOST).format(n=n))
        chosen, rejected = paragraph_at_most(rng, topic, n), paragraph_at_least(rng, topic, n + gap)
        check = {"kind": "max_words", "n": n}
    else:
        n = rng.randint(24, 52)
        prompt = ask(rng, topic, rng.choice(_AT_LEAST).format(n=n))
        chosen, rejected = paragraph_at_least(rng, topic, n), paragraph_at_most(rng, topic, max(12, n - gap))
        check = {"kind": "min_words", "n": n}
    return make_pair("word_limit", prompt, chosen, rejected, check)


def word_minimum(rng: Random) -> SynthPair:
    """At least lo and at most hi words; the rejected answer is too short or too long (half each)."""
    topic, lo = rng.choice(TOPICS), rng.randint(40, 60)
    hi, gap = lo + rng.randint(15, 25), rng.randint(4, 12)
    prompt = ask(rng, topic, rng.choice(_BETWEEN).format(lo=lo, hi=hi))
    # Every answer is built the same way (sentences until a word count is reached, which overshoots by at most
    # 11 words), so the kind of sentence does not tell a short answer from a right one.
    chosen = paragraph_at_least(rng, topic, lo)
    target = lo - 11 - gap if rng.random() < 0.5 else hi + gap
    rejected = paragraph_at_least(rng, topic, target)
    return make_pair("word_minimum", prompt, chosen, rejected, {"kind": "word_range", "min": lo, "max": hi})


def _with_noun(rng: Random, topic: str, noun: str) -> str:
    """1-4 sentences about `topic`, one of which mentions `noun`."""
    parts = sentences(rng, topic, rng.randint(1, 3))
    parts.insert(rng.randint(0, len(parts)), rng.choice(_NOUN_SENTENCES).format(w=noun))
    return " ".join(parts)


def include_keyword(rng: Random) -> SynthPair:
    """Mention one of two nouns the prompt names; the rejected answer mentions the other one instead."""
    topic, (word, other) = rng.choice(TOPICS), rng.sample(NOUNS, 2)
    prompt = ask(rng, topic, rng.choice(_INCLUDE).format(w=word, o=other))
    chosen, rejected = _with_noun(rng, topic, word), _with_noun(rng, topic, other)
    return make_pair("include_keyword", prompt, chosen, rejected, {"kind": "include_keyword", "keyword": word})


def exclude_keyword(rng: Random) -> SynthPair:
    """Avoid one of two nouns the prompt names; the rejected answer uses it, the chosen one the other."""
    topic, (word, other) = rng.choice(TOPICS), rng.sample(NOUNS, 2)
    prompt = ask(rng, topic, rng.choice(_EXCLUDE).format(w=word, o=other))
    chosen, rejected = _with_noun(rng, topic, other), _with_noun(rng, topic, word)
    return make_pair("exclude_keyword", prompt, chosen, rejected, {"kind": "exclude_keyword", "keyword": word})


def _bullet_list(rng: Random, topic: str, k: int, marker: str) -> str:
    """`k` list items about `topic`, sometimes after a short lead-in line."""
    items = sentences(rng, topic, k)
    lines = [f"{i + 1}. {s}" if marker == "1." else f"{marker} {s}" for i, s in enumerate(items)]
    if rng.random() < 0.3:
        lines.insert(0, rng.choice(("Here you go:", "Sure, here is the list:", "Some ideas:")))
    return "\n".join(lines)


def bullet_count(rng: Random) -> SynthPair:
    """Exactly n list items; the rejected list has at least two too many or too few. The two counts are drawn
    as a pair and either may be the asked one, so "more items" wins as often as "fewer"."""
    topic = rng.choice(TOPICS)
    n, m = rng.choice([(a, b) for a in range(2, 8) for b in range(2, 8) if abs(a - b) >= 2])
    count = str(n) if rng.random() < 0.7 else _NUMBER_WORDS[n]
    prompt = rng.choice(_BULLETS).format(n=count, t=topic)
    marker = rng.choice(("-", "*", "1."))
    chosen, rejected = _bullet_list(rng, topic, n, marker), _bullet_list(rng, topic, m, marker)
    return make_pair("bullet_count", prompt, chosen, rejected, {"kind": "bullet_count", "n": n})


def letter_case(rng: Random) -> SynthPair:
    """All upper (or all lower) case; the rejected answer is written in the other case, so neither case is
    the right one more often.

    Invisible to uncased tokenisers (MiniLM lower-cases its input), so not a default family.
    """
    topic, upper = rng.choice(TOPICS), rng.random() < 0.5
    rule = rng.choice(_UPPER if upper else _LOWER)
    prompt = ask(rng, topic, rule)
    text, other = (" ".join(sentences(rng, topic, rng.randint(1, 3))) for _ in range(2))
    chosen, rejected = (text.upper(), other.lower()) if upper else (text.lower(), other.upper())
    kind = "all_uppercase" if upper else "all_lowercase"
    return make_pair("letter_case", prompt, chosen, rejected, {"kind": kind})

