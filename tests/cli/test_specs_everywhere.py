"""`score`, `rerank` and `annotate` take a model spec with `--policy / --reference / --beta`, as `eval` and
`serve` do (they took saved folders only: `--model implicit:simpo` was looked up as a hub id)."""

from __future__ import annotations

import json

import pytest

from rewardkit import families
from rewardkit.data.schemas import Sample
from rewardkit.models.tiny_lm import save_tiny_causal_lm
from tests.helpers import run_cli as run, write_jsonl


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    root = tmp_path_factory.mktemp("spec_lms")
    return str(save_tiny_causal_lm(root / "policy", seed=0)), str(save_tiny_causal_lm(root / "reference", seed=1))


def test_score_builds_a_spec_over_the_policy_and_reference_given(lms, tmp_path, monkeypatch, capsys):
    policy, reference = lms
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "What is 2+2?", "response": "4"},
                                                 {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "No."}])
    target = tmp_path / "out.jsonl"
    code, _, err = run(["score", "--model", "implicit:dpo", "--policy", policy, "--reference", reference, "--beta",
                        "0.5", "--input", str(source), "--output", str(target)], monkeypatch, capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    expected = families.build("implicit:dpo", policy=policy, reference=reference, beta=0.5).score(
        [Sample.from_text("What is 2+2?", "4"), Sample.from_text("Say hi.", "Hi!"), Sample.from_text("Say hi.", "No.")])
    assert [rows[0]["reward"], rows[1]["reward_chosen"], rows[1]["reward_rejected"]] == pytest.approx(
        expected.rewards, abs=1e-6)


def test_rerank_and_annotate_take_a_spec(lms, tmp_path, monkeypatch, capsys):
    policy, _ = lms
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "Name a colour.", "responses": ["Blue.", "A dog.", "Red"]}])
    code, _, err = run(["rerank", "--model", "implicit:simpo", "--policy", policy, "--input", str(source),
                        "--output", str(tmp_path / "best.jsonl")], monkeypatch, capsys)
    assert code == 0, err
    best = json.loads((tmp_path / "best.jsonl").read_text())
    rewards = families.build("implicit:simpo", policy=policy).score(
        [Sample.from_text("Name a colour.", r) for r in ("Blue.", "A dog.", "Red")]).rewards
    assert best["index"] == max(range(3), key=lambda i: rewards[i]) and best["rewards"] == pytest.approx(rewards)
    code, _, err = run(["annotate", "--model", "implicit:simpo", "--policy", policy, "--input", str(source),
                        "--output", str(tmp_path / "pairs.jsonl")], monkeypatch, capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "pairs.jsonl").read_text().splitlines()[0])["chosen"] == best["response"]


@pytest.mark.parametrize("args, message", [
    (["--model", "implicit:dpo", "--policy", "POLICY"], "needs a reference model (--reference)"),
    (["--model", "implicit:simpo", "--normalize"], "normalize apply to a saved model folder, not to the spec"),
    (["--model", "implicit:simpo", "--normalize", "--engine", "ray"], "normalize apply to a saved model folder"),
])
def test_spec_errors_name_the_option(args, message, lms, tmp_path, monkeypatch, capsys):
    args = [lms[0] if arg == "POLICY" else arg for arg in args]
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "Q", "response": "A"}])
    code, _, err = run(["score", *args, "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
                       monkeypatch, capsys)
    assert code == 2 and message in err, err


def test_a_folder_takes_no_spec_options(tiny_bert, tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "Q", "response": "A"}])
    code, _, err = run(["score", "--model", tiny_bert, "--policy", "smollm2", "--input", str(source), "--output",
                        str(tmp_path / "o.jsonl")], monkeypatch, capsys)
    assert code == 2 and "policy apply to a model spec such as implicit:dpo, not to the folder" in err


def test_rewardkit_load_builds_a_spec(lms):
    import rewardkit

    policy, reference = lms
    loaded = rewardkit.load("implicit:dpo", policy=policy, reference=reference, beta=0.5)
    built = families.build("implicit:dpo", policy=policy, reference=reference, beta=0.5)
    samples = [Sample.from_text("What is 2+2?", "4")]
    assert loaded.family == "implicit" and loaded.score(samples).rewards == built.score(samples).rewards


def blue_is_good(prompt: str) -> str:
    """A rubric judge that likes responses saying Blue."""
    return "Score: 9" if "Blue" in prompt else "Score: 2"


def test_score_annotate_and_serve_reach_a_judge_on_an_openai_compatible_server(tmp_path, monkeypatch, capsys):
    """A judge spec with --backend openai --base-url: LLM-judge rewards for a file, for preference annotation and
    behind the HTTP server an RL trainer calls (only eval could reach such a judge before)."""
    import uvicorn
    from fastapi.testclient import TestClient

    from tests.models.openai_fake import serving

    rows = [{"prompt": "Name a colour.", "responses": ["A dog.", "Blue."]}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    with serving(blue_is_good) as (url, state):
        judge = ["--model", "judge:rubric", "--backend", "openai", "--base-url", url]
        code, _, err = run(["annotate", *judge, "--input", str(source), "--output", str(tmp_path / "pairs.jsonl")],
                           monkeypatch, capsys)
        assert code == 0, err
        pair = json.loads((tmp_path / "pairs.jsonl").read_text())
        assert (pair["chosen"], pair["rejected"]) == ("Blue.", "A dog.")

        singles = write_jsonl(tmp_path / "singles.jsonl", [{"prompt": "Name a colour.", "response": r}
                                                           for r in ("A dog.", "Blue.")])
        code, _, err = run(["score", *judge, "--input", str(singles), "--output", str(tmp_path / "s.jsonl")],
                           monkeypatch, capsys)
        assert code == 0, err
        assert [json.loads(line)["reward"] for line in (tmp_path / "s.jsonl").read_text().splitlines()] == [2.0, 9.0]

        apps = []
        monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: apps.append(app))
        code, _, err = run(["serve", *judge, "--port", "0"], monkeypatch, capsys)
        assert code == 0 and len(apps) == 1, err
        with TestClient(apps[0]) as client:
            answer = client.post("/v1/score", json={"items": [{"prompt": "Name a colour.", "response": "Blue."}]})
        assert answer.json()["rewards"] == [9.0]
        assert {request["model"] for request in state.requests} == {"fake-judge"}


def test_judge_options_for_a_model_that_is_not_a_judge_are_refused(tiny_bert, tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "Q", "responses": ["A", "B"]}])
    for command in ("score", "rerank", "annotate"):
        code, _, err = run([command, "--model", tiny_bert, "--backend", "openai", "--input", str(source),
                            "--output", str(tmp_path / "o.jsonl")], monkeypatch, capsys)
        assert code == 2 and "apply to judge specs (judge:KIND)" in err, (command, err)


def test_a_pairwise_judge_is_refused_by_the_server_at_start(tmp_path, monkeypatch, capsys):
    """The server scores responses one at a time; a pairwise judge has no score for one alone, so every request
    of a started server failed with a 400."""
    import uvicorn

    from tests.models.openai_fake import serving

    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: pytest.fail("the server started"))
    with serving(blue_is_good) as (url, _):
        code, _, err = run(["serve", "--model", "judge:pairwise", "--backend", "openai", "--base-url", url, "--port",
                            "0"], monkeypatch, capsys)
    assert code == 2 and "scores one response at a time" in err and "judge:rubric" in err, err
