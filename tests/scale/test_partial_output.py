"""OUTPUT.partial: torn lines cut on resume, markers counted, and a run killed while finishing finishes again."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from rewardkit.scale.partial_output import append_chunks, complete_lines, finish, marker_line, skipped_rows_path


def test_complete_lines_cuts_a_torn_line_and_counts_markers(tmp_path):
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text(marker_line({"line": 1}) + '{"a": 1}\n' + marker_line({"line": 3}) + '{"a": 4', encoding="utf-8")
    assert complete_lines(partial) == (3, 2)
    assert partial.read_text(encoding="utf-8").endswith('"line": 3}}\n')


def test_append_resumes_after_the_rows_done_and_discards_without_resume(tmp_path):
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text('{"a": 0}\n{"a": 1}\n{"a"', encoding="utf-8")
    seen = []

    def chunks(done):
        seen.append(done)
        return [SimpleNamespace(text=f'{{"a": {done}}}\n', rows=1)]

    assert append_chunks(chunks, partial, resume=True) == (2, 0)
    assert partial.read_text(encoding="utf-8") == '{"a": 0}\n{"a": 1}\n{"a": 2}\n'
    append_chunks(chunks, partial, resume=False)
    assert seen == [2, 0] and partial.read_text(encoding="utf-8") == '{"a": 0}\n'


def test_a_run_killed_while_finishing_finishes_again_to_the_same_files(tmp_path, monkeypatch):
    partial, output = tmp_path / "out.jsonl.partial", tmp_path / "out.jsonl"
    partial.write_text('{"a": 1}\n' + marker_line({"line": 2, "reason": "bad"}) + '{"a": 3}\n', encoding="utf-8")
    real_unlink = Path.unlink

    def killed(self, *args, **kwargs):
        if self == partial:
            raise KeyboardInterrupt  # the moment between writing OUTPUT and deleting the .partial file
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", killed)
    with pytest.raises(KeyboardInterrupt):
        finish(partial, output, skipped=True, expand=lambda line: line.replace("a", "b"))
    assert partial.exists() and complete_lines(partial) == (3, 1)
    monkeypatch.setattr(Path, "unlink", real_unlink)
    assert finish(partial, output, skipped=True, expand=lambda line: line.replace("a", "b")) == str(
        skipped_rows_path(output))
    assert output.read_text(encoding="utf-8") == '{"b": 1}\n{"b": 3}\n' and not partial.exists()
    assert [json.loads(x) for x in skipped_rows_path(output).read_text().splitlines()] == [{"line": 2, "reason": "bad"}]


def test_resumed_scoring_progress_starts_at_the_rows_already_written(tmp_path):
    from rewardkit.scale.batch_scoring import ScoredChunk, write_scored

    output = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").write_text('{"a": 0}\n{"a": 1}\n', encoding="utf-8")
    progress: list[int] = []

    def chunks(done):
        return [ScoredChunk('{"a": %d}\n' % row, 1, 0, 1, 0) for row in range(done, 5)]

    report = write_scored(chunks, str(output), resume=True, on_rows=progress.append)
    assert report.resumed_rows == 2 and progress == [2, 1, 1, 1]
    assert len(output.read_text(encoding="utf-8").splitlines()) == 5


def test_append_tells_on_rows_the_rows_found_written_then_each_chunks(tmp_path):
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text('{"a": 0}\n{"a": 1}\n{"a": 2}\n', encoding="utf-8")
    progress: list[int] = []
    append_chunks(lambda done: [SimpleNamespace(text='{"a": 3}\n{"a": 4}\n', rows=2)], partial, resume=True,
                  on_rows=progress.append)
    assert progress == [3, 2]
    append_chunks(lambda done: [SimpleNamespace(text='{"a": 0}\n', rows=1)], partial, resume=False,
                  on_rows=progress.append)
    assert progress == [3, 2, 1]  # a fresh run starts from nothing


def test_a_resumed_run_stops_when_its_input_changed_and_goes_on_when_not(tmp_path):
    from rewardkit.errors import DataError
    from rewardkit.scale.partial_output import input_record_path

    source, partial = tmp_path / "in.jsonl", tmp_path / "out.jsonl.partial"
    source.write_text('{"x": 0}\n{"x": 1}\n{"x": 2}\n', encoding="utf-8")

    def killed_after_one(done):
        yield SimpleNamespace(text='{"a": 0}\n', rows=1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        append_chunks(killed_after_one, partial, resume=False, input_path=str(source))
    assert json.loads(input_record_path(partial).read_text())["bytes"] == len('{"x": 0}\n')  # its one row

    source.write_text('{"x": 9}\n{"x": 1}\n{"x": 2}\n', encoding="utf-8")  # same size, other first row
    with pytest.raises(DataError, match=r"in\.jsonl.*input changed since .*out\.jsonl\.partial.*without --resume"):
        append_chunks(lambda done: [], partial, resume=True, input_path=str(source))
    assert partial.read_text(encoding="utf-8") == '{"a": 0}\n'  # nothing written is lost

    source.write_text('{"x": 0}\n{"x": 1}\n{"x": 2}\n', encoding="utf-8")  # restored
    rows = lambda done: [SimpleNamespace(text=f'{{"a": {i}}}\n', rows=1) for i in range(done, 3)]  # noqa: E731
    assert append_chunks(rows, partial, resume=True, input_path=str(source)) == (1, 0)
    finish(partial, tmp_path / "out.jsonl", skipped=False)
    assert not input_record_path(partial).exists() and not partial.exists()


def test_a_fresh_run_replaces_the_record_of_an_old_input(tmp_path):
    from rewardkit.scale.partial_output import input_record_path

    source, partial = tmp_path / "in.jsonl", tmp_path / "out.jsonl.partial"
    source.write_text('{"x": 0}\n', encoding="utf-8")
    input_record_path(partial).write_text('{"bytes": 1, "sha256": "old"}', encoding="utf-8")
    partial.write_text('{"a": "old"}\n', encoding="utf-8")
    append_chunks(lambda done: [SimpleNamespace(text='{"a": 0}\n', rows=1)], partial, resume=False,
                  input_path=str(source))
    assert json.loads(input_record_path(partial).read_text())["bytes"] == source.stat().st_size
    assert append_chunks(lambda done: [], partial, resume=True, input_path=str(source)) == (1, 0)


def test_a_resumed_run_goes_back_to_its_last_chunk_and_may_follow_a_row_fixed_after_it(tmp_path):
    """Chunks of two rows. A run stopped by a broken row (in its third chunk) resumes once that row is fixed (rows
    after the record may change); one killed in the middle of writing a chunk drops that chunk's lines and redoes
    it whole; a change to a row before the record stops the resumed run, the .partial file untouched."""
    from rewardkit.errors import DataError
    from rewardkit.scale.partial_output import input_record_path

    source, partial = tmp_path / "in.jsonl", tmp_path / "out.jsonl.partial"
    source.write_text('{"x": 0}\n\n{"x": 1}\n{"x": 2}\n{"x": 3}\n{"x": 4}\n{"x": BROKEN\n', encoding="utf-8")
    starts = []

    def chunks(done, kill_at=None):
        starts.append(done)
        rows = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        for start in range(done, len(rows), 2):
            if start == kill_at:
                with partial.open("a", encoding="utf-8") as handle:
                    handle.write('{"row": 4, "x": {"x": 4}}\n{"row": 5, "x"')  # killed mid-write
                raise KeyboardInterrupt
            if any("BROKEN" in row for row in rows[start:start + 2]):
                raise DataError("malformed JSON", file=str(source), line=7)
            yield SimpleNamespace(text="".join(f'{{"row": {start + i}, "x": {row}}}\n'
                                               for i, row in enumerate(rows[start:start + 2])), rows=2)

    def written():
        return [json.loads(line)["row"] for line in partial.read_text(encoding="utf-8").splitlines()]

    with pytest.raises(DataError, match=r"line 7: malformed JSON \(the 4 rows before its chunk are kept in .*"
                                         r"out\.jsonl\.partial: fix it, then rerun with --resume"):
        append_chunks(chunks, partial, resume=False, input_path=str(source))
    assert written() == [0, 1, 2, 3] and json.loads(input_record_path(partial).read_text())["rows"] == 4
    source.write_text(source.read_text(encoding="utf-8").replace("BROKEN", "5}"), encoding="utf-8")  # fixed
    with pytest.raises(KeyboardInterrupt):
        append_chunks(lambda done: chunks(done, kill_at=4), partial, resume=True, input_path=str(source))
    assert partial.read_text(encoding="utf-8").endswith('{"row": 5, "x"')  # a chunk cut short
    assert append_chunks(chunks, partial, resume=True, input_path=str(source)) == (4, 0)
    assert starts[-1] == 4 and written() == [0, 1, 2, 3, 4, 5]  # the chunk redone whole, after the fixed row

    before = partial.read_bytes()
    source.write_text(source.read_text(encoding="utf-8").replace('{"x": 1}', '{"x": 9}'), encoding="utf-8")
    with pytest.raises(DataError, match=r"in\.jsonl.*first 6 rows.*without --resume"):
        append_chunks(chunks, partial, resume=True, input_path=str(source))
    assert partial.read_bytes() == before
