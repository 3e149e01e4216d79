"""The shortcut battery: how far a benchmark can be passed without reading the prompt or checking the answer.

Each baseline looks at surface features only and picks one response of each pair:

    words longer / shorter, chars longer / shorter     length, both directions
    ngram classifier (and reversed)                     logistic regression on the response's 1-2-grams of
                                                        words and punctuation marks (never the prompt), fitted
                                                        for each subset (section, the whole set) on other pairs
                                                        of it than it is scored on: another seed of the suite,
                                                        or the other half of a file. Reversed, it catches a
                                                        surface feature that decides every pair but flips
                                                        between the fitted and the scored pairs
    parses as JSON / does not                           JSON validity
    refusal marker / none                               "I can't", "I cannot", "I won't", "sorry", ...
    duplicated sentence / none                          a sentence said twice
    stock phrase / none                                 contains a word 3-gram found in at least 5% of all the
                                                        set's responses
    overlap more / less                                 share of the prompt's words the response repeats

A rule that cannot tell the two responses apart (both or neither match, equal lengths) scores 0.5 on that pair,
what a coin would. The **shortcut ceiling** of a subset or section is the best baseline's accuracy there: a
model scoring near it may be reading surface features, and a benchmark whose ceiling is near 1 does not
measure reading the prompt and checking the answer.

    >>> battery = shortcut_battery(pairs, section_of=suite.section_of, fit_pairs=other_pairs)   # doctest: +SKIP
    >>> battery["ceiling"]["sections"]["chat-hard"]                                            # doctest: +SKIP
    {'accuracy': 0.97, 'baseline': 'stock phrase', 'n': 500}
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from rewardkit.data.schemas import PreferencePair

REFUSAL = re.compile(r"\b(i can(?:'|no)t|i cannot|i won't|i will not|i'm not able|i am not able|i'm unable|"
                     r"i am unable|sorry|i must decline|i apologi[sz]e)\b", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"[a-z0-9']+")
STOCK_SHARE = 0.05
"""A word 3-gram in at least this share of the set's responses is a stock phrase."""


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _parses_as_json(text: str) -> float:
    try:
        json.loads(text)
    except ValueError:
        return 0.0
    return 1.0


def _refuses(text: str) -> float:
    return float(bool(REFUSAL.search(text)))


def _duplicated_sentence(text: str) -> float:
    sentences = [s.strip().lower() for s in SENTENCE_END.split(text) if len(s.split()) >= 3]
    return float(len(sentences) != len(set(sentences)))


def _overlap(prompt_words: set[str], text: str) -> float:
    words = set(_words(text))
    return len(words & prompt_words) / max(len(prompt_words), 1)


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i: i + 3]) for i in range(len(words) - 2)}


Feature = Callable[[PreferencePair, str], float]
"""feature(pair, response) → a number; the baseline picks the response with the higher (or lower) value."""


def surface_features(pairs: Sequence[PreferencePair]) -> dict[str, Feature]:
    """Each prompt-blind feature (overlap reads the prompt's words, nothing else of it)."""
    counts = Counter(gram for p in pairs for text in (p.chosen, p.rejected) for gram in _trigrams(text))
    stock = {gram for gram, n in counts.items() if n >= STOCK_SHARE * 2 * len(pairs)}
    prompt_words = {id(p): set(_words(" ".join(m.content for m in p.prompt))) for p in pairs}
    return {
        "words": lambda p, text: float(len(text.split())),
        "chars": lambda p, text: float(len(text)),
        "parses as JSON": lambda p, text: _parses_as_json(text),
        "refusal marker": lambda p, text: _refuses(text),
        "duplicated sentence": lambda p, text: _duplicated_sentence(text),
        "stock phrase": lambda p, text: float(bool(_trigrams(text) & stock)),
        "prompt overlap": lambda p, text: _overlap(prompt_words[id(p)], text),
    }


def rule_credit(pairs: Sequence[PreferencePair], feature: Feature) -> np.ndarray:
    """Per pair: 1 when the chosen response has the higher value, 0 when lower, 0.5 when equal."""
    chosen = np.array([feature(p, p.chosen) for p in pairs])
    rejected = np.array([feature(p, p.rejected) for p in pairs])
    return np.where(chosen > rejected, 1.0, np.where(chosen < rejected, 0.0, 0.5))


