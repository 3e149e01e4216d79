"""The shortcut battery: each surface rule on hand-made pairs, ties worth a coin, the n-gram classifier fitted
on other pairs of the same subset, and the ceiling (best baseline) per subset and section."""

import numpy as np
import pytest

from rewardkit.data.schemas import PreferencePair, as_conversation
from rewardkit.evaluation.shortcuts import rule_credit, shortcut_battery, surface_features


def pair(chosen: str, rejected: str, subset: str = "s", prompt: str = "Answer the question.") -> PreferencePair:
    return PreferencePair(as_conversation(prompt), chosen, rejected, subset=subset)


def credit(feature: str, pairs) -> list[float]:
    return rule_credit(pairs, surface_features(pairs)[feature]).tolist()


def test_each_rule_on_hand_made_pairs():
    assert credit("words", [pair("one two three", "one"), pair("one", "one two"), pair("a b", "c d")]) == [
        1.0, 0.0, 0.5]  # equal word counts: a coin
    assert credit("parses as JSON", [pair('{"a": 1}', '{"a": 1'), pair("{'a': 1}", '[1, 2]')]) == [1.0, 0.0]
    assert credit("refusal marker", [pair("Sorry, I can't help with that.", "Sure, here it is."),
                                     pair("I cannot do that.", "I won't either.")]) == [1.0, 0.5]
    assert credit("duplicated sentence", [pair("The sky is blue. The sky is blue.", "The sky is blue today."),
                                          pair("It is fine.", "It is fine. It is fine.")]) == [1.0, 0.0]
    overlap = credit("prompt overlap", [pair("paris is the capital", "berlin", prompt="capital of france?"),
                                        pair("no idea", "the capital is paris", prompt="capital of france?")])
    assert overlap == [1.0, 0.0]


def test_a_length_template_hits_the_ceiling_and_a_balanced_subset_does_not():
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"]
    short_wins = [pair(" ".join(rng.choice(words, 3)), " ".join(rng.choice(words, 9)), "short") for _ in range(80)]
    texts = [" ".join(rng.choice(words, int(rng.integers(3, 9)))) for _ in range(160)]
    balanced = [pair(texts[i], texts[i + 1], "balanced") for i in range(0, 160, 2)]
    battery = shortcut_battery(short_wins + balanced, section_of=lambda s: "section")
    subsets = battery["ceiling"]["subsets"]
    assert subsets["short"]["accuracy"] == 1.0 and subsets["short"]["baseline"] in ("words shorter", "chars shorter")
    assert subsets["balanced"]["accuracy"] <= 0.65 and subsets["balanced"]["n"] == 80
    assert battery["ceiling"]["sections"]["section"]["n"] == 160
    assert battery["baselines"]["words shorter"] == pytest.approx(1 - battery["baselines"]["words longer"])


def test_the_ngram_classifier_learns_a_template_from_other_pairs_of_the_subset():
    """The rejected answer always says "Many", the chosen "Some" (same length): a response-only classifier
    fitted on another seed's pairs of the subset separates them; either word on either side leaves a coin."""
    def template(seed, subset, both):
        rng = np.random.default_rng(seed)
        nouns = ["cats", "dogs", "owls", "foxes", "bees", "ants", "eels", "yaks"]
        out = []
        for _ in range(60):
            a, b = rng.choice(nouns, 2, replace=False)
            chosen = f"Some {a} sleep." if not both or rng.random() < 0.5 else f"Many {a} sleep."
            rejected = f"Many {b} sleep." if not both or rng.random() < 0.5 else f"Some {b} sleep."
            out.append(pair(chosen, rejected, subset))
        return out
    scored = template(1, "leaky", False) + template(1, "mixed", True)
    fit = template(2, "leaky", False) + template(2, "mixed", True)
    battery = shortcut_battery(scored, fit_pairs=fit)
    assert battery["ceiling"]["subsets"]["leaky"] == {"accuracy": 1.0, "baseline": "ngram classifier", "n": 60}
    assert battery["ceiling"]["subsets"]["mixed"]["accuracy"] <= 0.7
    two_fold = shortcut_battery(scored)  # no other pairs: each half scored by a classifier fitted on the other
    assert two_fold["ceiling"]["subsets"]["leaky"]["accuracy"] == 1.0
    assert "2-fold" in two_fold["ngram_fitted_on"]


def test_pairs_sharing_no_ngram_with_the_fitted_ones_are_a_coin():
    """Responses made of words the fitted pairs never used give the classifier nothing to read: every such
    pair is a tie, so neither the classifier nor its reverse can score above 0.5 on them."""
    fit = [pair(f"Some {a} sleep.", f"Many {a} sleep.", "names") for a in ("cats", "dogs", "owls", "bees") * 5]
    scored = [pair(f"Zorblat{i} quux{i}", f"Plimf{i} wex{i}", "names") for i in range(40)]
    battery = shortcut_battery(scored, fit_pairs=fit)
    assert battery["baselines"]["ngram classifier"] == 0.5
    assert battery["baselines"]["ngram classifier reversed"] == 0.5
