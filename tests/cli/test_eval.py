"""`rewardkit eval` end to end on tiny models: outputs, LM specs, RewardBench files, several models, errors."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli as run


@pytest.fixture(scope="module")
def tiny_lms(tmp_path_factory):
    from rewardkit.models.tiny_lm import save_tiny_causal_lm

    root = tmp_path_factory.mktemp("tiny_lms")
    return save_tiny_causal_lm(root / "policy", seed=0), save_tiny_causal_lm(root / "reference", seed=1)


def test_verifiable_suite_writes_metrics_and_report(tiny_bert, tmp_path, monkeypatch, capsys):
    out = tmp_path / "eval"
    code, stdout, err = run(["eval", "--model", tiny_bert, "--suite", "verifiable", "--out", str(out), "--n", "1",
                             "--seed", "7"], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    for section in ("chat", "chat-hard", "safety", "reasoning", "length-adversarial"):
        assert {"accuracy", "ci_low", "ci_high", "n"} <= set(metrics["sections"][section])
    assert "longer_is_better" in metrics["length_baseline"] and "ece" in metrics["calibration"]
    assert metrics["suite"]["seed"] == 7 and metrics["suite"]["version"] and metrics["models"][0]["parameters"] > 0
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5 and "Pairwise accuracy" in stdout


def test_implicit_dpo_spec_over_tiny_causal_lms(tiny_lms, tmp_path, monkeypatch, capsys):
    policy, reference = tiny_lms
    out = tmp_path / "dpo"
    code, _, err = run(["eval", "--model", "implicit:dpo", "--policy", policy, "--reference", reference,
                        "--beta", "0.1", "--suite", "verifiable", "--n", "1", "--out", str(out)], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "implicit:dpo" and metrics["accuracy"]["n"] == 25


def test_pairs_file_with_two_models_draws_the_pareto_plot(tiny_bert, tiny_llama, tmp_path, monkeypatch, capsys):
    rows = [{"prompt": "What is 2+2?", "chosen": "4", "rejected": "5", "subset": "maths"},
            {"prompt": "Say hi", "chosen": "Hi!", "rejected": "No.", "subset": "chat"}] * 3
    source = tmp_path / "pairs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "two"
    code, _, err = run(["eval", "--model", tiny_bert, "--model", tiny_llama, "--suite", str(source), "--out", str(out)],
                       monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["sections"]) == {"maths", "chat"} and len(metrics["by_model"]) == 2
    assert "Accuracy vs cost" in (out / "report.html").read_text().split("Not shown")[0]


def test_rewardbench_from_a_local_copy(tiny_bert, tmp_path, monkeypatch, capsys):
    rows = [{"prompt": "p", "chosen": "good answer", "rejected": "bad", "subset": s, "id": i}
            for i, s in enumerate(["alpacaeval-easy", "mt-bench-hard", "refusals-dangerous", "hep-python"])]
    data = tmp_path / "rb.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, stdout, err = run(["eval", "--model", tiny_bert, "--suite", "rewardbench", "--data", str(data),
                             "--out", str(tmp_path / "rb")], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "rb" / "metrics.json").read_text())
    assert "Score" not in metrics["rewardbench"] and metrics["prior_sets_included"] is False
    assert "Score (excl. prior sets)" in metrics["rewardbench"] and metrics["suite"]["version"] == "v1"
    assert "RewardBench Score (excl. prior sets)" in (tmp_path / "rb" / "report.html").read_text()
    assert "Score (excl. prior sets)" in stdout

    prior = tmp_path / "prior.jsonl"
    prior.write_text("".join(json.dumps({"prompt": "p", "chosen": "good answer", "rejected": "bad", "subset": s}) + "\n"
                             for s in ("anthropic_helpful", "anthropic_hhh", "shp", "summarize")))
    code, stdout, err = run(["eval", "--model", tiny_bert, "--suite", "rewardbench", "--data", str(data),
                             "--prior-data", str(prior), "--out", str(tmp_path / "rb2")], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "rb2" / "metrics.json").read_text())
    assert "Score" in metrics["rewardbench"] and metrics["prior_sets_included"] is True
    assert "excl. prior sets" not in stdout


def test_process_suite_with_an_implicit_process_model(tiny_lms, tmp_path, monkeypatch, capsys):
    policy, reference = tiny_lms
    code, _, err = run(["eval", "--model", "process:implicit", "--policy", policy, "--reference", reference,
                        "--suite", "process", "--n", "4", "--out", str(tmp_path / "prm")], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "prm" / "metrics.json").read_text())
    assert "f1" in metrics["first_error"] and "process_min" in metrics["process_best_of_n"]


@pytest.mark.parametrize("args, message", [
    (["--suite", "nonsense"], "unknown suite 'nonsense'"),
    (["--suite", "missing.jsonl"], "missing.jsonl: file not found"),
    (["--suite", "rewardbench", "--data", "nowhere.jsonl"], "nowhere.jsonl: file not found"),
    (["--suite", "rewardbench", "--prior-data", "gone.jsonl"], "gone.jsonl: file not found"),
    (["--suite", "verifiable", "--prior-data", "gone.jsonl"], "--prior-data applies to --suite rewardbench"),
    (["--suite", "verifiable", "--sections", "reasoning,maths"], "unknown verifiable sections ['maths']; known: chat"),
    (["--suite", "process", "--sections", "reasoning"], "--sections applies to --suite verifiable"),
])
def test_bad_suites_give_one_line_errors(args, message, tmp_path, monkeypatch, capsys):
    code, _, err = run(["eval", "--model", "unused", *args, "--out", str(tmp_path / "x")], monkeypatch, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_implicit_rlpr_reads_reference_answers_from_a_pairs_file(tiny_lms, tmp_path, monkeypatch, capsys):
    policy, _ = tiny_lms
    rows = [{"prompt": "What is 2+2?", "chosen": "2+2=4.", "rejected": "2+2=5.", "reference_answer": "4"},
            {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Rome.", "answer": "Paris"},
            {"prompt": "What is 3*3?", "chosen": "9", "rejected": "6", "answer": 9}]
    source = tmp_path / "answered.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "rlpr"
    code, _, err = run(["eval", "--model", "implicit:rlpr", "--policy", policy, "--suite", str(source),
                        "--out", str(out)], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "implicit:rlpr" and metrics["accuracy"]["n"] == 3
    # the same pairs without answers: one line naming what is missing
    source.write_text("".join(json.dumps({k: v for k, v in r.items() if "answer" not in k}) + "\n" for r in rows))
    code, _, err = run(["eval", "--model", "implicit:rlpr", "--policy", policy, "--suite", str(source),
                        "--out", str(out)], monkeypatch, capsys)
    assert code == 2 and "'reference_answer' or 'answer' field); 6 of 6 have none" in err


def test_rlpr_on_the_verifiable_suite_keeps_the_answered_subsets(tiny_lms, tmp_path, monkeypatch, capsys):
    policy, _ = tiny_lms
    out = tmp_path / "rlpr"
    code, _, err = run(["eval", "--model", "implicit:rlpr", "--policy", policy, "--suite", "verifiable", "--n", "1",
                        "--out", str(out)], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["subsets"]) == {"arithmetic", "multi_step_math", "confident_wrong_math", "fact_recall",
                                       "fact_lookup", "confident_wrong_fact"}
    assert "word_limit" in metrics["suite"]["left_out_without_reference_answer"]
    assert metrics["best_of_n"]


def test_eval_combines_rule_rewards(tiny_bert, tmp_path, monkeypatch, capsys):
    rows = [{"prompt": "What is 2+2?", "chosen": "<answer>4</answer>", "rejected": "4"},
            {"prompt": "Say hi", "chosen": "<answer>Hi!</answer>", "rejected": "Hi!"}]
    source = tmp_path / "pairs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "combined"
    code, _, err = run(["eval", "--model", tiny_bert, "--suite", str(source), "--out", str(out), "--combine",
                        "0.001*rm + format"], monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"]["accuracy"] == 1.0  # the format rule decides every pair
    code, _, err = run(["eval", "--model", tiny_bert, "--suite", str(source), "--out", str(out), "--combine",
                        "rm + vibes"], monkeypatch, capsys)
    assert code == 2 and "unknown reward 'vibes'" in err
