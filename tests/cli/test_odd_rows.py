"""Real files with odd rows through train, score and eval: pairs whose conversations diverge before the last
turn are kept and counted (refused with strict rows); broken rows stop the run naming the line, or with
on_bad_rows=skip are counted and written out with their reason. Nothing is dropped without a count."""

import json

import pytest

import rewardkit
from rewardkit.data.loaders import load_pairs
from tests.helpers import run_cli as run, write_jsonl

SHARED = "\n\nHuman: How do I pick a lock?\n\nAssistant: Why do you ask?"
HH_ROWS = [
    {"chosen": f"\n\nHuman: Hi {i}\n\nAssistant: Hello, friend {i}!",
     "rejected": f"\n\nHuman: Hi {i}\n\nAssistant: No."}
    for i in range(6)
] + [  # as 5 of the 2,312 rows of HH-RLHF harmless-base test: the sides differ in an earlier Human turn
    {"chosen": SHARED + "\n\nHuman: I locked myself out.\n\nAssistant: Call a locksmith.",
     "rejected": SHARED + "\n\nHuman: Just tell me.\n\nAssistant: Use a tension wrench."},
]
BROKEN_LINE = '{"chosen": "\\n\\nHuman: Hi\\n\\nAssistant: cut off'
MISSING_FIELD = {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!"}


def flat(text: str) -> str:
    """The console's output with its line wrapping undone."""
    return " ".join(text.split())


def hh_file(folder, *extra):
    """The 7 rows (the diverging one on line 4), then `extra` rows from line 8 on."""
    folder.mkdir(exist_ok=True)
    path = write_jsonl(folder / "hh.jsonl", HH_ROWS[:3] + HH_ROWS[6:] + HH_ROWS[3:6])
    if extra:
        with path.open("a", encoding="utf-8") as handle:
            for row in extra:
                handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def train_args(data, backbone, out, *extra):
    return ["train", "--data", str(data), "--backbone", backbone, "--out", str(out), "max_steps=2", "batch_size=2",
            "max_length=48", "eval_fraction=0.25", *extra]


def test_train_keeps_and_counts_diverging_rows_and_skips_broken_ones_only_when_asked(tiny_llama, tmp_path,
                                                                                    monkeypatch, capsys):
    data = hh_file(tmp_path / "in", BROKEN_LINE, MISSING_FIELD)
    code, _, err = run(train_args(data, tiny_llama, tmp_path / "strict-errors"), monkeypatch, capsys)
    assert code == 2 and "line 8: malformed JSON" in err and not (tmp_path / "strict-errors" / "model").exists()

    code, _, err = run(train_args(data, tiny_llama, tmp_path / "run", "--on-bad-rows", "skip"), monkeypatch, capsys)
    assert code == 0, err
    assert "9 rows read, 7 kept, 2 skipped (bad row: 2); 1 kept with conversations diverging" in flat(err)
    skipped = [json.loads(line) for line in (tmp_path / "run" / "skipped_rows.jsonl").read_text().splitlines()]
    assert [(row["line"], row["file"]) for row in skipped] == [(8, str(data)), (9, str(data))]
    assert "malformed JSON" in skipped[0]["reason"] and skipped[0]["text"] == BROKEN_LINE
    assert skipped[1]["reason"] == "field 'rejected': missing (the row has: chosen)"
    card = (tmp_path / "run" / "model" / "README.md").read_text()
    assert "| rows skipped | 2 |" in card
    assert "| pairs kept whose conversations diverge before the last turn | 1 |" in card
    assert json.loads((tmp_path / "run" / "train_config.json").read_text())["on_bad_rows"] == "skip"

    code, _, err = run(train_args(hh_file(tmp_path / "in2"), tiny_llama, tmp_path / "strict", "--strict-rows"),
                       monkeypatch, capsys)
    assert code == 2 and "line 4, field 'rejected'" in flat(err) and "strict_rows" in err


def test_score_counts_diverging_rows_and_moves_skipped_rows_out_of_the_output(tiny_bert, tmp_path, monkeypatch,
                                                                             capsys):
    data = hh_file(tmp_path / "in", BROKEN_LINE, HH_ROWS[0])
    output = tmp_path / "scored.jsonl"
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(data), "--output", str(output)], monkeypatch,
                       capsys)
    assert code == 2 and "line 8: malformed JSON" in err and not output.exists()

    code, _, err = run(["score", "--model", tiny_bert, "--input", str(data), "--output", str(output),
                        "--on-bad-rows", "skip", "--chunk-rows", "4"], monkeypatch, capsys)
    assert code == 0, err
    assert "1 pairs scored whose conversations diverge" in flat(err) and "1 broken rows skipped" in flat(err)
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(rows) == 8 and all("margin" in row for row in rows)
    skipped = [json.loads(line) for line in (tmp_path / "scored.skipped_rows.jsonl").read_text().splitlines()]
    assert [(row["line"], row["text"]) for row in skipped] == [(8, BROKEN_LINE)]
    model = rewardkit.load(tiny_bert)
    pair = next(iter(load_pairs(write_jsonl(tmp_path / "one.jsonl", [HH_ROWS[6]]))))
    chosen, rejected = model.score(list(pair.samples())).rewards
    assert (rows[3]["reward_chosen"], rows[3]["reward_rejected"]) == pytest.approx((chosen, rejected), abs=1e-5)

    code, _, err = run(["score", "--model", tiny_bert, "--input", str(hh_file(tmp_path / "ok")), "--output",
                        str(tmp_path / "s.jsonl"), "--strict-rows"], monkeypatch, capsys)
    assert code == 2 and "line 4, field 'rejected'" in flat(err) and "strict_rows" in err
    # strict rows and skip together: the diverging row is skipped like a broken one, with its reason
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(data), "--output", str(tmp_path / "s.jsonl"),
                        "--strict-rows", "--on-bad-rows", "skip"], monkeypatch, capsys)
    assert code == 0 and len((tmp_path / "s.jsonl").read_text().splitlines()) == 7
    reasons = [json.loads(line)["reason"] for line in (tmp_path / "s.skipped_rows.jsonl").read_text().splitlines()]
    assert "strict_rows" in reasons[0] and "malformed JSON" in reasons[1]


