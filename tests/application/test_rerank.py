"""`rewardkit rerank`: the best candidate by the model's own rewards, --n, adaptive budgets, bad rows, resume."""

import json

import pytest

import rewardkit
from rewardkit.data.schemas import Sample, as_conversation
from tests.helpers import PositionRoundingModel, run_cli, write_jsonl

ROWS = [
    {"prompt": "What is 2+2?", "candidates": ["4", "5", "It is four.", "22"], "id": "a"},
    {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}],
     "candidates": ["Hi!", "Go away.", "Hello there, how can I help?"], "id": "b"},
    {"prompt": "Name a fruit", "candidates": ["An apple.", "A chair."], "id": "c", "source": "x"},
] * 3


def rerank(args, monkeypatch, capsys):
    code, _, err = run_cli(["rerank", *args], monkeypatch, capsys)
    return code, " ".join(err.split())


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_best_candidate_by_the_models_rewards(tiny_bert, tmp_path, monkeypatch, capsys):
    source, target = write_jsonl(tmp_path / "in.jsonl", ROWS), tmp_path / "best.jsonl"
    code, err = rerank(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--batch-size", "3",
                        "--chunk-rows", "4"], monkeypatch, capsys)
    assert code == 0, err
    assert "kept the best candidate of 9 prompts" in err and "27 candidates scored (fixed budget)" in err
    model = rewardkit.load(tiny_bert)
    for row, out in zip(ROWS, read(target)):
        expected = model.score([Sample(as_conversation(row["prompt"]), c) for c in row["candidates"]]).rewards
        assert out["rewards"] == pytest.approx(expected, abs=1e-5)
        assert out["index"] == max(range(len(expected)), key=expected.__getitem__)
        assert out["response"] == row["candidates"][out["index"]] and out["reward"] == out["rewards"][out["index"]]
        assert out["prompt"] == row["prompt"] and out["id"] == row["id"] and "candidates" not in out
    assert read(target)[2]["source"] == "x"


def test_n_scores_the_first_n_candidates(tiny_bert, tmp_path, monkeypatch, capsys):
    source, target = write_jsonl(tmp_path / "in.jsonl", ROWS), tmp_path / "best.jsonl"
    code, err = rerank(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--n", "2"],
                       monkeypatch, capsys)
    assert code == 0, err
    assert [len(r["rewards"]) for r in read(target)] == [2, 2, 2] * 3 and "18 candidates scored" in err


def test_adaptive_keeps_the_fixed_total_and_needs_n(tiny_bert, tmp_path, monkeypatch, capsys):
    source, target = write_jsonl(tmp_path / "in.jsonl", ROWS), tmp_path / "best.jsonl"
    code, err = rerank(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--adaptive"],
                       monkeypatch, capsys)
    assert code == 2 and "--adaptive needs --n" in err and not target.exists()
    for rule in ("lowest-best", "spread"):
        code, err = rerank(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--n", "3",
                            "--adaptive", "--rule", rule, "--chunk-rows", "9"], monkeypatch, capsys)
        assert code == 0, err
        assert "24 candidates scored (adaptive, " + rule in err  # Σ min(3, pool) = 3 + 3 + 2 per three rows
        rewards = [r["rewards"] for r in read(target)]
        assert sum(map(len, rewards)) == 24 and min(map(len, rewards)) >= 2


def test_a_bad_row_names_file_line_and_field_or_is_skipped(tiny_bert, tmp_path, monkeypatch, capsys):
    rows = ROWS[:2] + [{"prompt": "x", "candidates": ["ok", 3]}, {"prompt": "y", "candidates": []}] + ROWS[2:3]
    source, target = write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "best.jsonl"
    code, err = rerank(["--model", tiny_bert, "--input", str(source), "--output", str(target)], monkeypatch, capsys)
    assert code == 2 and f"file {source}, line 3, field 'candidates[1]': must be a string or an assistant" in err
    assert not target.exists()
    code, err = rerank(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--on-bad-rows",
                        "skip"], monkeypatch, capsys)
    assert code == 0, err
    assert [r["id"] for r in read(target)] == ["a", "b", "c"] and "2 broken rows skipped" in err
    skipped = read(tmp_path / "best.skipped_rows.jsonl")
    assert [(s["line"], s["reason"]) for s in skipped] == [
        (3, "field 'candidates[1]': must be a string or an assistant message ({role: assistant, content}, alone or "
            "in a list of one), got number"),
        (4, "field 'candidates': 0 responses; at least 1 needed")]


