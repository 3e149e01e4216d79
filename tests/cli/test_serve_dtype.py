"""`rewardkit serve --dtype bf16`: the server scores in bf16 where the CPU has native bf16 (what offline bf16
scoring gives, near the fp32 rewards); the error `rewardkit score --dtype bf16` gives where it has not."""

import pytest

import rewardkit
from rewardkit.data.schemas import Sample
from rewardkit.machine import supports_bf16
from tests.helpers import run_cli as run

ITEMS = [{"prompt": "What is 2+2?", "response": "4"}, {"prompt": "Name a colour.", "response": "Blue, I think."},
         {"prompt": "Say hello.", "response": "Hello there, friend! " * 20}]


def served_rewards(args, monkeypatch, capsys) -> list[float]:
    """Start `rewardkit serve ARGS` in this process with uvicorn replaced by a test client; /v1/score ITEMS."""
    import uvicorn
    from fastapi.testclient import TestClient

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: apps.append(app))
    code, _, err = run(["serve", *args], monkeypatch, capsys)
    assert code == 0 and len(apps) == 1, err
    with TestClient(apps[0]) as client:
        return client.post("/v1/score", json={"items": ITEMS}).json()["rewards"]


@pytest.mark.skipif(not supports_bf16(), reason="this CPU has no native bf16 (AVX-512 BF16 or AMX)")
def test_serve_bf16_scores_as_offline_bf16_near_fp32(tiny_llama, monkeypatch, capsys):
    exact = served_rewards(["--model", tiny_llama], monkeypatch, capsys)
    rounded = served_rewards(["--model", tiny_llama, "--dtype", "bf16"], monkeypatch, capsys)
    offline = rewardkit.load(tiny_llama, dtype="bf16").score(
        [Sample.from_text(item["prompt"], item["response"]) for item in ITEMS]).rewards
    assert rounded == pytest.approx(offline, abs=1e-5) and rounded != exact
    assert rounded == pytest.approx(exact, abs=0.02 * (max(exact) - min(exact)))


def test_serve_bf16_without_native_support_is_the_score_error(tiny_llama, monkeypatch, capsys):
    import rewardkit.machine

    monkeypatch.setattr(rewardkit.machine, "supports_bf16", lambda device="cpu": False)
    code, _, err = run(["serve", "--model", tiny_llama, "--dtype", "bf16"], monkeypatch, capsys)
    assert code == 2 and "dtype bf16 needs native bf16" in err


def test_serve_dtype_is_checked_and_needs_a_model_folder(monkeypatch, capsys):
    code, _, err = run(["serve", "--model", "x", "--dtype", "fp16"], monkeypatch, capsys)
    assert code == 2 and "dtype must be one of fp32, bf16" in err
    if supports_bf16():
        code, _, err = run(["serve", "--model", "implicit:dpo", "--dtype", "bf16"], monkeypatch, capsys)
        assert code == 2 and "not to the spec implicit:dpo" in err
