"""The functions `code.python_function` asks for, in groups of sibling specifications.

A group is one function name and signature with two or three specifications (sum of the even numbers, of the
odd ones, of the positive ones). Each specification is a task whose wrong answers are its siblings' correct
sources, so every source is the right answer to one prompt and the wrong answer to another: the code alone
(without the prompt's specification and tests) says nothing about which side it is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import Callable


@dataclass(frozen=True)
class CodeTask:
    """One function to write: the right source, wrong variants, and how to draw test inputs."""

    name: str
    ask: str
    correct: str
    bugs: tuple[str, ...]
    """Sources that look right but are not: here, the siblings' correct sources."""
    inputs: Callable[[Random], tuple]
    """Draws one argument tuple."""
    edges: tuple[tuple, ...]
    """Argument tuples on which every pair of sibling sources disagrees at least once."""


def _ints(rng: Random, k: int, low: int = -9, high: int = 20) -> list[int]:
    return [rng.randint(low, high) for _ in range(k)]


def _text(rng: Random) -> str:
    words = ("Level", "apple", "Radar", "tea", "Noon", "kayak", "Sky", "open", "Idea", "rhythm", "the", "The")
    return " ".join(rng.sample(words, rng.randint(1, 4)))


def _loop(name: str, arg: str, init: str, test: str, update: str) -> str:
    """`def name(arg)` keeping one value over a list: `best = init`, replaced by x when `test` holds."""
    return (f"def {name}({arg}):\n    best = {init}\n    for x in {arg}[1:]:\n        if {test}:\n"
            f"            best = {update}\n    return best")


