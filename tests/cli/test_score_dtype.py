"""`rewardkit score --dtype bf16`: bf16 rewards near the fp32 ones where the CPU has native bf16; a clear error
(exit 2, one line) where it has not."""

import json

import pytest

from rewardkit.machine import supports_bf16
from tests.cli.test_cli import PAIR_ROWS
from tests.helpers import run_cli as run, write_jsonl


def rewards(path):
    return [value for line in path.read_text().splitlines() for key, value in json.loads(line).items()
            if key.startswith("reward")]


@pytest.mark.skipif(not supports_bf16(), reason="this CPU has no native bf16 (AVX-512 BF16 or AMX)")
def test_bf16_scores_near_fp32(tiny_llama, tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS)
    for dtype in ("fp32", "bf16"):
        code, _, err = run(["score", "--model", tiny_llama, "--input", str(source), "--output",
                            str(tmp_path / f"{dtype}.jsonl"), "--dtype", dtype], monkeypatch, capsys)
        assert code == 0, err
    exact, rounded = rewards(tmp_path / "fp32.jsonl"), rewards(tmp_path / "bf16.jsonl")
    assert len(exact) == 7 and exact != rounded
    assert rounded == pytest.approx(exact, abs=0.02 * (max(exact) - min(exact)))


def test_bf16_without_native_support_is_one_clear_error(tiny_llama, tmp_path, monkeypatch, capsys):
    import rewardkit.machine

    monkeypatch.setattr(rewardkit.machine, "supports_bf16", lambda device="cpu": False)
    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS)
    code, _, err = run(["score", "--model", tiny_llama, "--input", str(source), "--output", str(tmp_path / "o.jsonl"),
                        "--dtype", "bf16"], monkeypatch, capsys)
    assert code == 2 and "dtype bf16 needs native bf16" in err
