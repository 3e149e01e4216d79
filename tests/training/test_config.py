"""Configs: YAML < options < key=value overrides; loop keys plus the keys of the chosen family and objective;
unknown keys, wrong types and keys of another family are errors naming the key."""

import dataclasses
from pathlib import Path

import pytest

from rewardkit.errors import ConfigError
from rewardkit.families import load_train_config, train_config
from rewardkit.families.registry import objective_table
from rewardkit.training import config as config_module
from rewardkit.training.config import TrainConfig
from rewardkit.training.implicit_tasks import DpoOptions
from rewardkit.training.scalar_recipe import PairwiseOptions


def test_precedence_and_types(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("learning_rate: 1.0e-5\nbatch_size: 8\nobjective: bt-margin\ncentering: 0.5\n")
    config = load_train_config(str(path), ["batch_size=4", "epochs=2"], objective="scaled-bt", data=None)
    assert config.learning_rate == 1e-5
    assert config.batch_size == 4 and config.epochs == 2.0
    assert config.objective == "scaled-bt"
    assert config.options == PairwiseOptions(centering=0.5)


def test_unknown_key_in_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("learning_rat: 1.0e-5\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown key 'learning_rat'"):
        load_train_config(str(path))


def test_unknown_override_and_wrong_type():
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        load_train_config(None, ["bogus=1"])
    with pytest.raises(ConfigError, match="batch_size' expects int, got 'many'"):
        load_train_config(None, ["batch_size=many"])
    with pytest.raises(ConfigError, match="lora_rank' expects int, got 'x'"):
        load_train_config(None, ["family=implicit", "lora_rank=x"])
    with pytest.raises(ConfigError, match="not key=value"):
        load_train_config(None, ["batch_size"])


def test_a_key_of_another_family_or_objective_is_an_error_naming_it():
    with pytest.raises(ConfigError, match=r"key 'beta' does not apply to family 'scalar' \(objective 'bt'\); it is "
                                          r"read by: implicit dpo, process implicit-ce, process implicit-dpo"):
        train_config({"family": "scalar", "beta": "0.3"})
    with pytest.raises(ConfigError, match=r"key 'centering' does not apply to family 'scalar' \(objective "
                                          r"'regression'\); it is read by: scalar bt"):
        train_config({"objective": "regression", "centering": 0.1})
    with pytest.raises(ConfigError, match=r"key 'lora_rank' does not apply to family 'process' \(objective "
                                          r"'step-bce'\)"):
        train_config({"family": "process", "objective": "step-bce", "lora_rank": 4})
    with pytest.raises(ConfigError, match=r"unknown family 'nonesuch' \(key 'family'\); trainable: implicit, "
                                          r"judge, multi, process"):
        train_config({"family": "nonesuch"})


def test_each_family_defaults_to_its_first_objective_and_records_only_what_applied():
    implicit = train_config({"family": "implicit", "beta": "0.2"})
    assert implicit.objective == "dpo" and implicit.options == DpoOptions(beta=0.2)
    record = implicit.to_dict()
    assert record["beta"] == 0.2 and "centering" not in record and "step_separator" not in record
    assert set(record) == {f.name for f in dataclasses.fields(TrainConfig)} - {"options"} | {
        f.name for f in dataclasses.fields(DpoOptions)}
    assert train_config({"family": "process"}).objective == "implicit-ce"
    assert train_config({}).objective == "bt"


def test_config_module_documents_every_key():
    """config.py's table names every key of every family and objective (their meaning sits under each field)."""
    documented = config_module.__doc__
    for family, table in objective_table().items():
        for objective, options in table.items():
            assert objective in documented, (family, objective)
            for field in dataclasses.fields(options):
                assert field.name in documented, (family, objective, field.name)
    source = Path(config_module.__file__).read_text()
    for field in dataclasses.fields(TrainConfig):  # each loop key has a docstring under its field
        assert source.split(f"    {field.name}: ")[1].split("\n")[1].strip().startswith('"""'), field.name
