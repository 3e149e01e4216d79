"""`--weights` on `rewardkit score`, `eval`, `explain` and `serve`: on a tiny multi model whose default gate prefers
a curt answer, `safety:0` makes every command prefer the full one; bad specs and non-multi models are errors
that name what is wrong, before any model loads."""

from __future__ import annotations

import json

import pytest

from tests.helpers import preference_flipping_multi, run_cli, write_jsonl


@pytest.fixture(scope="module")
def flip(tiny_bert, tmp_path_factory):
    folder = tmp_path_factory.mktemp("flip")
    model, first, second = preference_flipping_multi(tiny_bert, folder / "model")
    row = {"prompt": first.prompt[-1].content, "chosen": first.response, "rejected": second.response}
    pairs = write_jsonl(folder / "pairs.jsonl", [{**row, "subset": s} for s in ("a", "a", "b", "b")])
    return str(model), pairs


def _scored(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_score_prefers_the_other_answer_when_safety_is_steered_off(flip, tmp_path, monkeypatch, capsys):
    model, pairs = flip
    for weights, full_answer_wins in ((None, False), ("safety:0", True), ("helpfulness:=1,safety:=0", True),
                                      ("safety:3", False)):
        out = tmp_path / f"{weights}.jsonl"
        code, _, err = run_cli(["score", "--model", model, "--input", str(pairs), "--output", str(out)]
                               + (["--weights", weights] if weights else []), monkeypatch, capsys)
        assert code == 0, err
        for row in _scored(out):
            assert (row["reward_chosen"] > row["reward_rejected"]) is full_answer_wins, (weights, row)


def test_eval_and_explain_follow_the_steering(flip, tmp_path, monkeypatch, capsys):
    model, pairs = flip
    accuracy = {}
    for weights in (None, "safety:0"):
        out = tmp_path / f"eval-{weights}"
        code, _, err = run_cli(["eval", "--model", model, "--suite", str(pairs), "--out", str(out)]
                               + (["--weights", weights] if weights else []), monkeypatch, capsys)
        assert code == 0, err
        metrics = json.loads((out / "metrics.json").read_text())
        accuracy[weights] = metrics["accuracy"]["accuracy"]
        assert metrics["attributes"].get("steering") == weights
        assert ("Gate steered by weights safety:0" in (out / "report.html").read_text()) is (weights is not None)
    assert accuracy == {None: 0.0, "safety:0": 1.0}

    code, _, err = run_cli(["explain", "--model", model, "--input", str(pairs), "--output", str(tmp_path / "e.jsonl"),
                            "--weights", "safety:0"], monkeypatch, capsys)
    assert code == 0, err
    chosen, rejected = _scored(tmp_path / "e.jsonl")[0]["explanations"]
    assert chosen["reward"] > rejected["reward"] and chosen["attributes"]["safety"]["weight"] == 0.0


@pytest.mark.parametrize("command", ["score", "eval", "explain"])
def test_bad_weights_and_non_multi_models_are_errors_naming_the_problem(command, flip, tiny_bert, tmp_path,
                                                                        monkeypatch, capsys):
    model, pairs = flip
    where = {"score": ["--input", str(pairs), "--output", str(tmp_path / "o.jsonl")],
             "eval": ["--suite", str(pairs), "--out", str(tmp_path / "eval")],
             "explain": ["--input", str(pairs)]}[command]
    for target, weights, message in (
            (model, "honesty:2", "steering names unknown attribute 'honesty'; known: helpfulness, safety, verbosity"),
            (model, "safety:lots", "steering weight for 'safety' must be a finite number"),
            (tiny_bert, "safety:0", f"--weights steers the gate of a multi-objective model (family multi); "
                                    f"{tiny_bert} is not a rewardkit model folder")):
        code, _, err = run_cli([command, "--model", target, *where, "--weights", weights], monkeypatch, capsys)
        assert code == 2 and message in err, err
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "eval").exists()


def test_serve_steers_the_model_it_serves(flip, tiny_bert, monkeypatch, capsys):
    import uvicorn

    from rewardkit.serving import app as serving

    model, _ = flip
    served = {}
    real_create_app = serving.create_app

    def create_app(reward_model, settings):
        served["model"] = reward_model
        return real_create_app(reward_model, settings)

    monkeypatch.setattr(serving, "create_app", create_app)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.setdefault("app", app))
    code, _, err = run_cli(["serve", "--model", model, "--weights", "safety:0"], monkeypatch, capsys)
    assert code == 0, err
    assert served["model"].steering == {"safety": ("scale", 0.0)} and "app" in served
    code, _, err = run_cli(["serve", "--model", tiny_bert, "--weights", "safety:0"], monkeypatch, capsys)
    assert code == 2 and "--weights steers the gate of a multi-objective model" in err