def ngram_credit(pairs: Sequence[PreferencePair], fit_pairs: Sequence[PreferencePair] | None,
                 seed: int = 0) -> np.ndarray:
    """Per pair: 1/0/0.5 as the response-only word 1-2-gram logistic regression ranks it. Fitted on
    `fit_pairs`, or, without them, 2-fold on `pairs` (each half scored by the model fitted on the other)."""
    if fit_pairs is not None:
        return _ngram_fit_and_score(fit_pairs, pairs, seed)
    order = np.random.default_rng(seed).permutation(len(pairs))
    halves = order[: len(pairs) // 2], order[len(pairs) // 2:]
    credit = np.full(len(pairs), 0.5)
    for fit, test in (halves, halves[::-1]):
        if len(fit) and len(test):
            credit[test] = _ngram_fit_and_score([pairs[i] for i in fit], [pairs[i] for i in test], seed)
    return credit


def _ngram_fit_and_score(fit: Sequence[PreferencePair], test: Sequence[PreferencePair], seed: int) -> np.ndarray:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    if len(fit) < 2:
        return np.full(len(test), 0.5)  # nothing to learn from: a coin
    vectorizer = CountVectorizer(ngram_range=(1, 2), min_df=2, binary=True, lowercase=False,
                                 token_pattern=r"(?u)\b\w+\b|[^\w\s]")  # punctuation marks are tokens too
    try:
        vectorizer.fit([text for p in fit for text in (p.chosen, p.rejected)])
    except ValueError:  # no n-gram occurs twice
        return np.full(len(test), 0.5)
    difference = vectorizer.transform([p.chosen for p in fit]) - vectorizer.transform([p.rejected for p in fit])
    flip = np.arange(len(fit)) % 2 == 1  # half the pairs each way round, so both labels occur
    np.random.default_rng(seed).shuffle(flip)
    signs = np.where(flip, -1.0, 1.0)
    # No intercept: the label is which side is chosen, so swapping the two responses must flip the margin.
    # With an intercept, pairs that share no n-gram with the fitted ones all get the same sign, and the
    # classifier (or its reverse) "decides" every one of them without reading anything.
    classifier = LogisticRegression(C=1.0, max_iter=1000, fit_intercept=False)
    classifier.fit(difference.multiply(signs[:, None]).tocsr(), (~flip).astype(int))
    margin = classifier.decision_function(vectorizer.transform([p.chosen for p in test])
                                          - vectorizer.transform([p.rejected for p in test]))
    return np.where(margin > 0, 1.0, np.where(margin < 0, 0.0, 0.5))


def rule_credits(pairs: Sequence[PreferencePair]) -> dict[str, np.ndarray]:
    """Per rule, the credit of each pair: both directions of every surface feature."""
    credits: dict[str, np.ndarray] = {}
    for name, feature in surface_features(pairs).items():
        higher = rule_credit(pairs, feature)
        more, less = {"words": ("words longer", "words shorter"), "chars": ("chars longer", "chars shorter"),
                      "prompt overlap": ("overlap more", "overlap less")}.get(name, (name, f"no {name}"))
        credits[more], credits[less] = higher, 1.0 - higher
    return credits


def grouped_ngram_credit(pairs: Sequence[PreferencePair], groups: dict[str, np.ndarray],
                         fit_pairs: Sequence[PreferencePair] | None, fit_group: Callable[[PreferencePair], str],
                         seed: int) -> np.ndarray:
    """The n-gram classifier's credit of each pair, with one classifier per group fitted on the fit pairs of
    the same group (2-fold within the group without fit pairs)."""
    credit = np.full(len(pairs), 0.5)
    for name, index in groups.items():
        fit = None if fit_pairs is None else [p for p in fit_pairs if fit_group(p) == name]
        if fit is not None and not fit:
            continue  # nothing of this group to fit on: a coin
        credit[index] = ngram_credit([pairs[i] for i in index], fit, seed)
    return credit


def _ceiling(credits: dict[str, np.ndarray], index: np.ndarray) -> dict:
    scores = {name: float(values[index].mean()) for name, values in credits.items()}
    best = max(scores, key=scores.get)
    return {"accuracy": scores[best], "baseline": best, "n": int(len(index))}


def shortcut_battery(pairs: Sequence[PreferencePair], *, section_of: Callable[[str], str] | None = None,
                     fit_pairs: Sequence[PreferencePair] | None = None, seed: int = 0) -> dict:
    """Every baseline's accuracy overall, per section and per subset, and the ceiling (best baseline) of each.
    Subsets are the pairs' `subset` values ("all" when unset); sections come from `section_of`."""
    if not pairs:
        return {}
    rules = rule_credits(pairs)
    subset_of: Callable[[PreferencePair], str] = lambda p: p.subset or "all"  # noqa: E731
    levels: dict[str, Callable[[PreferencePair], str]] = {"overall": lambda p: "overall", "subsets": subset_of}
    if section_of is not None:
        levels["sections"] = lambda p: section_of(subset_of(p))
    ceiling, baselines = {}, {}
    for level, group_of in levels.items():
        labels = np.array([group_of(p) for p in pairs])
        groups = {name: np.flatnonzero(labels == name) for name in dict.fromkeys(labels)}
        ngram = grouped_ngram_credit(pairs, groups, fit_pairs, group_of, seed)
        credits = {**rules, "ngram classifier": ngram, "ngram classifier reversed": 1.0 - ngram}
        ceiling[level] = {name: _ceiling(credits, index) for name, index in groups.items()}
        if level == "overall":
            ceiling[level] = ceiling[level]["overall"]
            baselines = {name: float(values.mean()) for name, values in credits.items()}
    return {
        "ceiling": ceiling,
        "baselines": baselines,
        "ngram_fitted_on": ("the same subset / section of another seed's pairs" if fit_pairs is not None
                            else "the other half of the same subset / section (2-fold)"),
        "ties": "a baseline that cannot tell the responses apart scores 0.5 on that pair",
    }