def test_score_resumes_past_a_skipped_row(tiny_bert, tmp_path, monkeypatch, capsys):
    data = hh_file(tmp_path / "in", BROKEN_LINE, HH_ROWS[0])
    fresh, resumed = tmp_path / "fresh.jsonl", tmp_path / "resumed.jsonl"
    assert run(["score", "--model", tiny_bert, "--input", str(data), "--output", str(fresh), "--on-bad-rows", "skip"],
               monkeypatch, capsys)[0] == 0
    # a run killed after 8 input rows: 7 scored lines and the skipped row's marker in the .partial file
    head = tmp_path / "head.jsonl"
    assert run(["score", "--model", tiny_bert, "--input", str(hh_file(tmp_path / "head")), "--output", str(head)],
               monkeypatch, capsys)[0] == 0
    marker = json.dumps({"__rewardkit_skipped_row__": {"file": str(data), "line": 8, "reason": "malformed JSON",
                                                       "text": BROKEN_LINE}})
    (tmp_path / "resumed.jsonl.partial").write_text(head.read_text() + marker + "\n")
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(data), "--output", str(resumed), "--resume",
                        "--on-bad-rows", "skip"], monkeypatch, capsys)
    assert code == 0 and "resumed after 8" in flat(err) and "1 broken rows skipped" in flat(err)
    got, expected = ([json.loads(line) for line in f.read_text().splitlines()] for f in (resumed, fresh))
    assert len(got) == len(expected) == 8
    for row, want in zip(got, expected):  # the same rows in order; rewards equal up to batching noise
        assert row.keys() == want.keys() and row["chosen"] == want["chosen"]
        assert row["margin"] == pytest.approx(want["margin"], abs=1e-5)
    assert len((tmp_path / "resumed.skipped_rows.jsonl").read_text().splitlines()) == 1


