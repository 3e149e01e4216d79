"""A family added from this one module, with no other file touched: registered with one `register` call, it
loads through `rewardkit.load`, scores files (`score_jsonl` and `rewardkit score`) and is evaluated by
`rewardkit eval`, both from a saved folder and from a spec `toy:overlap`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Sequence

import pytest

import rewardkit
from rewardkit import families
from rewardkit.errors import ModelLoadError
from rewardkit.families import registry
from rewardkit.models.base import Scores
from rewardkit.scale.batch_scoring import score_jsonl
from tests.helpers import run_cli, write_jsonl


@dataclass
class ToyOptions:
    weight: float = 1.0
    """Reward per prompt word the response repeats."""


class OverlapModel:
    """Reward = weight × the number of distinct prompt words the response repeats (it reads the prompt)."""

    family = "toy"

    def __init__(self, options: ToyOptions):
        self.options = options

    def score(self, batch: Sequence[rewardkit.Sample], batch_size: int | None = None) -> Scores:
        def overlap(sample):
            prompt = {w for m in sample.prompt for w in m.content.lower().split()}
            return self.options.weight * len(prompt & set(sample.response.lower().split()))
        return Scores([overlap(s) for s in batch])

    def parameter_count(self) -> int | None:
        return 0

    def save(self, path: Path) -> Path:
        path.mkdir(parents=True)
        (path / "rewardkit.json").write_text(json.dumps({"family": "toy", "options": asdict(self.options)}))
        return path


def load_toy(path: str, **overrides) -> OverlapModel:
    values = {**json.loads((Path(path) / "rewardkit.json").read_text())["options"], **overrides}
    return OverlapModel(ToyOptions(**values))


def build_toy(kind: str, **options) -> OverlapModel:
    known = {f.name for f in fields(ToyOptions)}
    return OverlapModel(ToyOptions(**{k: v for k, v in options.items() if k in known}))


PAIRS = [  # chosen repeats more of the prompt in 3 of 4 pairs
    {"prompt": "name a red fruit", "chosen": "a red fruit: cherry", "rejected": "blue"},
    {"prompt": "what colour is the sky", "chosen": "the sky is blue", "rejected": "green"},
    {"prompt": "count to three", "chosen": "one two three", "rejected": "count to three: 1 2 3"},
    {"prompt": "say hello twice", "chosen": "hello hello", "rejected": "bye"},
]


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTERED", dict(registry._REGISTERED))  # forgotten after the test
    return families.register(families.Family(name="toy", options=ToyOptions, load=load_toy, kinds=("overlap",),
                                             build=build_toy))


def test_a_registered_family_loads_scores_and_evaluates(toy, tmp_path, monkeypatch, capsys):
    folder = OverlapModel(ToyOptions(weight=2.0)).save(tmp_path / "toy-model")
    model = rewardkit.load(str(folder))
    assert isinstance(model, OverlapModel) and model.options.weight == 2.0
    assert "toy" in families.names() and families.is_spec("toy:overlap")

    pairs = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    report = score_jsonl(model, str(pairs), str(tmp_path / "scored.jsonl"))
    scored = [json.loads(line) for line in (tmp_path / "scored.jsonl").read_text().splitlines()]
    assert report.pairs == 4 and [row["reward_chosen"] for row in scored] == [4.0, 6.0, 2.0, 2.0]

    code, _, err = run_cli(["score", "--model", str(folder), "--input", str(pairs), "--output",
                            str(tmp_path / "cli.jsonl")], monkeypatch, capsys)
    assert code == 0, err
    assert (tmp_path / "cli.jsonl").read_text() == (tmp_path / "scored.jsonl").read_text()

    for spec in (str(folder), "toy:overlap"):
        out = tmp_path / f"eval-{spec.replace('/', '_').replace(':', '_')}"
        code, _, err = run_cli(["eval", "--model", spec, "--suite", str(pairs), "--out", str(out)], monkeypatch,
                               capsys)
        assert code == 0, err
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["accuracy"]["accuracy"] == 0.75 and metrics["parameters"] == 0
        assert (out / "report.html").is_file()


def test_the_registry_names_what_exists_and_refuses_what_does_not(toy, tmp_path, monkeypatch, capsys):
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "rewardkit.json").write_text(json.dumps({"family": "nope"}))
    with pytest.raises(ModelLoadError, match="unknown reward-model family 'nope'; known: implicit, judge, multi, "
                                             "process, scalar, toy"):
        rewardkit.load(str(tmp_path / "odd"))
    data = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    code, _, err = run_cli(["train", "--kind", "toy", "--data", str(data), "--out", str(tmp_path / "run")],
                           monkeypatch, capsys)
    assert code == 2 and ("unknown family 'toy' (key 'family'); trainable: implicit, judge, multi, process, "
                          "scalar") in err


def test_from_name_passes_load_options_to_a_folder_and_refuses_them_for_a_spec(toy, tmp_path):
    from rewardkit.errors import ConfigError

    folder = OverlapModel(ToyOptions(weight=2.0)).save(tmp_path / "toy-model")
    assert families.from_name(str(folder), load_options={"weight": 5.0}).options.weight == 5.0
    assert families.from_name(str(folder)).options.weight == 2.0
    with pytest.raises(ConfigError, match="weight apply to a saved model folder, not to the spec toy:overlap"):
        families.from_name("toy:overlap", load_options={"weight": 5.0})
