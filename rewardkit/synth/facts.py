"""Factual families over a fictional world, so no outside data (or outside knowledge) is involved.

`fact_recall` asks about the fixed table `WORLD` with no context: a reward model learns the table from the
training pairs. `fact_lookup` gives a few invented rows in the prompt and asks about one: the rejected
answer reads the value off the wrong row.
"""

from __future__ import annotations

from random import Random
from typing import Collection, NamedTuple

from rewardkit.synth.pair import SynthPair, make_pair


class Country(NamedTuple):
    name: str
    capital: str
    currency: str
    population: str


WORLD = (
    Country("Veloria", "Marisk", "crown", "4.2 million"),
    Country("Dunmarsh", "Thornwick", "mark", "11 million"),
    Country("Ostrevia", "Eldhaven", "florin", "2.7 million"),
    Country("Calabrin", "Caspori", "shell", "38 million"),
    Country("Norvale", "Lunmark", "lira", "6.5 million"),
    Country("Pellamor", "Ardel", "talent", "19 million"),
    Country("Quessary", "Vessin", "drachma", "900 thousand"),
    Country("Tavoria", "Kolbrae", "ducat", "53 million"),
)
"""The fictional table behind `fact_recall`."""

_QUESTIONS = {
    "capital": ("What is the capital of {c}?", "Which city is the capital of {c}?", "Name the capital city of {c}."),
    "currency": ("What currency is used in {c}?", "What is the currency of {c}?",
                 "What money do people pay with in {c}?"),
    "population": ("What is the population of {c}?", "How many people live in {c}?", "Roughly how populous is {c}?"),
}
_ANSWERS = {
    "capital": ("The capital of {c} is {v}.", "{v}.", "It is {v}.", "{c}'s capital city is {v}."),
    "currency": ("{c} uses the {v}.", "The currency of {c} is the {v}.", "People in {c} pay with the {v}."),
    "population": ("{c} has about {v} people.", "About {v}.", "Roughly {v} people live in {c}."),
}


def fact_recall(rng: Random) -> SynthPair:
    """A question about `WORLD`; the rejected answer gives another country's value."""
    country, other = rng.sample(WORLD, 2)
    field = rng.choice(tuple(_QUESTIONS))
    prompt = rng.choice(_QUESTIONS[field]).format(c=country.name)
    answer = rng.choice(_ANSWERS[field])
    value, wrong = getattr(country, field), getattr(other, field)
    chosen, rejected = answer.format(c=country.name, v=value), answer.format(c=country.name, v=wrong)
    return make_pair("fact_recall", prompt, chosen, rejected, {"kind": "fact_answer", "answer": value})


_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "st", "gl")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")
_ROLES = ("inventor", "founder", "mayor", "captain", "author")
_THINGS = ("town", "river", "ship", "company", "festival")


def invented_word(rng: Random) -> str:
    """A pronounceable made-up name such as 'Brelo' or 'Tavinu'."""
    syllables = [rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 3))]
    return "".join(syllables).capitalize()


def distinct_words(rng: Random, k: int, avoid: Collection[str] = ()) -> list[str]:
    """`k` different invented words, none of them in `avoid`."""
    found: list[str] = []
    while len(found) < k:
        word = invented_word(rng)
        if word not in avoid and word not in found:
            found.append(word)
    return found


_LOOKUP_QUESTIONS = (
    "Who is the {r} of the {t} {n}?",
    "Name the {r} of the {t} {n}.",
    "According to the notes, who is the {r} of {n}?",
)
_LOOKUP_ANSWERS = ("The {r} of {n} is {p}.", "{p}.", "It is {p}, according to the notes.")


def fact_lookup(rng: Random) -> SynthPair:
    """Rows of invented facts in the prompt; the rejected answer reads the wrong row."""
    thing, role, k = rng.choice(_THINGS), rng.choice(_ROLES), rng.randint(3, 4)
    names = distinct_words(rng, k)
    people = distinct_words(rng, k, avoid=set(names))
    rows = "\n".join(f"- The {thing} {n}: its {role} is {p}." for n, p in zip(names, people))
    target, distractor = rng.sample(range(k), 2)
    question = rng.choice(_LOOKUP_QUESTIONS).format(r=role, t=thing, n=names[target])
    prompt = f"Notes:\n{rows}\n{question}"
    answer = rng.choice(_LOOKUP_ANSWERS)
    chosen = answer.format(r=role, n=names[target], p=people[target])
    rejected = answer.format(r=role, n=names[target], p=people[distractor])
    return make_pair("fact_lookup", prompt, chosen, rejected, {"kind": "fact_answer", "answer": people[target]})
