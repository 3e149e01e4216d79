"""`rewardkit eval --model judge:pairwise --backend openai --base-url …` against a local OpenAI-compatible test
server, beside a scalar model: accuracy with CIs, the judge's rates and costs, the null-model section for both,
judgements.jsonl, and the generated-tokens axis of the accuracy-vs-cost plot."""

from __future__ import annotations

import json

from rewardkit.evaluation.null_model import NULL_RESPONSE
from rewardkit.synth import suite
from tests.helpers import run_cli as run
from tests.models.openai_fake import serving


def shorter_wins(prompt: str) -> str:
    """A consistent judge with a known bias: the shorter response wins."""
    a = prompt.split("Response A:\n")[1].split("\n\nResponse B:")[0]
    b = prompt.split("Response B:\n")[1].split("\n\nAnswer with")[0]
    return "Verdict: A" if len(a) <= len(b) else "Verdict: B"


def test_pairwise_judge_through_an_openai_compatible_server(tiny_bert, tmp_path, monkeypatch, capsys):
    out = tmp_path / "judged"
    with serving(shorter_wins) as (url, state):
        code, stdout, err = run(["eval", "--model", "judge:pairwise", "--model", tiny_bert, "--backend", "openai",
                                 "--base-url", url, "--suite", "verifiable", "--n", "1", "--out", str(out),
                                 "--judge-option", "concurrency=2"], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    pairs = [sp.pair for sp in suite.build_suite(1, suite.DEFAULT_SEED)]
    expected = sum(len(p.chosen) < len(p.rejected) for p in pairs) / len(pairs)  # equal lengths tie: A wins twice
    assert metrics["accuracy"]["accuracy"] == expected and metrics["accuracy"]["ci_low"] <= expected
    judge = metrics["judge"]
    assert judge["backend"] == "openai" and judge["generator"] == "fake-judge"
    assert judge["unparseable_rate"] == 0.0 and judge["outputs"] == 2 * len(pairs)
    assert judge["position_consistency"] == sum(len(p.chosen) != len(p.rejected) for p in pairs) / len(pairs)
    assert metrics["generated_tokens_per_pair"] == 4.0  # "Verdict: A" is 2 words, 2 orders
    null_wins = sum(len(NULL_RESPONSE) < len(p.chosen) for p in pairs) / len(pairs)
    assert metrics["null_model"]["win_rate"] == null_wins and metrics["null_model"]["n"] == len(pairs)
    assert "null_model" in metrics["by_model"][tiny_bert]  # the scalar model beside it
    rows = {m["name"]: m for m in metrics["models"]}
    assert rows[tiny_bert]["generated_tokens_per_pair"] == 0.0 and rows["judge:pairwise"]["unparseable_rate"] == 0
    assert {r["temperature"] for r in state.requests} == {0.0} and {r["seed"] for r in state.requests} == {0}
    judged = [json.loads(line) for line in (out / "judgements.jsonl").read_text().splitlines()]
    assert len(judged) == len(pairs) and "[chosen as B]\nVerdict:" in judged[0]["text"]
    assert "Judge position consistency" in stdout and "Null-model win rate" in stdout
    html = (out / "report.html").read_text()
    assert "Judge unparseable rate" in html and "Accuracy vs cost" in html


def test_a_judge_on_some_sections_of_the_verifiable_suite(tmp_path, monkeypatch, capsys):
    out = tmp_path / "judged"
    with serving(shorter_wins) as (url, state):
        code, _, err = run(["eval", "--model", "judge:pairwise", "--backend", "openai", "--base-url", url, "--suite",
                            "verifiable", "--n", "2", "--sections", "reasoning,safety", "--out", str(out)],
                           monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    pairs = [sp.pair for sp in suite.build_suite(2, suite.DEFAULT_SEED, ["reasoning", "safety"])]
    assert len(pairs) == 10 and set(metrics["sections"]) == {"reasoning", "safety"}
    assert metrics["suite"]["sections_run"] == ["reasoning", "safety"] and metrics["suite"]["pairs"] == 10
    assert metrics["null_model"]["n"] == 5  # the first pair of each of the 5 subsets
    assert len(state.requests) == 2 * (10 + 5) and metrics["judge"]["outputs"] == 20


def test_judge_options_need_a_judge_spec(tiny_bert, tmp_path, monkeypatch, capsys):
    code, _, err = run(["eval", "--model", tiny_bert, "--backend", "openai", "--out", str(tmp_path / "x")],
                       monkeypatch, capsys)
    assert code == 2 and "apply to judge specs" in err
    code, _, err = run(["eval", "--model", "judge:pairwise", "--judge-option", "colour=red", "--out",
                        str(tmp_path / "y")], monkeypatch, capsys)
    assert code == 2 and "unknown judge option(s) ['colour']" in err
