"""Options that do not make sense are refused before the model is loaded (a large model can take minutes to
load): with --model naming no folder at all, the error is still the one about the option, and no output exists."""

import pytest

from tests.helpers import run_cli, write_jsonl

ROW = {"prompt": "Hi", "candidates": ["Hello!", "Go away."], "responses": ["Hello!", "Go away."]}
CASES = [
    (["rerank", "--adaptive"], "--adaptive needs --n"),
    (["rerank", "--n", "0"], "--n must be at least 1, got 0"),
    (["rerank", "--n", "2", "--adaptive", "--rule", "widest"], "unknown adaptive rule 'widest'"),
    (["rerank", "--on-bad-rows", "drop"], "--on-bad-rows must be one of error, skip, got 'drop'"),
    (["annotate", "--mode", "margin"], "--margin X goes with --mode margin"),
    (["annotate", "--mode", "all"], "--mode must be one of"),
    (["annotate", "--mode", "margin", "--margin", "-1"], "--margin must be a number ≥ 0, got -1"),
    (["annotate", "--on-bad-rows", "drop"], "--on-bad-rows must be one of error, skip, got 'drop'"),
    (["score", "--on-bad-rows", "drop"], "--on-bad-rows must be one of error, skip, got 'drop'"),
    (["critique", "--on-bad-rows", "drop"], "--on-bad-rows must be one of error, skip, got 'drop'"),  # the critic
]


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(args) for args, _ in CASES])
def test_a_bad_option_is_named_before_the_model_is_loaded(args, message, tmp_path, monkeypatch, capsys):
    source, target = write_jsonl(tmp_path / "in.jsonl", [ROW]), tmp_path / "out.jsonl"
    command, options = args[0], args[1:]
    code, _, err = run_cli([command, "--model", str(tmp_path / "no-such-model"), "--input", str(source),
                            "--output", str(target), *options], monkeypatch, capsys)
    assert code == 2 and message in err and "no-such-model" not in err, err
    assert not target.exists()
