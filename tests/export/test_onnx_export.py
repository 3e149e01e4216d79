"""ONNX export: the exported folder loads as a `scalar` model run by ONNX Runtime and scores like the PyTorch
model (fp32 to 1e-5, int8 closely), through the library and through `rewardkit export` / `rewardkit score`."""

import json

import pytest

import rewardkit
from rewardkit import Sample
from rewardkit.data.schemas import as_conversation
from rewardkit.errors import ModelLoadError
from rewardkit.export import export_onnx, int8_scheme, probe
from rewardkit.export.int8_scheme import cpu_record, pair_sums_saturate, scheme_for
from rewardkit.export.probe import probe_samples
from rewardkit.models import scalar
from rewardkit.models.onnx_scalar import OnnxScalarRewardModel
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
    assert isinstance(exported, OnnxScalarRewardModel) and exported.family == "scalar"  # a way to run a scalar model
    torch_model = scalar.load(tiny_llama, max_length=64)
    assert exported.parameter_count() == torch_model.parameter_count() > 0
    expected = torch_model.score(SAMPLES)
    for batch_size in (1, 2, 5):
        got = exported.score(SAMPLES, batch_size=batch_size)
        assert got.rewards == pytest.approx(expected.rewards, abs=1e-5)
        assert got.truncated == expected.truncated == 1
    left = rewardkit.load(str(folder), max_length=64, padding_side="left")
    assert left.score(SAMPLES, batch_size=5).rewards == pytest.approx(expected.rewards, abs=1e-5)


def test_manifest_records_the_family_options_and_export(llama_onnx, tiny_llama):
    folder, _ = llama_onnx
    manifest = json.loads((folder / "rewardkit.json").read_text())
    assert manifest["family"] == "scalar" and manifest["onnx"]["int8"] is False
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


def test_graph_runs_stay_within_the_token_budget_and_score_the_same(tiny_bert, tmp_path, monkeypatch):
    from rewardkit.models import onnx_scalar

    export_onnx(tiny_bert, tmp_path / "bert-fp32", int8=False)
    exported = rewardkit.load(str(tmp_path / "bert-fp32"), max_length=64)
    unbudgeted = exported.score(SAMPLES * 4, batch_size=20).rewards
    widths = []
    run = exported.session.run
    monkeypatch.setattr(exported.session, "run",
                        lambda out, feed: widths.append(feed["input_ids"].shape) or run(out, feed), raising=False)
    monkeypatch.setattr(onnx_scalar, "BATCH_TOKENS", 100)
    assert exported.score(SAMPLES * 4, batch_size=20).rewards == pytest.approx(unbudgeted, abs=1e-5)
    assert len(widths) > 1 and all(rows * width <= 100 or rows == 1 for rows, width in widths)