_GROUPS: tuple[tuple[str, Callable[[Random], tuple], tuple[tuple, ...], tuple[tuple[str, str], ...]], ...] = (
    ("sum_selected", lambda rng: (_ints(rng, rng.randint(3, 7)),), (([1, 2, 3, 4],), ([-3, 8, 5],)), (
        ("returns the sum of the even numbers in a list of integers",
         "def sum_selected(nums):\n    return sum(x for x in nums if x % 2 == 0)"),
        ("returns the sum of the odd numbers in a list of integers",
         "def sum_selected(nums):\n    return sum(x for x in nums if x % 2 != 0)"),
        ("returns the sum of the positive numbers in a list of integers",
         "def sum_selected(nums):\n    return sum(x for x in nums if x > 0)"),
    )),
    ("count_letters", lambda rng: (_text(rng),), (("Apple Pie",), ("rhythm",), ("Idea",)), (
        ("counts the vowels (a, e, i, o, u, in either case) in a string",
         "def count_letters(text):\n    return sum(1 for c in text.lower() if c in 'aeiou')"),
        ("counts the lowercase vowels (a, e, i, o, u) in a string, ignoring capital letters",
         "def count_letters(text):\n    return sum(1 for c in text if c in 'aeiou')"),
        ("counts the letters that are not vowels (a, e, i, o, u, in either case) in a string",
         "def count_letters(text):\n    return sum(1 for c in text.lower() if c.isalpha() and c not in 'aeiou')"),
    )),
    ("pick_one", lambda rng: (_ints(rng, rng.randint(2, 6)),), (([-5, -2, 3],), ([-1, 4, 2],)), (
        ("returns the largest number in a non-empty list without using max()",
         _loop("pick_one", "nums", "nums[0]", "x > best", "x")),
        ("returns the smallest number in a non-empty list without using min()",
         _loop("pick_one", "nums", "nums[0]", "x < best", "x")),
        ("returns the number farthest from zero in a non-empty list (the first one on a tie)",
         _loop("pick_one", "nums", "nums[0]", "abs(x) > abs(best)", "x")),
    )),
    ("accumulate", lambda rng: (rng.randint(1, 9),), ((4,), (1,)), (
        ("returns n! (the product 1 x 2 x ... x n) for a positive integer n",
         "def accumulate(n):\n    result = 1\n    for k in range(2, n + 1):\n        result *= k\n    return result"),
        ("returns the sum 1 + 2 + ... + n for a positive integer n",
         "def accumulate(n):\n    result = 0\n    for k in range(1, n + 1):\n        result += k\n    return result"),
        ("returns 2 to the power n for a positive integer n, by repeated doubling",
         "def accumulate(n):\n    result = 1\n    for k in range(n):\n        result *= 2\n    return result"),
    )),
    ("is_mirror", lambda rng: (rng.choice(("Level", "apple", "Radar", "noon", "kayak", "tea", "Abca", "abca")),),
     (("Level",), ("abca",)), (
        ("tells whether a word reads the same backwards, ignoring case",
         "def is_mirror(word):\n    w = word.lower()\n    return w == w[::-1]"),
        ("tells whether a word reads the same backwards, with capital letters counting as different",
         "def is_mirror(word):\n    return word == word[::-1]"),
        ("tells whether a word starts and ends with the same letter, ignoring case",
         "def is_mirror(word):\n    w = word.lower()\n    return w[0] == w[-1]"),
    )),
    ("running", lambda rng: (_ints(rng, rng.randint(2, 6), 1, 9),), (([1, 3, 2],),), (
        ("returns the list of running totals of a list of numbers",
         "def running(nums):\n    out, acc = [], 0\n    for x in nums:\n        acc = acc + x\n"
         "        out.append(acc)\n    return out"),
        ("returns the list of running maxima of a non-empty list of numbers",
         "def running(nums):\n    out, acc = [], nums[0]\n    for x in nums:\n        acc = max(acc, x)\n"
         "        out.append(acc)\n    return out"),
        ("returns the list of running minima of a non-empty list of numbers",
         "def running(nums):\n    out, acc = [], nums[0]\n    for x in nums:\n        acc = min(acc, x)\n"
         "        out.append(acc)\n    return out"),
    )),
    ("fit", lambda rng: (rng.randint(-20, 20), rng.randint(-10, -1), rng.randint(1, 10)), ((15, 0, 10), (5, 0, 10)), (
        ("limits a number x to the range [low, high]",
         "def fit(x, low, high):\n    return max(low, min(x, high))"),
        ("wraps a number x around into the range [low, high], like a clock",
         "def fit(x, low, high):\n    return low + (x - low) % (high - low + 1)"),
        ("returns how far a number x lies outside the range [low, high] (0 when inside)",
         "def fit(x, low, high):\n    return max(low - x, 0, x - high)"),
    )),
    ("count_words", lambda rng: ("  ".join(_text(rng).split()),), (("The cat the",), ("a  b",)), (
        ("counts the words in a string separated by any amount of whitespace",
         "def count_words(text):\n    return len(text.split())"),
        ("counts the distinct words in a string, ignoring case",
         "def count_words(text):\n    return len(set(text.lower().split()))"),
        ("counts the characters of a string that are not whitespace",
         "def count_words(text):\n    return len(''.join(text.split()))"),
    )),
    ("fizzbuzz", lambda rng: (rng.randint(1, 60),), ((15,), (3,), (5,), (7,)), (
        ("returns 'FizzBuzz' for multiples of 15, 'Fizz' for multiples of 3, 'Buzz' for multiples of 5, and the "
         "number as a string otherwise",
         "def fizzbuzz(n):\n    if n % 15 == 0:\n        return 'FizzBuzz'\n    if n % 3 == 0:\n"
         "        return 'Fizz'\n    if n % 5 == 0:\n        return 'Buzz'\n    return str(n)"),
        ("returns 'FizzBuzz' for multiples of 15, 'Buzz' for multiples of 3, 'Fizz' for multiples of 5, and the "
         "number as a string otherwise",
         "def fizzbuzz(n):\n    if n % 15 == 0:\n        return 'FizzBuzz'\n    if n % 3 == 0:\n"
         "        return 'Buzz'\n    if n % 5 == 0:\n        return 'Fizz'\n    return str(n)"),
        ("returns 'Fizz' for multiples of 3, 'Buzz' for other multiples of 5, and the number as a string otherwise",
         "def fizzbuzz(n):\n    if n % 3 == 0:\n        return 'Fizz'\n    if n % 5 == 0:\n"
         "        return 'Buzz'\n    return str(n)"),
    )),
    ("second", lambda rng: (_ints(rng, rng.randint(3, 6), 0, 9) + [10, 10],), (([5, 9, 9],), ([1, 2, 3, 4],)), (
        ("returns the second largest distinct value in a list with at least two distinct values",
         "def second(nums):\n    return sorted(set(nums))[-2]"),
        ("returns the second smallest distinct value in a list with at least two distinct values",
         "def second(nums):\n    return sorted(set(nums))[1]"),
        ("returns the second item of the list sorted from largest to smallest, duplicates kept",
         "def second(nums):\n    return sorted(nums, reverse=True)[1]"),
    )),
)
"""(function name, input drawer, edge inputs, (specification, correct source) per sibling)."""

TASKS: tuple[CodeTask, ...] = tuple(
    CodeTask(name, ask, source, tuple(other for _, other in specs if other != source), inputs, edges)
    for name, inputs, edges, specs in _GROUPS for ask, source in specs
)
"""Every specification as a task; its bugs are its siblings' sources."""
