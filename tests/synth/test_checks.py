"""Each check kind on hand-written responses that pass and fail it."""

from __future__ import annotations

import pytest

from rewardkit.errors import DataError
from rewardkit.synth.checks import CHECKS, bullet_count, last_number, verify

# (check, a response that passes, a response that fails)
CASES = [
    ({"kind": "refusal"}, "I'm sorry, but I can't help with that.", "Sure! Here is a plan you can follow."),
    ({"kind": "python_tests", "tests": "assert f() == 1"}, "```python\ndef f():\n    return 1\n```", "def f():\n    return 2"),
    ({"kind": "not_refusal"}, "Run kill with the process id.", "I'm sorry, but I can't help with that."),
    ({"kind": "no_repeated_sentences"}, "Start small. Keep notes.", "Start small. Start small. Keep notes."),
    ({"kind": "sentence_repeats", "sentence": "Start small.", "n": 2}, "Start small. start small.",
     "Start small. Keep notes."),
    ({"kind": "sentence_repeats", "sentence": "Go.", "n": 2}, "Go. Go.", "Go. Go. Go."),
    ({"kind": "max_words", "n": 3}, "One two three.", "One two three four."),
    ({"kind": "min_words", "n": 3}, "One two three.", "One two."),
    ({"kind": "word_range", "min": 2, "max": 3}, "One two.", "One two three four."),
    ({"kind": "word_range", "min": 2, "max": 3}, "One two three.", "One."),
    ({"kind": "include_keyword", "keyword": "lantern"}, "Bring a Lantern, please.", "Bring lanterns."),
    ({"kind": "exclude_keyword", "keyword": "cat"}, "A concatenated string.", "My cat sleeps."),
    ({"kind": "bullet_count", "n": 2}, "Intro:\n- a\n* b", "- a\n- b\n- c"),
    ({"kind": "bullet_count", "n": 3}, "1. a\n2) b\n\u2022 c", "1. a\n2. b"),
    ({"kind": "all_uppercase"}, "HELLO, WORLD 2!", "Hello, WORLD."),
    ({"kind": "all_lowercase"}, "hello, world 2!", "hello, World."),
    ({"kind": "starts_with", "prefix": "Sure thing"}, "  Sure thing: yes.", "Yes. Sure thing."),
    ({"kind": "ends_with", "suffix": "Good luck!"}, "Try it. Good luck!\n", "Good luck! Try it."),
    ({"kind": "valid_json", "keys": ["a", "b"]}, '{"a": 1, "b": null}', '{"a": 1, "c": 2}'),
    ({"kind": "valid_json", "keys": ["a"]}, '{"a": 1}', "Here you go: {\"a\": 1}"),
    ({"kind": "invalid_json"}, '{"a": 1, }', '{"a": 1}'),
    ({"kind": "invalid_json"}, "{'a': True}", '[1, 2]'),
    ({"kind": "numeric_answer", "answer": 42}, "17 + 25 = 42. The answer is 42.", "17 + 25 = 42. The answer is 41."),
    ({"kind": "numeric_answer", "answer": -8}, "17 - 25 = -8", "17 - 25 = 8"),
    ({"kind": "numeric_answer", "answer": 1200}, "That makes 1,200 in all.", "No number here."),
    ({"kind": "fact_answer", "answer": "4.2 million"}, "About 4.2 million.", "About 14.2 million."),
    ({"kind": "fact_answer", "answer": "Marisk"}, "The capital is marisk.", "The capital is Mariskov."),
]


@pytest.mark.parametrize("check, good, bad", CASES, ids=[f"{c['kind']}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_check_passes_good_and_fails_bad(check, good, bad):
    assert verify(check, good) is True
    assert verify(check, bad) is False


def test_every_kind_has_a_hand_written_case():
    assert {check["kind"] for check, _, _ in CASES} == set(CHECKS)


def test_valid_json_rejects_non_objects():
    assert not verify({"kind": "valid_json", "keys": []}, "[1, 2]")
    assert verify({"kind": "valid_json", "keys": []}, "{}")


def test_case_checks_need_letters():
    assert not verify({"kind": "all_uppercase"}, "123 !")
    assert not verify({"kind": "all_lowercase"}, "")


def test_helpers():
    assert bullet_count("- a\n-b\n  - c\n10. d") == 3  # "-b" has no space after the marker
    assert last_number("3 + 4 = 7.") == 7.0
    assert last_number("none") is None


def test_unknown_kind_is_a_data_error():
    with pytest.raises(DataError, match="unknown check kind 'nope'"):
        verify({"kind": "nope"}, "x")


def test_missing_field_is_a_data_error():
    with pytest.raises(DataError, match="needs field 'n'"):
        verify({"kind": "max_words"}, "x")
