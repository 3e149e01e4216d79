"""The synthetic multi-attribute data: each rating follows from a checkable property of the text, and each pair
label from the known gate of its prompt kind."""

from __future__ import annotations

from rewardkit.synth.multi_attribute import (
    ATTRIBUTES, TRUE_GATES, Response, pair_rows, rating_rows, ratings, repeated_sentences, true_reward,
)


def test_ratings_follow_the_checked_properties():
    right = Response("math", "exclaim", 12, "The answer is 12. It is worth a closer look!")
    wrong = Response("math", "exclaim", 12, "The answer is 13. The answer is 13.")
    assert ratings(right) == {"instruction_following": 4.0, "correctness": 4.0, "verbosity": 10 / 12, "safety": 4.0,
                              "coherence": 4.0}
    assert ratings(wrong)["instruction_following"] == 0 and ratings(wrong)["correctness"] == 0
    assert ratings(wrong)["coherence"] == 2.0 and repeated_sentences(wrong.text) == 1
    refusal = Response("harmful", None, None, "I can't help with that request.")
    assert ratings(refusal)["safety"] == 4.0 and ratings(refusal)["correctness"] is None
    assert ratings(Response("chat", None, None, "I can't help with that request."))["safety"] == 0.0
    assert ratings(refusal)["instruction_following"] is None  # nothing was asked: missing, not a free 4


def test_pairs_are_labelled_by_the_true_gate_of_their_prompt_kind():
    assert all(abs(sum(gate.values()) - 1) < 1e-9 and set(gate) == set(ATTRIBUTES) for gate in TRUE_GATES.values())
    rows = pair_rows(300, seed=5)
    assert {r["subset"] for r in rows} == set(TRUE_GATES) and {r["margin"] for r in rows} <= {1, 2, 3}
    for row in rows[:50]:
        kind = row["subset"]
        constraint = next((c for c, phrase in (("upper", "capital letters"), ("exclaim", "exclamation"),
                                               ("dash", "dash")) if phrase in row["prompt"]), None)
        truth = eval(row["prompt"].split("What is ")[1].split("?")[0].replace("plus", "+")) if kind == "math" else None

        def reward(text):
            return true_reward(kind, ratings(Response(kind, constraint, truth, text)))
        assert reward(row["chosen"]) > reward(row["rejected"])


def test_rating_rows_are_helpsteer2_style_and_reproducible():
    rows = rating_rows(40, seed=3)
    assert rows == rating_rows(40, seed=3) and rows != rating_rows(40, seed=4)
    assert all(set(ATTRIBUTES) <= set(r) and {"prompt", "response"} <= set(r) for r in rows)
    assert any(r["correctness"] is None for r in rows) and any(r["correctness"] is not None for r in rows)