@pytest.fixture(scope="module")
def bert_int8(tiny_bert, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "bert-int8"
    return out, export_onnx(tiny_bert, out, int8=True)


def test_int8_quantises_the_first_third_of_the_feed_forward_down_projections_per_token(bert_int8):
    import onnx

    folder, report = bert_int8
    ops = [node.op_type for node in onnx.load(str(folder / "model.onnx")).graph.node]
    # 2 layers × (Q, K, V, attention output, FFN up, FFN down) + pooler + classifier = 14 projections;
    # layer 0's FFN down-projection is quantised per token (QuantizeLinear on axis 0), the rest per batch
    assert len(report.row_quantised_nodes) == 1 and ops.count("QuantizeLinear") == 1
    assert ops.count("MatMulInteger") + ops.count("DynamicQuantizeMatMul") == 14
    assert ops.count("MatMul") + ops.count("Gemm") == 0
    manifest = json.loads((folder / "rewardkit.json").read_text())
    assert manifest["onnx"]["row_quantised_nodes"] == report.row_quantised_nodes


def test_int8_manifest_records_the_scheme_this_cpu_gets_and_the_cpu(bert_int8):
    folder, report = bert_int8
    onnx_record = json.loads((folder / "rewardkit.json").read_text())["onnx"]
    assert onnx_record["int8_scheme"] == scheme_for(pair_sums_saturate()).name == report.int8_scheme
    assert onnx_record["cpu"] == cpu_record()
    assert 0 < onnx_record["max_abs_difference"] <= onnx_record["allowed_difference"]
    probe = json.loads((folder / "probe.json").read_text())
    assert len(probe["reference_outputs"]) == len(probe["inputs"]["input_ids"]) == len(probe_samples())
    card = (folder / "README.md").read_text()  # the folder's model card says the same
    assert f"`{report.int8_scheme}` range" in card and cpu_record()["cpu"] in card and "library_name: rewardkit" in card


def test_int8_beyond_the_tolerance_is_an_error_and_writes_nothing(tiny_bert, tmp_path, monkeypatch):
    monkeypatch.setattr(probe, "INT8_TOLERANCE", 0.0)
    with pytest.raises(ModelLoadError, match=r"int8 graph \(u8s.\ weights\) differs .* nothing was written"):
        export_onnx(tiny_bert, tmp_path / "out", int8=True)
    assert not (tmp_path / "out").exists()


ANOTHER_CPU = {"cpu": "Another CPU", "isa": "AVX2"}


def copy_of(folder, tmp_path):
    import shutil

    return shutil.copytree(folder, tmp_path / "copy")


def test_another_cpu_rechecks_the_probe_at_load_and_refuses_a_graph_that_drifts(bert_int8, tmp_path, monkeypatch):
    folder = copy_of(bert_int8[0], tmp_path)
    here = rewardkit.load(str(folder)).score(SAMPLES).rewards
    monkeypatch.setattr(int8_scheme, "cpu_record", lambda: {**ANOTHER_CPU, "u8s8_saturates": False})
    assert rewardkit.load(str(folder)).score(SAMPLES).rewards == here  # same kernels' answer: loads
    record = json.loads((folder / "probe.json").read_text())
    record["reference_outputs"] = [[value + 1.0 for value in row] for row in record["reference_outputs"]]
    (folder / "probe.json").write_text(json.dumps(record))
    with pytest.raises(ModelLoadError, match="on this CPU .*Another CPU.* differs .* re-export it on this machine"):
        rewardkit.load(str(folder))
    monkeypatch.setattr(int8_scheme, "cpu_record", cpu_record)
    rewardkit.load(str(folder))  # the CPU it was checked on does not re-check


def test_eight_bit_weights_are_refused_on_a_cpu_whose_kernels_saturate(tiny_bert, tmp_path, monkeypatch):
    if pair_sums_saturate():
        pytest.skip("this CPU cannot export u8s8 (its kernels saturate); test_emulated_cpus covers the refusal")
    export_onnx(tiny_bert, tmp_path / "u8s8", int8=True, int8_scheme="u8s8")
    monkeypatch.setattr(int8_scheme, "cpu_record", lambda: {**ANOTHER_CPU, "u8s8_saturates": True})
    with pytest.raises(ModelLoadError, match="u8s8.* is wrong on this CPU .*--int8-scheme u8s7"):
        rewardkit.load(str(tmp_path / "u8s8"))


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


def test_only_a_pytorch_scalar_model_exports(llama_onnx, tmp_path):
    folder, _ = llama_onnx
    with pytest.raises(ModelLoadError, match="already an ONNX export; export the PyTorch model it came from"):
        export_onnx(folder, tmp_path / "again")
    (tmp_path / "implicit").mkdir()
    (tmp_path / "implicit" / "rewardkit.json").write_text(json.dumps({"family": "implicit", "options": {}}))
    with pytest.raises(ModelLoadError, match="only scalar models export to ONNX, this is 'implicit'"):
        export_onnx(tmp_path / "implicit", tmp_path / "out")
    assert not (tmp_path / "again").exists() and not (tmp_path / "out").exists()
