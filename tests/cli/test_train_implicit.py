"""`rewardkit train --kind implicit --objective dpo` trains a DPO policy on pairs and saves a loadable
implicit reward model that names the reference it was trained against."""

import json
import sys
from pathlib import Path

import rewardkit
from rewardkit.cli.app import main
from rewardkit.models.tiny_lm import save_tiny_causal_lm


def test_train_implicit_dpo_from_the_cli(tmp_path, monkeypatch, capsys):
    backbone = save_tiny_causal_lm(tmp_path / "tiny_lm", seed=0)
    reference = save_tiny_causal_lm(tmp_path / "tiny_ref", seed=1)
    rows = [{"prompt": f"Name thing {i}.", "chosen": f"thing {i} is fine", "rejected": "no"} for i in range(6)]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "dpo"
    monkeypatch.setattr(sys, "argv", [
        "rewardkit", "train", "--kind", "implicit", "--objective", "dpo", "--data", str(data), "--backbone", backbone,
        "--reference", reference, "--out", str(out), "max_steps=2", "batch_size=2", "eval_fraction=0.34",
        "max_length=32",
    ])
    try:
        main()
    except SystemExit as exit_:
        assert exit_.code in (0, None), capsys.readouterr().err
    model = rewardkit.load(str(out / "model"))
    assert model.family == "implicit" and model.options.kind == "dpo"
    recorded = json.loads((out / "train_config.json").read_text())
    assert model.options.beta == recorded["beta"] == 0.1  # β unset: the documented DPO default, recorded as trained
    assert "centering" not in recorded and "step_separator" not in recorded  # only the keys that applied
    assert Path(model.options.reference) == Path(reference).resolve()
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert len(log) == 2 and "eval_accuracy" in log[-1]
    assert len(model.score([rewardkit.Sample.from_text("Name thing 9.", "thing 9 is fine")]).rewards) == 1
