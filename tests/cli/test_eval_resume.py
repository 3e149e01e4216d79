"""`rewardkit eval --resume`: an evaluation stopped part-way (Ctrl-C, a judge server that went away) continues
from the chunks it had scored and writes what an uninterrupted run writes; other data or another model starts
afresh, and OUT/.partial is gone once the outputs are written."""

from __future__ import annotations

import json


from rewardkit.models.scalar import ScalarRewardModel
from tests.cli.test_eval_judge import shorter_wins
from tests.helpers import run_cli as run
from tests.models.openai_fake import serving

TIMINGS = ("ms_per_pair", "seconds")
SCORE = ScalarRewardModel.score


def without_timings(value):
    """metrics.json with the wall-clock figures left out (they differ between any two runs)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not any(t in k for t in TIMINGS)}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def metrics(out):
    return without_timings(json.loads((out / "metrics.json").read_text()))


class Counted:
    """ScalarRewardModel.score, counted, interrupted (as by Ctrl-C) at call `stop_at`."""

    def __init__(self, monkeypatch, stop_at: int | None = None):
        self.calls, self.stop_at = 0, stop_at

        def score(model, batch, batch_size=None):
            self.calls += 1
            if self.calls == self.stop_at:
                raise KeyboardInterrupt
            return SCORE(model, batch, batch_size)

        monkeypatch.setattr(ScalarRewardModel, "score", score)


def eval_args(model, out, *extra):
    return ["eval", "--model", model, "--suite", "verifiable", "--n", "2", "--batch-size", "8", "--out", str(out),
            *extra]


def test_an_interrupted_evaluation_resumes_where_it_stopped(tiny_bert, tmp_path, monkeypatch, capsys):
    whole = Counted(monkeypatch)
    code, _, err = run(eval_args(tiny_bert, tmp_path / "whole"), monkeypatch, capsys)
    assert code == 0, err
    assert not (tmp_path / "whole" / ".partial").exists()

    out = tmp_path / "resumed"
    Counted(monkeypatch, stop_at=4)
    code, _, err = run(eval_args(tiny_bert, out), monkeypatch, capsys)
    assert code == 130 and "rerun with --resume" in err
    journals = list((out / ".partial").glob("*.jsonl"))
    assert len(journals) == 1 and len(journals[0].read_text().splitlines()) == 3  # chunks 1-3 finished

    resumed = Counted(monkeypatch)
    code, _, err = run(eval_args(tiny_bert, out, "--resume"), monkeypatch, capsys)
    assert code == 0, err
    assert resumed.calls == whole.calls - 3
    assert metrics(out) == metrics(tmp_path / "whole")
    assert not (out / ".partial").exists()


def test_without_resume_or_with_other_inputs_nothing_is_taken(tiny_bert, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    Counted(monkeypatch, stop_at=3)
    assert run(eval_args(tiny_bert, out), monkeypatch, capsys)[0] == 130
    whole = Counted(monkeypatch)
    assert run(eval_args(tiny_bert, tmp_path / "whole"), monkeypatch, capsys)[0] == 0
    again = Counted(monkeypatch)
    assert run(eval_args(tiny_bert, out), monkeypatch, capsys)[0] == 0  # no --resume: from the start
    assert again.calls == whole.calls

    Counted(monkeypatch, stop_at=3)
    assert run(eval_args(tiny_bert, out), monkeypatch, capsys)[0] == 130
    other = Counted(monkeypatch)
    code, _, err = run(eval_args(tiny_bert, out, "--resume", "--batch-size", "4"), monkeypatch, capsys)
    assert code == 0, err
    assert other.calls > whole.calls  # chunks of another size: all scored again, in chunks of 4


def test_a_judge_resumes_with_its_counters(tmp_path, monkeypatch, capsys):
    """A judge's report (outputs, position consistency, generated tokens) and texts after a resume are those of
    an uninterrupted run: each journaled chunk carries the counters."""
    def args(out, *extra):
        return ["eval", "--model", "judge:pairwise", "--backend", "openai", "--suite", "verifiable", "--n", "1",
                "--batch-size", "4", "--out", str(out), "--judge-option", "max_retries=0", *extra]

    with serving(shorter_wins) as (url, whole_server):
        assert run(args(tmp_path / "whole", "--base-url", url), monkeypatch, capsys)[0] == 0

    answered = []

    def goes_away(prompt: str) -> str:
        if len(answered) >= 20:
            raise ConnectionError("the judge server went away")
        answered.append(prompt)
        return shorter_wins(prompt)

    out = tmp_path / "resumed"
    with serving(goes_away) as (url, _):
        code, _, err = run(args(out, "--base-url", url), monkeypatch, capsys)
    assert code == 2 and "gave up after 1 attempts" in err
    assert f"the chunks scored so far are kept in {out / '.partial'}: rerun with --resume" in " ".join(err.split())
    with serving(shorter_wins) as (url, resumed_server):
        code, _, err = run(args(out, "--base-url", url, "--resume"), monkeypatch, capsys)
    assert code == 0, err
    journaled_pairs = 8  # the two chunks of 4 pairs (16 requests) finished before request 21 failed
    assert len(resumed_server.requests) == len(whole_server.requests) - 2 * journaled_pairs
    assert metrics(out) == metrics(tmp_path / "whole")
    assert (out / "judgements.jsonl").read_text() == (tmp_path / "whole" / "judgements.jsonl").read_text()
