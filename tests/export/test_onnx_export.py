"""ONNX export: the exported folder loads as the `onnx` family and scores like the PyTorch model (fp32 to 1e-5,
int8 closely), through the library and through `rewardkit export` / `rewardkit score`."""

import json

import pytest

import rewardkit
from rewardkit import Sample
from rewardkit.data.schemas import as_conversation
from rewardkit.export import export_onnx
from rewardkit.models import scalar
from tests.helpers import run_cli as run, write_jsonl

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


SAMPLES = [
    Sample.from_text("What is 2+2?", "4"),
    Sample.from_text("Name a colour.", "Blue is a colour that many people like a great deal."),
    Sample(as_conversation([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]), "Hello!"),
    Sample.from_text("Tell me a long story about a fox and a hen. " * 3, "Once upon a time there was a fox."),
    Sample.from_text("x", "y " * 200),  # longer than max_length below: truncated the same way
]


@pytest.fixture(scope="module")
def llama_onnx(tiny_llama, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "llama-fp32"
    report = export_onnx(tiny_llama, out, int8=False)
    return out, report


def test_fp32_decoder_export_scores_like_torch(tiny_llama, llama_onnx):
    folder, report = llama_onnx
    assert report.inputs == ["input_ids", "attention_mask"] and report.max_abs_difference < 1e-4
    exported = rewardkit.load(str(folder), max_length=64)
    assert exported.family == "onnx"
    expected = scalar.load(tiny_llama, max_length=64).score(SAMPLES)
    for batch_size in (1, 2, 5):
        got = exported.score(SAMPLES, batch_size=batch_size)
        assert got.rewards == pytest.approx(expected.rewards, abs=1e-5)
        assert got.truncated == expected.truncated == 1
    left = rewardkit.load(str(folder), max_length=64, padding_side="left")
    assert left.score(SAMPLES, batch_size=5).rewards == pytest.approx(expected.rewards, abs=1e-5)


def test_manifest_records_the_family_options_and_export(llama_onnx, tiny_llama):
    folder, _ = llama_onnx
    manifest = json.loads((folder / "rewardkit.json").read_text())
    assert manifest["family"] == "onnx" and manifest["onnx"]["int8"] is False
    assert manifest["onnx"]["last_token_pooling"] is True and manifest["options"]["attributes"] == ["reward"]
    normalized = rewardkit.load(str(folder), normalize=True, reward_mean=1.0, reward_std=2.0)
    raw = rewardkit.load(str(folder)).score(SAMPLES[:2]).rewards
    assert normalized.score(SAMPLES[:2]).rewards == pytest.approx([(r - 1.0) / 2.0 for r in raw], abs=1e-6)


def test_fp32_encoder_export_scores_like_torch(tiny_bert, tmp_path):
    report = export_onnx(tiny_bert, tmp_path / "bert-fp32", int8=False)
    assert report.inputs == ["input_ids", "attention_mask", "token_type_ids"] and report.max_abs_difference < 1e-4
    exported = rewardkit.load(str(tmp_path / "bert-fp32"), max_length=64)
    expected = scalar.load(tiny_bert, max_length=64).score(SAMPLES)
    for batch_size in (1, 2, 5):
        assert exported.score(SAMPLES, batch_size=batch_size).rewards == pytest.approx(expected.rewards, abs=1e-5)


def test_int8_quantises_the_first_third_of_the_feed_forward_down_projections_per_token(tiny_bert, tmp_path):
    import onnx

    report = export_onnx(tiny_bert, tmp_path / "bert-int8", int8=True)
    ops = [node.op_type for node in onnx.load(str(tmp_path / "bert-int8" / "model.onnx")).graph.node]
    # 2 layers × (Q, K, V, attention output, FFN up, FFN down) + pooler + classifier = 14 projections;
    # layer 0's FFN down-projection is quantised per token (QuantizeLinear on axis 0), the rest per batch
    assert len(report.row_quantised_nodes) == 1 and ops.count("QuantizeLinear") == 1
    assert ops.count("MatMulInteger") + ops.count("DynamicQuantizeMatMul") == 14
    assert ops.count("MatMul") + ops.count("Gemm") == 0
    manifest = json.loads((tmp_path / "bert-int8" / "rewardkit.json").read_text())
    assert manifest["onnx"]["row_quantised_nodes"] == report.row_quantised_nodes


def test_cli_int8_export_then_score_the_same_jsonl(tiny_bert, tmp_path, monkeypatch, capsys):
    out = tmp_path / "bert-int8"
    code, _, err = run(["export", "--model", tiny_bert, "--format", "onnx", "--int8", "--out", str(out)],
                       monkeypatch, capsys)
    assert code == 0, err
    assert "int8" in err and json.loads((out / "rewardkit.json").read_text())["onnx"]["int8"] is True
    rows = [{"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}, {"prompt": "Name a fruit", "response": "Pear."}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    outputs = {}
    for name, folder in (("torch", tiny_bert), ("int8", str(out))):
        target = tmp_path / f"{name}.jsonl"
        code, _, err = run(["score", "--model", folder, "--input", str(source), "--output", str(target)],
                           monkeypatch, capsys)
        assert code == 0, err
        outputs[name] = [json.loads(line) for line in target.read_text().splitlines()]
    assert [set(r) for r in outputs["int8"]] == [set(r) for r in outputs["torch"]]
    assert outputs["int8"][0]["reward_chosen"] == pytest.approx(outputs["torch"][0]["reward_chosen"], abs=1e-2)
    assert outputs["int8"][1]["reward"] == pytest.approx(outputs["torch"][1]["reward"], abs=1e-2)


def test_cli_rejects_an_unknown_format(tiny_bert, tmp_path, monkeypatch, capsys):
    code, _, err = run(["export", "--model", tiny_bert, "--format", "tflite", "--out", str(tmp_path / "x")],
                       monkeypatch, capsys)
    assert code == 2 and "--format must be onnx" in err
