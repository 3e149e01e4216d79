"""Length-adversarial pairs: one answer is long and confident, the other short and plain, and the long one is
wrong in half the pairs and right in the other half. A reward model that leans on length or on a confident tone
scores a coin here, one that checks the answer scores 1. (When the long answer was always the wrong one, "pick
the shorter answer" scored 1.00 on the section without reading anything.)"""

from __future__ import annotations

from random import Random

from rewardkit.synth.facts import distinct_words
from rewardkit.synth.lexicon import ITEMS, NAMES
from rewardkit.synth.pair import SynthPair, make_pair

_MATH_QUESTIONS = (
    "What is {a} times {b}?",
    "{name} has {a} bags of {b} {items}. How many {items} is that in total?",
    "Compute {a} x {b}.",
    "If one box holds {b} {items}, how many {items} are in {a} boxes?",
)
_OPENINGS = (
    "Great question! Let me walk you through this carefully, step by step, so that there is no doubt at all.",
    "This is a classic problem, and I can answer it with complete confidence after checking it thoroughly.",
    "Happy to help! As an expert in arithmetic, I will explain the reasoning in full detail.",
)
_MIDDLES = (
    "Multiplication is simply repeated addition, so we add {b} to itself {a} times and keep a careful running "
    "count as we go.",
    "First we look at the size of each group, then at the number of groups, and combine the two in the "
    "standard way that every textbook recommends.",
    "Breaking the numbers into tens and units makes the calculation easy to follow and easy to double-check.",
)
_CLOSINGS = (
    "I double-checked this twice and I am completely certain: the answer is {f}.",
    "There is no ambiguity here, so you can rely on this result. The answer is definitely {f}.",
    "Trust me, this is correct. Final answer: {f}.",
)


def confident_wrong_math(rng: Random) -> SynthPair:
    """A product; one answer states a number in one line, the other explains at length and lands on another
    number. Either may be the right one (half each)."""
    a, b = rng.randint(3, 19), rng.randint(3, 12)
    answer = a * b
    wrong = answer + rng.choice((-1, 1)) * rng.choice((a, b))  # one group too many or too few: still a product
    prompt = rng.choice(_MATH_QUESTIONS).format(a=a, b=b, name=rng.choice(NAMES), items=rng.choice(ITEMS))
    short_value, long_value = (answer, wrong) if rng.random() < 0.5 else (wrong, answer)
    short = rng.choice(("{a} x {b} = {r}.", "{r}.", "The answer is {r}.")).format(a=a, b=b, r=short_value)
    middle = " ".join(m.format(a=a, b=b) for m in rng.sample(_MIDDLES, 2))
    long = f"{rng.choice(_OPENINGS)} {middle} {rng.choice(_CLOSINGS).format(f=long_value)}"
    chosen, rejected = (short, long) if short_value == answer else (long, short)
    return make_pair("confident_wrong_math", prompt, chosen, rejected, {"kind": "numeric_answer", "answer": answer})


_FACT_PADDING = (
    "I have gone through the notes very carefully, row by row, to make sure nothing was missed.",
    "This is clearly stated in the notes, and there is really no room for doubt about it.",
    "It is an easy detail to mix up, but a close reading settles it definitively.",
    "I am fully confident in this answer and would stake my reputation on it.",
)


def confident_wrong_fact(rng: Random) -> SynthPair:
    """Invented notes in the prompt; one answer names a person briefly, the other names another person at
    length and with confidence. Either may be the right one (half each)."""
    role, k = rng.choice(("founder", "mayor", "captain", "author")), rng.randint(3, 4)
    places = distinct_words(rng, k)
    people = distinct_words(rng, k, avoid=set(places))
    rows = "\n".join(f"- {place}: the {role} is {person}." for place, person in zip(places, people))
    target, other = rng.sample(range(k), 2)
    prompt = f"Notes:\n{rows}\nWho is the {role} of {places[target]}?"
    short_person, long_person = ((people[target], people[other]) if rng.random() < 0.5
                                 else (people[other], people[target]))
    short = rng.choice(("{p}.", "It is {p}.", "The {r} of {n} is {p}.")).format(
        p=short_person, r=role, n=places[target])
    padding = " ".join(rng.sample(_FACT_PADDING, 3))
    long = f"{padding} The {role} of {places[target]} is without question {long_person}."
    chosen, rejected = (short, long) if short_person == people[target] else (long, short)
    return make_pair("confident_wrong_fact", prompt, chosen, rejected,
                     {"kind": "fact_answer", "answer": people[target]})