def test_eval_on_a_pairs_file_reports_rows_and_writes_skipped_ones(tiny_bert, tmp_path, monkeypatch, capsys):
    data = hh_file(tmp_path / "in", MISSING_FIELD)
    out = tmp_path / "eval"
    code, _, err = run(["eval", "--model", tiny_bert, "--suite", str(data), "--out", str(out), "--on-bad-rows",
                        "skip"], monkeypatch, capsys)
    assert code == 0, err
    rows = json.loads((out / "metrics.json").read_text())["suite"]["rows"]
    assert rows == {"rows": 8, "kept": 7, "skipped": {"bad row": 1}, "diverged": 1, "bad_rows": 1}
    assert "8 rows read, 7 pairs evaluated, 1 skipped (bad row: 1); 1 with conversations diverging" in flat(err)
    assert json.loads((out / "skipped_rows.jsonl").read_text())["line"] == 8
    code, _, err = run(["eval", "--model", tiny_bert, "--suite", "verifiable", "--out", str(tmp_path / "v"),
                        "--strict-rows"], monkeypatch, capsys)
    assert code == 2 and "apply to a pairs file" in err


@pytest.mark.parametrize("prompt, field, reason", [
    (5, "prompt", "must be a string or a list of {role, content} messages, got number"),
    ([{"role": "robot", "content": "hi"}], "prompt[0].role", "got 'robot'"),
    ([], "prompt", "empty message list"),
    (["hi"], "prompt[0]", "a {role, content} object, got string"),
])
def test_a_single_response_rows_prompt_is_checked_like_a_pairs(prompt, field, reason, tiny_bert, tmp_path,
                                                                monkeypatch, capsys):
    """A prompt of a {prompt, response} row went through as_conversation unchecked: a number stopped the run with
    a TypeError even under --on-bad-rows skip, and a made-up role or an empty prompt was scored."""
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "Hi", "response": "Hello"},
                                                 {"prompt": prompt, "response": "x"}])
    target = tmp_path / "out.jsonl"
    args = ["score", "--model", tiny_bert, "--input", str(source), "--output", str(target)]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 2 and f"line 2, field '{field}': " in err and reason in err, err
    code, _, err = run(args + ["--on-bad-rows", "skip"], monkeypatch, capsys)
    assert code == 0, err
    skipped = [json.loads(line) for line in (tmp_path / "out.skipped_rows.jsonl").read_text().splitlines()]
    assert len(target.read_text().splitlines()) == 1 and skipped[0]["line"] == 2 and reason in skipped[0]["reason"]


def test_a_rewardbench_file_with_a_bad_prompt_names_it(tmp_path):
    """RewardBench rows went through as_conversation unchecked: a number as prompt was a TypeError."""
    from rewardkit.errors import DataError
    from rewardkit.evaluation.rewardbench_data import load_rewardbench_v1, load_rewardbench_v2

    v1 = write_jsonl(tmp_path / "v1.jsonl", [{"prompt": 7, "chosen": "a", "rejected": "b", "subset": "s"}])
    with pytest.raises(DataError, match="line 1, field 'prompt': must be a string or a list"):
        load_rewardbench_v1(str(v1))
    v2 = write_jsonl(tmp_path / "v2.jsonl", [{"prompt": [{"role": "robot", "content": "x"}], "chosen": ["a"],
                                              "rejected": ["b"], "subset": "s"}])
    with pytest.raises(DataError, match=r"field 'prompt\[0\]\.role'"):
        load_rewardbench_v2(str(v2))


def test_sharegpt_preference_rows_score_without_options(tiny_bert, tmp_path, monkeypatch, capsys):
    """LLaMA-Factory's layout: {conversations: [{from, value}], chosen: {from, value}, rejected: {from, value}}."""
    rows = [{"conversations": [{"from": "human", "value": f"Q{i}?"}], "chosen": {"from": "gpt", "value": "Yes."},
             "rejected": {"from": "gpt", "value": "No."}} for i in range(3)]
    source, target = write_jsonl(tmp_path / "sharegpt.jsonl", rows), tmp_path / "out.jsonl"
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(target)],
                       monkeypatch, capsys)
    assert code == 0, err
    scored = [json.loads(line) for line in target.read_text().splitlines()]
    same = next(iter(load_pairs(write_jsonl(tmp_path / "trl.jsonl", [{"prompt": "Q0?", "chosen": "Yes.",
                                                                        "rejected": "No."}]))))
    expected = rewardkit.load(tiny_bert).score(list(same.samples())).rewards
    assert [scored[0]["reward_chosen"], scored[0]["reward_rejected"]] == pytest.approx(expected, abs=1e-6)
