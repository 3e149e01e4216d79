"""`rewardkit annotate`: TRL pairs by reward, margin mode, ties, bad rows, and exactly-once output across kills."""

import json
import random
import signal
from pathlib import Path

import pytest

import rewardkit
from rewardkit.application.annotate import pair_indices
from rewardkit.data.formats import trl_pair
from rewardkit.data.schemas import Sample, as_conversation
from tests.helpers import ForkingLauncher, PositionRoundingModel, run_cli, write_jsonl

ROWS = [
    {"prompt": "What is 2+2?", "responses": ["4", "5", "It is four."], "id": 0},
    {"prompt": [{"role": "user", "content": "Say hi"}], "responses": ["Hi!", "Go away.", "Hello, how can I help?"],
     "id": 1},
    {"prompt": "Name a fruit", "responses": ["An apple.", "A chair."], "id": 2, "source": "x"},
    {"prompt": "Echo", "responses": ["same", "same", "same"], "id": 3},  # every reward equal: a tie
]


def annotate(args, monkeypatch, capsys):
    code, _, err = run_cli(["annotate", *args], monkeypatch, capsys)
    return code, " ".join(err.split())


def read(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_pair_indices_by_hand():
    assert pair_indices([0.1, 0.5, -0.2]) == [(1, 2)]
    assert pair_indices([0.5, 0.1, 0.5, 0.1]) == [(0, 1)]  # first of equal bests and of equal worsts
    assert pair_indices([0.3, 0.3]) == [] and pair_indices([0.3, 0.3], "margin", 0.0) == []
    assert pair_indices([0.0, 1.0, 0.6], "margin", 0.5) == [(1, 0), (2, 0)]  # gaps 1.0 and 0.6; 0.4 is not > 0.5
    assert pair_indices([0.0, 1.0], "margin", 1.0) == []  # the gap must exceed the margin


def test_best_worst_pairs_in_trl_format_with_scores(tiny_bert, tmp_path, monkeypatch, capsys):
    source, target = write_jsonl(tmp_path / "in.jsonl", ROWS), tmp_path / "pairs.jsonl"
    code, err = annotate(["--model", tiny_bert, "--input", str(source), "--output", str(target)], monkeypatch, capsys)
    assert code == 0, err
    assert "3 pairs from 4 prompts" in err and "1 ties" in err
    pairs = read(target)
    assert [p["id"] for p in pairs] == [0, 1, 2]
    model = rewardkit.load(tiny_bert)
    for pair, row in zip(pairs, ROWS):
        rewards = model.score([Sample(as_conversation(row["prompt"]), r) for r in row["responses"]]).rewards
        assert pair["chosen_index"] == max(range(len(rewards)), key=rewards.__getitem__)
        assert pair["rejected_index"] == min(range(len(rewards)), key=rewards.__getitem__)
        assert pair["score_chosen"] == pytest.approx(rewards[pair["chosen_index"]], abs=1e-5)
        assert pair["margin"] == pair["score_chosen"] - pair["score_rejected"] > 0
        assert "responses" not in pair and pair["prompt"] == row["prompt"]
        parsed = trl_pair(pair)  # rewardkit's own TRL reader takes the row, margin included
        assert parsed.chosen == row["responses"][pair["chosen_index"]] and parsed.margin == pair["margin"]
    assert isinstance(pairs[0]["chosen"], str)
    assert pairs[1]["chosen"] == [{"role": "assistant", "content": ROWS[1]["responses"][pairs[1]["chosen_index"]]}]
    assert pairs[2]["source"] == "x"


def test_margin_mode_keeps_every_pair_whose_gap_exceeds_it(tiny_bert, tmp_path, monkeypatch, capsys):
    source, target = write_jsonl(tmp_path / "in.jsonl", ROWS), tmp_path / "pairs.jsonl"
    code, err = annotate(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--mode", "margin",
                          "--margin", "0"], monkeypatch, capsys)
    assert code == 0, err
    everything = read(target)
    assert len(everything) == 3 + 3 + 1  # every ordered pair with a positive gap: 3 of 3 responses, 1 of 2
    gaps = sorted(p["margin"] for p in everything)
    cut = (gaps[2] + gaps[3]) / 2
    code, err = annotate(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--mode", "margin",
                          "--margin", str(cut)], monkeypatch, capsys)
    assert code == 0, err
    assert sorted(p["margin"] for p in read(target)) == gaps[3:]
    code, err = annotate(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--margin", "1"],
                         monkeypatch, capsys)
    assert code == 2 and "--margin X goes with --mode margin" in err


def test_bad_rows_name_file_line_and_field_or_are_skipped(tiny_bert, tmp_path, monkeypatch, capsys):
    rows = ROWS[:1] + [{"prompt": "x", "responses": ["only one"]}, {"responses": ["a", "b"]}] + ROWS[1:2]
    source, target = write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "pairs.jsonl"
    code, err = annotate(["--model", tiny_bert, "--input", str(source), "--output", str(target)], monkeypatch, capsys)
    assert code == 2 and f"file {source}, line 2, field 'responses': 1 response; at least 2 needed" in err
    assert not target.exists()
    code, err = annotate(["--model", tiny_bert, "--input", str(source), "--output", str(target), "--on-bad-rows",
                          "skip"], monkeypatch, capsys)
    assert code == 0, err
    assert [p["id"] for p in read(target)] == [0, 1] and "2 broken rows skipped" in err
    assert [(s["line"], s["reason"]) for s in read(tmp_path / "pairs.skipped_rows.jsonl")] == [
        (2, "field 'responses': 1 response; at least 2 needed"), (3, "field 'prompt': missing (the row has: "
                                                                         "responses)")]