def test_resume_continues_a_partial_output_to_the_same_file(tiny_bert, tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    whole, resumed = tmp_path / "whole.jsonl", tmp_path / "resumed.jsonl"
    args = ["--model", tiny_bert, "--input", str(source), "--n", "3", "--adaptive", "--chunk-rows", "4"]
    assert rerank([*args, "--output", str(whole)], monkeypatch, capsys)[0] == 0
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    # killed in the middle of the second block, part-way through its second row's line
    (tmp_path / "resumed.jsonl.partial").write_text("".join(lines[:5]) + lines[5][:17], encoding="utf-8")
    code, err = rerank([*args, "--output", str(resumed), "--resume"], monkeypatch, capsys)
    assert code == 0, err
    assert "resumed after 5 rows" in err
    assert resumed.read_bytes() == whole.read_bytes()


def test_resumed_progress_starts_at_the_rows_already_written(tiny_bert, tmp_path):
    from rewardkit.application.rerank import rerank_jsonl

    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    model, output = rewardkit.load(tiny_bert), tmp_path / "out.jsonl"
    rerank_jsonl(model, str(source), str(output), block_rows=4)
    lines = output.read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "again.jsonl.partial").write_text("".join(lines[:6]), encoding="utf-8")
    progress: list[int] = []
    rerank_jsonl(model, str(source), str(tmp_path / "again.jsonl"), block_rows=4, resume=True,
                 on_rows=progress.append)
    assert progress[0] == 6 and sum(progress) == len(ROWS)


def test_a_chunk_of_broken_rows_only_and_both_response_keys(tiny_bert, tmp_path, monkeypatch, capsys):
    rows = [{"prompt": "x", "candidates": ["a"], "responses": ["b"]}, {"prompt": "y"}] + ROWS[:1]
    source, target = write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "best.jsonl"
    code, err = rerank(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--chunk-rows", "2",
                        "--on-bad-rows", "skip"], monkeypatch, capsys)
    assert code == 0, err
    assert [r["id"] for r in read(target)] == ["a"]
    assert [s["reason"] for s in read(tmp_path / "best.skipped_rows.jsonl")] == [
        "field 'candidates': given beside 'responses': keep one of the two",
        "field 'responses': missing: the row needs 'responses' (or 'candidates'), a list of response strings"]


def test_identical_candidates_are_scored_once_and_share_one_reward(tmp_path):
    from rewardkit.application.rerank import rerank_jsonl

    rows = [{"prompt": "Pick", "candidates": ["mid", "longest", "mid", "longest", "x"]},
            {"prompt": "Echo", "candidates": ["same", "same", "same"]}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    model, target = PositionRoundingModel(), tmp_path / "best.jsonl"
    report = rerank_jsonl(model, str(source), str(target))
    first, second = (row["rewards"] for row in read(target))
    assert first[0] == first[2] and first[1] == first[3] and second[0] == second[1] == second[2]  # to the bit
    assert first[1] == pytest.approx(7) and second[0] == pytest.approx(4)
    assert [(row["index"], row["response"]) for row in read(target)] == [(1, "longest"), (0, "same")]  # first copy
    assert report.scored == 4 and model.calls == [["mid", "longest", "x", "same"]]
    many = write_jsonl(tmp_path / "many.jsonl", [{"prompt": "Pick", "candidates": ["mid", "longest", "mid", "a", "bb"]},
                                                 {"prompt": "Echo", "candidates": ["same", "same", "same", "q"]}])
    for rule in ("lowest-best", "spread"):  # adaptive rounds: a copy of a candidate scored before is not rescored
        model = PositionRoundingModel()
        rerank_jsonl(model, str(many), str(tmp_path / f"{rule}.jsonl"), n=4, adaptive=rule)
        scored = [text for call in model.calls for text in call]
        assert len(model.calls) > 1 and len(scored) == len(set(scored)), model.calls


def test_candidates_may_be_assistant_messages():
    """A response as an assistant message, or a list of one (TRL's conversational completions), reads as its
    text; any other message list is an error naming the field."""
    from rewardkit.application.candidates import candidate_row
    from rewardkit.errors import DataError

    message = {"role": "assistant", "content": "Blue"}
    parts = {"role": "assistant", "content": [{"type": "text", "text": "Red"}]}
    row = candidate_row({"prompt": "Colour?", "responses": ["Green", message, [message], [parts]]}, file="f", line=3)
    assert row.responses == ["Green", "Blue", "Blue", "Red"]
    for bad, field, reason in [({"role": "user", "content": "x"}, "responses[0]", "an assistant message"),
                               ([message, message], "responses[0]", "an assistant message"),
                               ({"role": "assistant", "content": None}, "responses[0].content", "got null")]:
        with pytest.raises(DataError) as error:
            candidate_row({"prompt": "Colour?", "responses": [bad]}, file="f", line=3)
        assert error.value.field == field and reason in str(error.value), str(error.value)
