"""The verifiable suite: deterministic, labelled by its checks (Python tests run in subprocesses), laid out in
sections, with the properties each section promises (similar lengths in chat-hard, longer wrong answers in
length-adversarial)."""

from __future__ import annotations

import pytest

from rewardkit.errors import ConfigError
from rewardkit.synth import from_jsonl_row, to_jsonl_row, verify
from rewardkit.synth.checks import CHECKS, word_count
from rewardkit.synth.code import TASKS, extract_code, passes_tests
from rewardkit.synth.preference import DEFAULT_FAMILIES, FAMILIES
from rewardkit.synth.suite import (
    HELDOUT_SUBSETS, SECTIONS, SUITE_FAMILIES, build_suite, describe, generate_subset, section_of,
)


@pytest.fixture(scope="module")
def suite_pairs():
    return build_suite(n_per_subset=60, seed=5)


def test_suite_is_deterministic_and_seeded():
    a, b = build_suite(3, seed=1), build_suite(3, seed=1)
    assert [p.pair.id for p in a] == [p.pair.id for p in b]
    assert [p.pair.id for p in a] != [p.pair.id for p in build_suite(3, seed=2)]


def test_layout_counts_and_sections(suite_pairs):
    subsets = [name for names in SECTIONS.values() for name in names]
    assert len(subsets) == len(set(subsets)) and len(suite_pairs) == 60 * len(subsets)
    assert {p.family for p in suite_pairs} == set(subsets)
    assert all(section_of(p.family) in SECTIONS for p in suite_pairs)
    assert describe()["version"] and set(describe()["sections"]) == set(SECTIONS)


def test_full_default_size_is_thousands_and_fast():
    import time

    start = time.perf_counter()
    pairs = build_suite()  # 100 per subset
    assert len(pairs) >= 2500 and time.perf_counter() - start < 30


def test_every_stored_check_agrees_with_the_labels(suite_pairs):
    wrong = [p.pair.id for p in suite_pairs if p.family != "python_function"
             and not (verify(p.check, p.pair.chosen) and not verify(p.check, p.pair.rejected))]
    assert wrong == []


def test_python_function_pairs_are_proved_by_running_their_tests():
    pairs = generate_subset("python_function", 12, seed=3)
    assert {p.check["kind"] for p in pairs} == {"python_tests"}
    for p in pairs:
        row = from_jsonl_row(to_jsonl_row(p))  # re-provable from the stored row alone
        assert verify(row.check, row.pair.chosen), p.pair.prompt[0].content
        assert not verify(row.check, row.pair.rejected), p.pair.prompt[0].content


def test_python_tests_time_out_and_catch_crashes():
    check = {"kind": "python_tests", "tests": "assert f() == 1", "timeout": 1.0}
    assert passes_tests(check, "```python\ndef f():\n    return 1\n```")
    assert not passes_tests(check, "```python\ndef f():\n    while True:\n        pass\n```")
    assert not passes_tests(check, "def f(:\n")
    assert extract_code("no fences") == "no fences"


def test_every_task_bug_fails_some_edge_case():
    from rewardkit.synth.code import _run_in_process

    for task in TASKS:
        for bug in task.bugs:
            assert any(_run_in_process(bug, task.name, e) != _run_in_process(task.correct, task.name, e)
                       for e in task.edges), (task.name, bug)


def test_new_check_kinds_on_hand_written_cases():
    assert {"refusal", "python_tests"} <= set(CHECKS)
    assert verify({"kind": "refusal"}, "I'm sorry, but I can't help with that.")
    assert not verify({"kind": "refusal"}, "Sure! Here is a plan you can follow.")


def test_chat_hard_answers_have_similar_lengths(suite_pairs):
    for p in suite_pairs:
        if section_of(p.family) == "chat-hard":
            c, r = word_count(p.pair.chosen), word_count(p.pair.rejected)
            assert abs(c - r) <= 5 or 0.6 <= r / c <= 1.5, (p.family, c, r)


def test_length_adversarial_pits_a_long_answer_against_a_short_one_and_either_can_be_right(suite_pairs):
    long_right = []
    for p in suite_pairs:
        if section_of(p.family) == "length-adversarial":
            c, r = word_count(p.pair.chosen), word_count(p.pair.rejected)
            assert max(c, r) > 3 * min(c, r), (p.family, c, r)
            long_right.append(c > r)
    assert 0.35 < sum(long_right) / len(long_right) < 0.65


def test_safety_has_both_directions(suite_pairs):
    kinds = {p.family: p.check["kind"] for p in suite_pairs if section_of(p.family) == "safety"}
    assert kinds == {"should_refuse": "refusal", "over_refusal": "not_refusal"}


def test_heldout_subsets_are_those_training_never_sees():
    assert set(SUITE_FAMILIES) <= set(HELDOUT_SUBSETS)
    assert "ends_with" in HELDOUT_SUBSETS and "word_limit" not in HELDOUT_SUBSETS
    assert not set(SUITE_FAMILIES) & set(FAMILIES)  # training defaults unchanged
    assert "python_function" not in DEFAULT_FAMILIES


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="n_per_subset"):
        build_suite(0)
    with pytest.raises(ConfigError, match="unknown suite sections"):
        build_suite(1, sections=["nope"])
    with pytest.raises(ConfigError, match="unknown suite subset"):
        section_of("nope")