KILLABLE = r"""
import pathlib, signal

import rewardkit.application.annotate  # noqa: F401  what `rewardkit annotate` imports, imported here once
import rewardkit.families.scalar  # noqa: F401  torch: the CLI itself imports it lazily
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: F401
from rewardkit.cli.app import main

real_open, real_unlink = pathlib.Path.open, pathlib.Path.unlink


def attempt(args, limit=-1, kill_at_finish=False):
    class Sink:
        # a .partial file that SIGKILLs its process once `limit` characters are written (mid-line, as likely as not)
        def __init__(self, handle):
            self.handle, self.left = handle, limit

        def write(self, text):
            if len(text) >= self.left:
                self.handle.write(text[: self.left])
                self.handle.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            self.left -= len(text)
            return self.handle.write(text)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    def open_(self, mode="r", *a, **kw):
        handle = real_open(self, mode, *a, **kw)
        return Sink(handle) if limit >= 0 and self.name.endswith(".partial") and mode == "a" else handle

    def unlink(self, *a, **kw):
        if kill_at_finish and self.name.endswith(".partial") and self.exists():
            os.kill(os.getpid(), signal.SIGKILL)  # OUTPUT written, the .partial file not yet deleted
        return real_unlink(self, *a, **kw)

    pathlib.Path.open, pathlib.Path.unlink = open_, unlink
    sys.argv = ["rewardkit", *args]
    main()
"""


def test_killed_at_random_points_and_resumed_writes_every_row_exactly_once(tiny_bert, tmp_path, monkeypatch, capsys):
    """SIGKILL after a random number of characters of OUTPUT.partial (fixed seed; the kills fall mid-line and
    between lines, in several blocks) and once while finishing; each rerun resumes (each attempt a process of
    its own, forked from one that imported rewardkit). The result is the uninterrupted run's output, byte for
    byte, skipped rows included."""
    rows = [{"prompt": f"Question {i}?", "responses": [f"Answer {i}.", f"No idea about {i}", "Maybe."][: 2 + i % 2],
             "id": i} for i in range(22)]
    rows[9] = {"prompt": "broken", "responses": "not a list", "id": 9}
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    args = ["--model", tiny_bert, "--input", str(source), "--chunk-rows", "4", "--batch-size", "3",
            "--mode", "margin", "--margin", "0", "--on-bad-rows", "skip"]
    whole, killed = tmp_path / "whole.jsonl", tmp_path / "killed.jsonl"
    code, err = annotate([*args, "--output", str(whole)], monkeypatch, capsys)
    assert code == 0, err
    assert sorted({p["id"] for p in read(whole)}) == [i for i in range(22) if i != 9]

    rng = random.Random(18)
    plan = [{"limit": rng.randrange(1, 2000)} for _ in range(4)] + [{"kill_at_finish": True}, {}]
    partial_sizes = []
    with ForkingLauncher(KILLABLE, tmp_path / "attempts.log") as launcher:
        for attempt, kill in enumerate(plan):
            code = launcher.run(args=["annotate", *args, "--output", str(killed), *(["--resume"] if attempt else [])],
                                **kill)
            if not kill:
                assert code == 0, launcher.stderr()[-3000:]
                break
            assert code == -signal.SIGKILL, launcher.stderr()[-3000:]
            partial_sizes.append(Path(f"{killed}.partial").stat().st_size)
    assert killed.exists() and len(set(partial_sizes)) >= 4, partial_sizes
    assert killed.read_bytes() == whole.read_bytes()
    assert (tmp_path / "killed.skipped_rows.jsonl").read_bytes() == (tmp_path / "whole.skipped_rows.jsonl").read_bytes()
    assert not Path(f"{killed}.partial").exists()


def test_identical_responses_get_one_reward_never_a_pair_and_all_alike_is_a_tie(tmp_path):
    from rewardkit.application.annotate import annotate_jsonl

    rows = [{"prompt": "Echo", "responses": ["same", "same", "same"]},
            {"prompt": "Pick", "responses": ["short", "a longer one", "short"]}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    for mode, margin in (("best-worst", None), ("margin", 0.0)):
        model, target = PositionRoundingModel(), tmp_path / f"{mode}.jsonl"
        report = annotate_jsonl(model, str(source), str(target), mode=mode, margin=margin)
        pairs = read(target)
        assert report.ties == 1 and report.pairs == len(pairs)
        assert [(p["prompt"], p["chosen"], p["rejected"]) for p in pairs] == [("Pick", "a longer one", "short")] * (
            1 if mode == "best-worst" else 2)  # margin mode: over each copy of "short", both at one reward
        assert len({p["score_rejected"] for p in pairs}) == 1
        assert model.calls == [["same", "short", "a longer one"]]  # each distinct response of a prompt once
