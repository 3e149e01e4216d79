from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rewardkit.data.loaders import LoadStats, load_pairs, load_rated
from rewardkit.data.schemas import Message, PreferencePair, RatedResponse
from rewardkit.errors import ConfigError, DataError

U, A, S = "user", "assistant", "system"


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    """Keep `datasets`' Arrow cache inside the test's folder."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")


def msg(role: str, content: str) -> dict:
    return {"role": role, "content": content}


def write_json(path, rows):
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def write_parquet(path, rows):
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def q(text: str) -> tuple[Message, ...]:
    return (Message(U, text),)


HH_PREFIX = "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Joke?"

# name -> (format, rows, expected pairs); every format, as it would appear in a file.
CASES = {
    "trl-text": (
        "trl",
        [
            {"prompt": "2+2?", "chosen": "4", "rejected": "5", "margin": 1.5, "subset": "math", "id": "a"},
            {"prompt": "France?", "chosen": "Paris", "rejected": "Lyon", "margin": None, "subset": None, "id": None},
        ],
        [
            PreferencePair(q("2+2?"), "4", "5", margin=1.5, subset="math", id="a"),
            PreferencePair(q("France?"), "Paris", "Lyon"),
        ],
    ),
    "trl-conversational": (
        "trl",
        [{"prompt": [msg(S, "Be brief."), msg(U, "Hi")], "chosen": [msg(A, "Hey.")], "rejected": [msg(A, "Hello.")]}],
        [PreferencePair((Message(S, "Be brief."), Message(U, "Hi")), "Hey.", "Hello.")],
    ),
    "trl-implicit": (
        "trl-implicit",
        [{"chosen": [msg(U, "Sky?"), msg(A, "Blue.")], "rejected": [msg(U, "Sky?"), msg(A, "Green.")], "id": 3}],
        [PreferencePair(q("Sky?"), "Blue.", "Green.", id="3")],
    ),
    "hh": (
        "hh",
        [
            {"chosen": "\n\nHuman: 2+2?\n\nAssistant: 4", "rejected": "\n\nHuman: 2+2?\n\nAssistant: 22"},
            {"chosen": HH_PREFIX + "\n\nAssistant: Knock knock.", "rejected": HH_PREFIX + "\n\nAssistant: No."},
        ],
        [
            PreferencePair(q("2+2?"), "4", "22"),
            PreferencePair((Message(U, "Hi"), Message(A, "Hello."), Message(U, "Joke?")), "Knock knock.", "No."),
        ],
    ),
    "helpsteer2-preference": (
        "helpsteer2-preference",
        [
            {"prompt": "Q1", "response_1": "good", "response_2": "bad", "preference_strength": -2},
            {"prompt": "Q2", "response_1": "same", "response_2": "same-ish", "preference_strength": 0},
            {"prompt": "Q3", "response_1": "bad", "response_2": "good", "preference_strength": 3},
        ],
        [PreferencePair(q("Q1"), "good", "bad", margin=2.0), PreferencePair(q("Q3"), "good", "bad", margin=3.0)],
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("by_name", [False, True], ids=["auto", "named"])
def test_every_format_from_jsonl(write_jsonl, case, by_name):
    format, rows, expected = CASES[case]
    pairs = load_pairs(write_jsonl(f"{case}.jsonl", rows), format if by_name else "auto")
    assert pairs.format == format
    assert list(pairs) == expected


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("writer", [write_json, write_parquet], ids=["json", "parquet"])
def test_every_format_through_datasets_matches_jsonl(tmp_path, write_jsonl, case, writer):
    format, rows, expected = CASES[case]
    extension = "json" if writer is write_json else "parquet"
    pairs = load_pairs(writer(tmp_path / f"{case}.{extension}", rows))
    assert pairs.format == format
    assert list(pairs) == expected == list(load_pairs(write_jsonl(f"{case}.jsonl", rows)))


def test_custom_keys_select_the_keys_format(write_jsonl):
    rows = [{"question": "Q", "better": [msg(A, "a")], "worse": [msg(A, "b")], "gap": 2}]
    keys = dict(prompt_key="question", chosen_key="better", rejected_key="worse", margin_key="gap")
    pairs = load_pairs(write_jsonl("k.jsonl", rows), **keys)
    assert pairs.format == "keys"
    assert list(pairs) == [PreferencePair(q("Q"), "a", "b", margin=2.0)]


def test_ties_are_counted_not_dropped_silently(write_jsonl):
    _, rows, _ = CASES["helpsteer2-preference"]
    pairs = load_pairs(write_jsonl("hs.jsonl", rows))
    assert pairs.stats == LoadStats()  # nothing read until iterated
    assert len(list(pairs)) == 2
    assert pairs.stats == LoadStats(rows=3, kept=2, skipped={"tie (preference_strength 0)": 1}, complete=True)
    assert str(pairs.stats) == "3 rows read, 2 kept, 1 skipped (tie (preference_strength 0): 1)"


def test_each_pass_rereads_the_source_and_restarts_the_counts(write_jsonl):
    _, rows, expected = CASES["trl-text"]
    pairs = load_pairs(write_jsonl("t.jsonl", rows))
    assert next(iter(pairs)) == expected[0]
    assert (pairs.stats.rows, pairs.stats.complete) == (1, False)
    assert list(pairs) == list(pairs) == expected
    assert (pairs.stats.rows, pairs.stats.kept, pairs.stats.complete) == (2, 2, True)


def test_load_rated_from_jsonl_with_missing_ratings(write_jsonl):
    rows = [
        dict(prompt="Q", response="R1", helpfulness=4, correctness=3, coherence=4, complexity=2, verbosity=1),
        {"prompt": "Q", "response": "R2", "helpfulness": None, "correctness": 2, "id": 9},
    ]
    rated = list(load_rated(write_jsonl("hs2.jsonl", rows)))
    assert rated[0].ratings == dict(helpfulness=4.0, correctness=3.0, coherence=4.0, complexity=2.0, verbosity=1.0)
    ratings = dict(helpfulness=None, correctness=2.0, coherence=None, complexity=None, verbosity=None)
    assert rated[1] == RatedResponse(q("Q"), "R2", ratings, id="9")


def test_load_rated_from_csv_turns_empty_cells_into_none(tmp_path):
    path = tmp_path / "hs2.csv"
    path.write_text("prompt,response,helpfulness,safety\nQ,R1,4,1\nQ,R2,,0\n", encoding="utf-8")
    rated = load_rated(path, attributes=["helpfulness", "safety"])
    assert [r.ratings for r in rated] == [{"helpfulness": 4.0, "safety": 1.0}, {"helpfulness": None, "safety": 0.0}]
    assert rated.stats.kept == 2 and rated.format == "helpsteer2"


def test_saved_dataset_folder_picks_the_split(tmp_path):
    import datasets

    folder = tmp_path / "saved"
    datasets.DatasetDict(
        train=datasets.Dataset.from_list([{"prompt": "Q", "chosen": "a", "rejected": "b"}]),
        test=datasets.Dataset.from_list([{"prompt": "T", "chosen": "c", "rejected": "d"}]),
    ).save_to_disk(str(folder))
    assert list(load_pairs(folder, split="test")) == [PreferencePair(q("T"), "c", "d")]
    with pytest.raises(DataError, match=r"no split 'dev' \(has: train, test\)"):
        load_pairs(folder, split="dev")


def test_folder_of_data_files_goes_through_load_dataset(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    write_json(folder / "train.json", [{"prompt": "Q", "chosen": "a", "rejected": "b"}])
    assert list(load_pairs(folder)) == [PreferencePair(q("Q"), "a", "b")]


# --- bad input: every error names the file, the line (or row) and the field ----------------------


def test_missing_files_fail_when_loading(tmp_path, assert_located):
    for name in ("nope.jsonl", "nope.parquet", "nope.json"):
        with pytest.raises(DataError, match="file not found") as info:
            load_pairs(tmp_path / name)
        assert_located(info.value, tmp_path / name, None)


def test_empty_file_fails_when_loading(write_jsonl, assert_located):
    path = write_jsonl("empty.jsonl", [""])
    with pytest.raises(DataError, match="empty file") as info:
        load_rated(path)
    assert_located(info.value, path, None)


def test_non_utf8_line_fails_while_iterating_and_names_it(tmp_path, assert_located):
    path = tmp_path / "mixed.jsonl"
    good, bad = b'{"prompt": "Q", "chosen": "a", "rejected": "b"}', b'{"prompt": "\xff", "chosen": "a", "rejected": "b"}'
    path.write_bytes(good + b"\n" + bad + b"\n")
    pairs = load_pairs(path)
    with pytest.raises(DataError, match="not valid UTF-8") as info:
        list(pairs)
    assert_located(info.value, path, 2)
    assert pairs.stats.kept == 1


def test_malformed_line_names_file_and_line(write_jsonl, assert_located):
    good = {"prompt": "Q", "chosen": "a", "rejected": "b"}
    path = write_jsonl("bad.jsonl", [good, "", '{"prompt": "Q", "chosen": "a"'])
    with pytest.raises(DataError, match="malformed JSON") as info:
        list(load_pairs(path))
    assert_located(info.value, path, 3)


@pytest.mark.parametrize(
    ("bad_row", "field", "reason"),
    [
        ({"prompt": "Q", "chosen": "a"}, "rejected", "missing"),
        ({"prompt": "Q", "chosen": 7, "rejected": "b"}, "chosen", "got number"),
        ({"prompt": "Q", "chosen": "a", "rejected": "b", "margin": "big"}, "margin", "must be a number"),
        ({"prompt": [msg(U, "Q"), {"role": U}], "chosen": "a", "rejected": "b"}, "prompt[1].content", "got null"),
    ],
)
def test_bad_field_on_a_later_line_names_file_line_and_field(write_jsonl, assert_located, bad_row, field, reason):
    good = {"prompt": "Q", "chosen": "a", "rejected": "b"}
    path = write_jsonl("rows.jsonl", [good, "", good, bad_row])
    with pytest.raises(DataError, match=reason) as info:
        list(load_pairs(path))
    assert_located(info.value, path, 4, field)


def test_bad_first_row_fails_when_loading(write_jsonl, assert_located):
    path = write_jsonl("first.jsonl", [{"chosen": "\n\nHuman: Hi\n\nAssistant: a", "rejected": 5}])
    with pytest.raises(DataError, match="must be a string, got number") as info:
        load_pairs(path)
    assert_located(info.value, path, 1, "rejected")


def test_datasets_rows_are_named_by_1_based_row_number(tmp_path, assert_located):
    rows = [{"prompt": "Q", "chosen": "a", "rejected": "b"}] * 2 + [{"prompt": "Q", "chosen": None, "rejected": "b"}]
    path = write_parquet(tmp_path / "rows.parquet", rows)
    pairs = load_pairs(path)
    with pytest.raises(DataError, match="is null") as info:
        list(pairs)
    assert_located(info.value, path, 3, "chosen")


def test_datasets_wrong_type_names_the_field(tmp_path, assert_located):
    path = write_json(tmp_path / "hs.json", [{"prompt": "Q", "response": "R", "helpfulness": "high"}])
    with pytest.raises(DataError, match="must be a number, got string") as info:
        load_rated(path)
    assert_located(info.value, path, 1, "helpfulness")


def test_unreadable_dataset_file_is_a_data_error(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="could not load dataset") as info:
        load_pairs(path)
    assert info.value.file == str(path)


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("prompt chosen rejected\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"unsupported file type '\.txt'"):
        load_pairs(path)


def test_unrecognised_rows_name_file_and_first_line(write_jsonl, assert_located):
    path = write_jsonl("odd.jsonl", [{"question": "Q", "answer": "A"}])
    with pytest.raises(DataError, match="cannot tell the data format") as info:
        load_pairs(path)
    assert_located(info.value, path, 1)


def test_rated_rows_given_to_load_pairs_point_to_load_rated(write_jsonl):
    path = write_jsonl("hs2.jsonl", [{"prompt": "Q", "response": "R", "helpfulness": 3}])
    with pytest.raises(DataError, match="use load_rated"):
        load_pairs(path)


def test_bad_arguments_fail_before_reading(tmp_path):
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(ConfigError, match="unknown pair format 'dpo'"):
        load_pairs(missing, "dpo")
    with pytest.raises(ConfigError, match="apply to format 'keys', not 'hh'"):
        load_pairs(missing, "hh", prompt_key="question")
    with pytest.raises(ConfigError, match="non-empty list"):
        load_rated(missing, attributes="helpfulness")


HH_OK = {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: Go away."}
HH_DIVERGED = {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Joke?\n\nAssistant: Knock knock.",
               "rejected": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Rhyme?\n\nAssistant: No."}


def test_diverging_pairs_are_kept_and_counted_unless_strict(write_jsonl, assert_located):
    path = write_jsonl("hh.jsonl", [HH_OK, HH_DIVERGED, HH_OK])
    pairs = load_pairs(path)
    records = list(pairs)
    assert len(records) == 3 and [p.diverged for p in records] == [False, True, False]
    assert pairs.stats.diverged == 1 and "1 kept with conversations diverging" in str(pairs.stats)
    assert records[1].prompt == (Message(U, "Hi"), Message(A, "Hello!"))
    with pytest.raises(DataError) as info:
        list(load_pairs(path, strict_rows=True))
    assert_located(info.value, path, 2, "rejected")


def test_trl_keys_and_helpsteer2_preference_rows_diverging_early_are_counted(write_jsonl):
    early = {"prompt": "Q", "chosen": [msg(U, "a?"), msg(A, "A")], "rejected": [msg(U, "b?"), msg(A, "B")]}
    for name, rows, options in (
        ("trl.jsonl", [early], {}),
        ("keys.jsonl", [{"q": "Q", "good": early["chosen"], "bad": early["rejected"]}],
         {"prompt_key": "q", "chosen_key": "good", "rejected_key": "bad"}),
        ("hs2p.jsonl", [{"prompt": "Q", "response_1": early["chosen"], "response_2": early["rejected"],
                         "preference_strength": -1}], {}),
    ):
        pairs = load_pairs(write_jsonl(name, rows), **options)
        assert [p.chosen for p in pairs] == ["A"] and pairs.stats.diverged == 1, name
        with pytest.raises(DataError, match="strict_rows"):
            list(load_pairs(write_jsonl(name, rows), strict_rows=True, **options))


BROKEN = [
    ("{not json", "malformed JSON"),
    ('["a", "list"]', "expected a JSON object, got array"),
    ({"prompt": "Q", "chosen": "A"}, "field 'rejected': missing"),
    ({"prompt": "Q", "chosen": "A", "rejected": 7}, "field 'rejected': must be a string"),
]


def test_broken_rows_are_errors_by_default_and_counted_with_their_reason_when_skipped(write_jsonl):
    good = {"prompt": "Q", "chosen": "A", "rejected": "B"}
    rows = [good, *(row for row, _ in BROKEN), good]
    path = write_jsonl("mixed.jsonl", rows)
    with pytest.raises(DataError, match="line 2"):
        list(load_pairs(path))
    pairs = load_pairs(path, on_bad_rows="skip")
    assert len(list(pairs)) == 2
    assert pairs.stats.skipped == {"bad row": 4} and pairs.stats.rows == 6
    assert [(b.line, reason in b.reason) for b, (_, reason) in zip(pairs.stats.bad_rows, BROKEN)] == [
        (2, True), (3, True), (4, True), (5, True)]
    assert pairs.stats.bad_rows[0].text == "{not json"  # the line as it was, to fix and reload
    assert json.loads(pairs.stats.bad_rows[2].text) == {"prompt": "Q", "chosen": "A"}
    assert pairs.stats.summary()["bad_rows"] == 4


def test_skip_finds_the_format_on_the_first_usable_row_and_needs_one(write_jsonl):
    path = write_jsonl("late.jsonl", ["{oops", HH_OK])
    pairs = load_pairs(path, on_bad_rows="skip")
    assert pairs.format == "hh" and len(list(pairs)) == 1 and pairs.stats.skipped == {"bad row": 1}
    with pytest.raises(DataError, match="no usable rows"):
        load_pairs(write_jsonl("none.jsonl", ["{oops", "[1]"]), on_bad_rows="skip")
    with pytest.raises(ConfigError, match="on_bad_rows must be one of error, skip"):
        load_pairs(path, on_bad_rows="ignore")


def test_skip_applies_to_dataset_files_and_rated_rows(tmp_path, write_jsonl):
    rows = [{"prompt": "Q", "chosen": "A", "rejected": "B"}, {"prompt": "Q", "chosen": "A", "rejected": None}]
    pairs = load_pairs(write_json(tmp_path / "pairs.json", rows), on_bad_rows="skip")
    assert len(list(pairs)) == 1 and pairs.stats.bad_rows[0].line == 2
    assert "field 'rejected': is null" in pairs.stats.bad_rows[0].reason
    rated = load_rated(write_jsonl("hs2.jsonl", [{"prompt": "Q", "response": "R", "helpfulness": 3},
                                                 {"prompt": "Q", "response": "R", "helpfulness": "high"}]),
                       on_bad_rows="skip")
    assert len(list(rated)) == 1 and "must be a number" in rated.stats.bad_rows[0].reason


def test_rows_of_datasets_sources_and_lines_of_files_read_line_by_line(tmp_path):
    """An error names a row of a source datasets reads (its lines mean nothing: a CSV's row 2 is on line 3) and a
    line of a file read line by line, whatever either file is called; a compressed JSONL file loads through
    datasets, and line-by-line readers refuse it with the reason."""
    import gzip

    from rewardkit.data.jsonl import iter_jsonl

    rows = [{"prompt": "Q", "chosen": "a", "rejected": "b"}, {"prompt": "Q", "chosen": None, "rejected": "b"}]
    csv = tmp_path / "pairs.csv"
    csv.write_text("prompt,chosen,rejected\nQ,a,b\nQ,,b\n")
    with pytest.raises(DataError, match=r"pairs\.csv, row 2, field 'chosen'"):
        list(load_pairs(csv))
    lines = tmp_path / "lines.json"  # JSON Lines under a .json name, read line by line
    lines.write_text("".join(json.dumps(r) + "\n" for r in rows[:1]) + "{broken\n")
    with pytest.raises(DataError, match=r"lines\.json, line 2: malformed JSON"):
        list(iter_jsonl(lines))
    packed = tmp_path / "pairs.jsonl.gz"
    packed.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    with pytest.raises(DataError, match=r"pairs\.jsonl\.gz, row 2, field 'chosen': is null"):
        list(load_pairs(packed))
    with pytest.raises(DataError, match=r"pairs\.jsonl\.gz: is compressed: .* decompress it first"):
        iter_jsonl(packed)
