"""UltraFeedback fine-grained ratings, from hand-written rows in the dataset's layout."""

from __future__ import annotations

import pytest

from rewardkit.data.schemas import Message
from rewardkit.data.ultrafeedback import ULTRAFEEDBACK_ATTRIBUTES, load_ultrafeedback
from rewardkit.errors import DataError


def completion(response, **ratings):
    return {"model": "m", "response": response,
            "annotations": {name: {"Rating": value, "Rationale": "..."} for name, value in ratings.items()}}


ROWS = [
    {"source": "evol_instruct", "instruction": "Name a prime.", "completions": [
        completion("7", instruction_following="5", honesty="4", truthfulness="5", helpfulness="4"),
        completion("8", instruction_following="3", honesty="N/A", truthfulness="1", helpfulness="2"),
    ]},
    {"source": "sharegpt", "instruction": "Say hi.", "completions": [
        {"response": "hi", "annotations": {"helpfulness": [{"Rating": 3}]}},  # list-wrapped, a number, aspects absent
    ]},
]


def test_each_completion_is_a_rated_response_with_na_and_absent_aspects_missing(write_jsonl):
    source = load_ultrafeedback(write_jsonl("uf.jsonl", ROWS))
    rated = list(source)
    assert [r.response for r in rated] == ["7", "8", "hi"]
    assert rated[0].prompt == (Message("user", "Name a prime."),) and rated[0].subset == "evol_instruct"
    assert rated[0].ratings == {"instruction_following": 5.0, "honesty": 4.0, "truthfulness": 5.0, "helpfulness": 4.0}
    assert rated[1].ratings["honesty"] is None and rated[1].ratings["truthfulness"] == 1.0
    assert rated[2].ratings == {"instruction_following": None, "honesty": None, "truthfulness": None,
                                "helpfulness": 3.0}
    assert source.stats.rows == 2 and source.stats.kept == 2 and tuple(rated[0].ratings) == ULTRAFEEDBACK_ATTRIBUTES


def test_a_bad_rating_names_file_line_and_field(write_jsonl, assert_located):
    rows = [ROWS[0], {"instruction": "Q", "completions": [completion("a", honesty="five")]}]
    path = write_jsonl("uf.jsonl", rows)
    with pytest.raises(DataError) as err:
        list(load_ultrafeedback(path))
    assert_located(err.value, path, 2, "completions[0].annotations.honesty.Rating")
    skipped = load_ultrafeedback(path, on_bad_rows="skip")
    assert len(list(skipped)) == 2 and skipped.stats.skipped == {"bad row": 1}


def test_rows_without_completions_fail_at_once(write_jsonl, assert_located):
    path = write_jsonl("uf.jsonl", [{"instruction": "Q", "completions": "not a list"}])
    with pytest.raises(DataError) as err:
        load_ultrafeedback(path)
    assert_located(err.value, path, 1, "completions")
