"""RewardBench v1/v2 loading from local files in the public format, and scoring with hand-worked numbers."""

from __future__ import annotations

import json

import pytest

from rewardkit.errors import DataError
from rewardkit.evaluation.rewardbench_data import load_rewardbench_v1, load_rewardbench_v2, ties_kind
from rewardkit.evaluation.rewardbench_eval import evaluate_rewardbench_v1, evaluate_rewardbench_v2, v2_metrics
from rewardkit.models.base import Scores


class TableModel:
    family = "dummy"

    def parameter_count(self):
        return None

    def __init__(self, table):
        self.table = table

    def score(self, batch):
        return Scores([self.table[s.response] for s in batch])


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


V1_ROWS = [
    {"prompt": "p1", "chosen": "good", "rejected": "bad", "subset": "alpacaeval-easy", "id": 1},
    {"prompt": "p2", "chosen": "good", "rejected": "bad", "subset": "alpacaeval-easy", "id": 2},
    {"prompt": "p3", "chosen": "bad", "rejected": "good", "subset": "mt-bench-easy", "id": 3},
    {"prompt": "p4", "chosen": "good", "rejected": "tie", "subset": "mt-bench-hard", "id": 4},
    {"prompt": "p5", "chosen": "good", "rejected": "bad", "subset": "refusals-dangerous", "id": 5},
    {"prompt": "p6", "chosen": "good", "rejected": "bad", "subset": "math-prm", "id": 6},
    {"prompt": "p7", "chosen": "bad", "rejected": "good", "subset": "hep-python", "id": 7},
]
TABLE = {"good": 1.0, "bad": 0.0, "tie": 1.0}


def test_v1_local_file_scores_with_published_weights(tmp_path):
    path = write_jsonl(tmp_path / "rb.jsonl", V1_ROWS)
    assert [p.subset for p in load_rewardbench_v1(path)][:3] == ["alpacaeval-easy"] * 2 + ["mt-bench-easy"]
    m = evaluate_rewardbench_v1(TableModel(TABLE), path).metrics
    rb = m["rewardbench"]
    assert rb["Chat"] == pytest.approx((100 * 1.0 + 28 * 0.0) / 128)  # example-count weights
    assert rb["Chat Hard"] == 0.0  # the tie counts as wrong
    assert rb["Reasoning"] == pytest.approx(984 / (984 + 164))
    assert rb["Score (excl. prior sets)"] == pytest.approx((rb["Chat"] + 0.0 + 1.0 + rb["Reasoning"]) / 4)
    assert "Score" not in rb and m["prior_sets_included"] is False and "--prior-data" in m["prior_sets"]["note"]
    assert m["sections"]["Chat"]["n"] == 3 and m["suite"]["version"] == "v1"


V2_ROWS = [
    {"prompt": "a", "chosen": ["good"], "rejected": ["bad", "bad", "bad"], "subset": "Math", "num_correct": 1, "id": "0"},
    {"prompt": "b", "chosen": ["good"], "rejected": ["tie", "bad", "bad"], "subset": "Math", "num_correct": 1, "id": "1"},
    {"prompt": "c", "chosen": ["bad"], "rejected": ["good", "bad", "bad"], "subset": "Focus", "num_correct": 1, "id": "2"},
    {"prompt": "d", "chosen": ["good"], "rejected": ["bad"], "subset": "Ties", "num_correct": 1, "id": "ref:7"},
    {"prompt": "e", "chosen": ["good", "tie"], "rejected": ["bad"], "subset": "Ties", "num_correct": 2, "id": "tied:7"},
]


def test_v2_local_file_item_credit_and_ties(tmp_path):
    path = write_jsonl(tmp_path / "rb2.jsonl", V2_ROWS)
    items = load_rewardbench_v2(path)
    assert items[4].chosen == ("good", "tie") and items[4].num_correct == 2
    m = evaluate_rewardbench_v2(TableModel(TABLE), path).metrics
    assert m["rewardbench"]["Math"] == pytest.approx(0.75)  # 1 + 1/2 (two-way tie at the top)
    assert m["rewardbench"]["Focus"] == 0.0
    assert m["ties"]["ref_accuracy"] == 1.0 and m["ties"]["tied_accuracy"] == 1.0
    assert m["sections"]["Math"]["n"] == 2 and "Score" not in m["rewardbench"]  # not all six domains


def test_v2_metrics_by_hand():
    from rewardkit.evaluation.rewardbench_data import BenchItem

    item = BenchItem((), ("c",), ("r1", "r2"), "Safety", 1, "x")
    m = v2_metrics([item, item], [[3.0, 1.0, 2.0], [1.0, 2.0, 0.0]])
    assert m["rewardbench"]["Safety"] == 0.5 and m["accuracy"]["accuracy"] == 0.5


def test_missing_fields_and_files_are_data_errors(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "p", "chosen": "c", "subset": "s"}])
    with pytest.raises(DataError, match="rejected"):
        load_rewardbench_v1(path)
    with pytest.raises(DataError, match="not found"):
        load_rewardbench_v1(str(tmp_path / "missing.jsonl"))
    path = write_jsonl(tmp_path / "bad2.jsonl", [{"prompt": "p", "chosen": "c", "rejected": ["r"], "subset": "s"}])
    with pytest.raises(DataError, match="list"):
        load_rewardbench_v2(path)


def test_ties_ids():
    assert ties_kind("ref:12") == ("ref", "12") and ties_kind("12_tied") == ("tied", "12")
    with pytest.raises(DataError):
        ties_kind("12")
