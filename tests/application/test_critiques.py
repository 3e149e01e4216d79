"""`rewardkit critique` / application.critiques: reference critiques for the cloud objective, generated through a
backend (a scripted one, and the OpenAI-compatible test server), kept where rows have them, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardkit.application.critiques import CritiqueSettings, write_critiques
from rewardkit.errors import DataError
from rewardkit.models.backends import Usage
from rewardkit.scale.partial_output import partial_path
from rewardkit.training.judge_tasks import CloudOptions, read_critiqued_pairs
from tests.helpers import run_cli as run, write_jsonl
from tests.models.openai_fake import serving


def critic_reply(prompt: str) -> str:
    """A critic that checks the sum in "What is a + b?" against the response."""
    question = prompt.split("Request:\n")[1].split("\n")[0]
    response = prompt.split("Response:\n")[1].strip()
    a, b = (int(x) for x in question.removeprefix("What is ").removesuffix("?").split(" + "))
    return "Correct sum." if response.endswith(f"= {a + b}.") else f"Wrong: the sum is {a + b}."


class Critic:
    name, model = "scripted", "critic"

    def __init__(self):
        self.prompts, self.usage, self.calls = [], Usage(), 0

    def generate(self, prompts, *, max_tokens, temperature=0.0, n=1, seed=0, logprobs=False):
        self.calls += 1
        self.prompts += list(prompts)
        return [["" if "= 0." in p else critic_reply(p)] for p in prompts]


ROWS = [{"prompt": f"What is {a} + {b}?", "chosen": f"{a} + {b} = {a + b}.", "rejected": f"{a} + {b} = {a + b + 1}.",
         "id": f"row{a}"} for a, b in [(1, 2), (3, 4), (5, 6), (7, 8), (2, 2)]]


def read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_critiques_are_written_for_both_sides_and_kept_where_given(tmp_path):
    rows = [dict(r) for r in ROWS]
    rows[1]["chosen_critique"] = "Given by a person."
    rows[4]["rejected"] = "2 + 2 = 0."  # the critic answers nothing for it
    source, out = write_jsonl(tmp_path / "pairs.jsonl", rows), tmp_path / "critiqued.jsonl"
    critic = Critic()
    report = write_critiques(critic, str(source), str(out), CritiqueSettings(block_rows=2))
    written = read(out)
    assert [r["id"] for r in written] == [r["id"] for r in ROWS]  # rows in order, other fields kept
    assert written[0]["chosen_critique"] == "Correct sum." and written[0]["rejected_critique"] == "Wrong: the sum is 3."
    assert written[1]["chosen_critique"] == "Given by a person."
    assert written[4]["rejected_critique"] == ""
    assert (report.rows, report.generated, report.kept, report.empty) == (5, 9, 1, 1)
    assert critic.calls == 3 and len(critic.prompts) == 9  # blocks of 2 rows: 2 + 2 + 1
    assert "Critique the response" in critic.prompts[0] and "What is 1 + 2?" in critic.prompts[0]
    # the output is training data for the cloud objective; the empty critique is left for the model to write
    pairs = read_critiqued_pairs(str(out), CloudOptions())
    assert pairs[0].rejected_critique == "Wrong: the sum is 3." and pairs[4].rejected_critique is None


def test_a_resumed_run_appends_only_the_missing_rows(tmp_path):
    source, out = write_jsonl(tmp_path / "pairs.jsonl", ROWS), tmp_path / "critiqued.jsonl"
    write_critiques(Critic(), str(source), str(tmp_path / "whole.jsonl"), CritiqueSettings(block_rows=2))
    whole = (tmp_path / "whole.jsonl").read_text().splitlines(keepends=True)
    partial_path(out).write_text("".join(whole[:3]) + whole[3][:10])  # killed while writing row 4
    critic = Critic()
    report = write_critiques(critic, str(source), str(out), CritiqueSettings(block_rows=2), resume=True)
    assert out.read_text() == "".join(whole) and not partial_path(out).exists()
    assert report.resumed_rows == 3 and report.rows == 2
    assert len(critic.prompts) == 6  # rows 3-4 again (the block row 4 is in, same neighbours), then row 5
    assert (report.generated, report.kept) == (4, 0)  # rows 4-5 only: row 3's were written before


def test_a_bad_row_is_named(tmp_path):
    source = write_jsonl(tmp_path / "pairs.jsonl", [ROWS[0], {"prompt": "x", "chosen": "y"}])
    with pytest.raises(DataError, match=r"pairs.jsonl.*line 2.*'rejected'"):
        write_critiques(Critic(), str(source), str(tmp_path / "out.jsonl"))


def test_broken_rows_are_skipped_with_their_reason_and_resumed_runs_keep_them(tmp_path):
    lines = [json.dumps(ROWS[0]), json.dumps({"prompt": "x", "chosen": "y"}), json.dumps(ROWS[1]), "{broken",
             json.dumps(ROWS[2])]
    source = tmp_path / "pairs.jsonl"
    source.write_text("\n".join(lines) + "\n")
    whole, resumed = tmp_path / "whole.jsonl", tmp_path / "resumed.jsonl"
    critic = Critic()
    report = write_critiques(critic, str(source), str(whole), CritiqueSettings(block_rows=2), on_bad_rows="skip")
    assert [r["id"] for r in read(whole)] == ["row1", "row3", "row5"] and len(critic.prompts) == 6
    assert (report.rows, report.skipped, report.generated) == (5, 2, 6)
    skipped = [json.loads(line) for line in Path(report.skipped_path).read_text().splitlines()]
    assert [(r["line"], r["reason"][:25]) for r in skipped] == [(2, "field 'rejected': missing"),
                                                               (4, "malformed JSON: Expecting")]

    class Killed(Critic):  # the run dies in its second block's generate call, after the first block is written
        def generate(self, prompts, **kwargs):
            if self.calls == 1:
                raise KeyboardInterrupt
            return super().generate(prompts, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        write_critiques(Killed(), str(source), str(resumed), CritiqueSettings(block_rows=2), on_bad_rows="skip")
    assert len(partial_path(resumed).read_text().splitlines()) == 2  # row 1 and row 2's skipped-row marker
    report = write_critiques(Critic(), str(source), str(resumed), CritiqueSettings(block_rows=2), resume=True,
                             on_bad_rows="skip")
    assert resumed.read_text() == whole.read_text() and (report.resumed_rows, report.skipped) == (2, 2)
    assert (tmp_path / "resumed.skipped_rows.jsonl").read_text() == (tmp_path / "whole.skipped_rows.jsonl").read_text()


def test_the_critique_command_through_an_openai_compatible_server(tmp_path, monkeypatch, capsys):
    source, out = write_jsonl(tmp_path / "pairs.jsonl", ROWS), tmp_path / "critiqued.jsonl"
    with serving(critic_reply) as (url, state):
        code, _, err = run(["critique", "--input", str(source), "--output", str(out), "--backend", "openai",
                            "--base-url", url, "--judge-option", "max_tokens=40", "--chunk-rows", "2"],
                           monkeypatch, capsys)
    assert code == 0, err
    written = read(out)
    assert [r["rejected_critique"] for r in written] == [f"Wrong: the sum is {a + b}." for a, b in
                                                        [(1, 2), (3, 4), (5, 6), (7, 8), (2, 2)]]
    assert {r["chosen_critique"] for r in written} == {"Correct sum."}
    assert len(state.requests) == 10 and {r["max_tokens"] for r in state.requests} == {40}
    assert {r["model"] for r in state.requests} == {"fake-judge"}
    assert "10 critiques generated (0 empty), 0 kept" in err and "openai:fake-judge" in err


def test_the_critique_command_names_a_missing_base_url(tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    code, _, err = run(["critique", "--input", str(source), "--output", str(tmp_path / "o.jsonl"), "--backend",
                        "openai"], monkeypatch, capsys)
    assert code == 2 and "the openai backend needs base_url" in err


def test_the_critique_command_with_a_local_lm(tmp_path, monkeypatch, capsys):
    from rewardkit.models.tiny_lm import SIMPLE_CHAT_TEMPLATE, save_tiny_causal_lm

    lm = save_tiny_causal_lm(tmp_path / "lm", chat_template=SIMPLE_CHAT_TEMPLATE)
    rows = [dict(r) for r in ROWS[:2]]
    rows[0]["rejected_critique"] = "Off by one."
    source, out = write_jsonl(tmp_path / "pairs.jsonl", rows), tmp_path / "critiqued.jsonl"
    code, _, err = run(["critique", "--input", str(source), "--output", str(out), "--model", lm,
                        "--judge-option", "max_tokens=3"], monkeypatch, capsys)
    assert code == 0, err
    written = read(out)
    assert written[0]["rejected_critique"] == "Off by one."
    assert all(isinstance(r[k], str) for r in written for k in ("chosen_critique", "rejected_critique"))
    assert "3 critiques generated" in err and "1 kept" in err and f"transformers:{lm}" in err
