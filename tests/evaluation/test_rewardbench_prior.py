"""RewardBench v1 prior sets: loading allenai/preference-test-sets' format from local copies, and the official
2:2:2:2:1 overall once they ran (without them the overall is labelled as excluding them)."""

from __future__ import annotations

import json

import pytest

from rewardkit.errors import DataError
from rewardkit.evaluation.rewardbench_eval import evaluate_rewardbench_v1
from rewardkit.evaluation.rewardbench_prior import load_prior_sets
from tests.evaluation.test_rewardbench_data import TABLE, V1_ROWS, TableModel, write_jsonl


def _messages(text):
    return [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "?"}]


# One row per prior set as on the hub: a multi-turn prompt, string completions; the split name is `subset`.
PRIOR_ROWS = [
    {"prompt": _messages("h1"), "chosen": "good", "rejected": "bad", "subset": "anthropic_helpful", "id": 0},
    {"prompt": _messages("h2"), "chosen": "bad", "rejected": "good", "subset": "anthropic_helpful", "id": 1},
    {"prompt": _messages("hhh"), "chosen": "good", "rejected": "bad", "subset": "anthropic_hhh"},
    {"prompt": "s", "chosen": "good", "rejected": "bad", "subset": "shp"},
    {"prompt": "sum", "chosen": "bad", "rejected": "good", "subset": "summarize"},
    {"prompt": "harm", "chosen": "bad", "rejected": "good", "subset": "anthropic_harmless"},  # reported, not scored
    {"prompt": "pku", "chosen": "bad", "rejected": "good", "subset": "pku_safer"},  # dropped as upstream does
]


def test_local_file_loads_every_prior_set_but_the_dropped_ones(tmp_path):
    pairs = load_prior_sets(write_jsonl(tmp_path / "prior.jsonl", PRIOR_ROWS))
    assert [p.subset for p in pairs] == [r["subset"] for r in PRIOR_ROWS[:-1]]
    assert len(pairs[0].prompt) == 3 and pairs[0].prompt[1].role == "assistant"


def test_saved_dataset_dict_folder_uses_split_names(tmp_path):
    import datasets

    splits = {"shp": [{"prompt": "a", "chosen": "good", "rejected": "bad"}],
              "summarize": [{"prompt": _messages("b"), "chosen": "good", "rejected": "bad"}]}
    datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in splits.items()}).save_to_disk(tmp_path / "d")
    assert [p.subset for p in load_prior_sets(str(tmp_path / "d"))] == ["shp", "summarize"]


@pytest.mark.parametrize("row, message", [
    ({"prompt": "p", "chosen": "c", "rejected": "r", "subset": "hh-rlhf"}, "unknown prior set 'hh-rlhf'"),
    ({"prompt": "p", "chosen": "c", "subset": "shp"}, "line 1.*rejected"),
    ({"prompt": "p", "chosen": "c", "rejected": "r"}, "line 1.*subset"),
])
def test_bad_rows_name_file_line_and_field(tmp_path, row, message):
    with pytest.raises(DataError, match=message):
        load_prior_sets(write_jsonl(tmp_path / "bad.jsonl", [row]))


def test_with_prior_sets_the_overall_is_the_official_weighting(tmp_path):
    core = write_jsonl(tmp_path / "rb.jsonl", V1_ROWS)
    prior = write_jsonl(tmp_path / "prior.jsonl", PRIOR_ROWS)
    m = evaluate_rewardbench_v1(TableModel(TABLE), core, prior_source=prior).metrics
    rb = m["rewardbench"]
    # Prior Sets = mean(helpful 1/2, hhh 1, shp 1, summarize 0) = 0.625; anthropic_harmless is left out
    assert rb["Prior Sets"] == pytest.approx(0.625)
    core_sections = rb["Chat"] + rb["Chat Hard"] + rb["Safety"] + rb["Reasoning"]
    assert rb["Score"] == pytest.approx((2 * core_sections + 0.625) / 9)
    assert m["prior_sets_included"] is True and m["prior_sets"]["source"] == prior
    assert m["sections"]["Prior Sets (not in score)"]["n"] == 1 and "anthropic_harmless" in m["unscored_subsets"]


def test_some_prior_sets_only_is_labelled_incomplete(tmp_path):
    core = write_jsonl(tmp_path / "rb.jsonl", V1_ROWS)
    prior = write_jsonl(tmp_path / "prior.jsonl", [r for r in PRIOR_ROWS if r["subset"] == "shp"])
    m = evaluate_rewardbench_v1(TableModel(TABLE), core, prior_source=prior).metrics
    assert "Score (incomplete prior sets)" in m["rewardbench"] and m["prior_sets_included"] is False
    assert json.dumps(m["prior_sets"]["ran"]) == '["shp"]'


def test_model_card_files_a_score_without_prior_sets_under_its_own_name():
    from rewardkit.evaluation.comparison import card_figures, headline

    metrics = {"rewardbench": {"Chat": 0.9, "Score (excl. prior sets)": 0.7}}
    assert card_figures(metrics) == {"score_excl_prior_sets": 0.7} and headline(metrics) == 0.7
    assert card_figures({"rewardbench": {"Score": 0.6}}) == {"score": 0.6}


def test_a_prior_set_prompt_is_checked_like_a_pairs(tmp_path):
    """It went through as_conversation unchecked: a made-up role was scored, a number was a TypeError."""
    rows = [{**PRIOR_ROWS[0], "prompt": [{"role": "robot", "content": "x"}]}]
    with pytest.raises(DataError, match=r"field 'prompt\[0\]\.role'"):
        load_prior_sets(write_jsonl(tmp_path / "prior.jsonl", rows))
    with pytest.raises(DataError, match="field 'prompt': must be a string or a list"):
        load_prior_sets(write_jsonl(tmp_path / "prior2.jsonl", [{**PRIOR_ROWS[0], "prompt": 3}]))
