"""The training max_length default: the backbone's own limit (its tokenizer's and position embeddings'), at most
1024 as in TRL's RewardConfig. A fixed 256 cut about 1 in 6 samples of real conversation data."""

import pytest
import torch

from rewardkit.errors import ConfigError
from rewardkit.families import build_task, train_config
from rewardkit.models.tiny_lm import save_tiny_causal_lm
from tests.helpers import write_jsonl

ROWS = [{"prompt": f"question {i}?", "chosen": f"a helpful answer {i}", "rejected": f"no {i}"} for i in range(12)]


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return str(write_jsonl(tmp_path_factory.mktemp("max_length") / "pairs.jsonl", ROWS))


@pytest.fixture(scope="module")
def long_context_llama(tmp_path_factory, minilm_tokenizer):
    """A decoder classifier that reads 4,096 positions, with a tokenizer that sets no limit of its own."""
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=minilm_tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, intermediate_size=64,
                         max_position_embeddings=4096, num_labels=1, pad_token_id=minilm_tokenizer.pad_token_id)
    folder = tmp_path_factory.mktemp("long_llama")
    LlamaForSequenceClassification(config).save_pretrained(folder)
    from transformers import AutoTokenizer

    from rewardkit.models.defaults import minilm_path

    AutoTokenizer.from_pretrained(minilm_path(), model_max_length=int(1e30)).save_pretrained(folder)  # no limit,
    return str(folder)  # as SmolLM2's tokenizer says


@pytest.mark.parametrize("backbone, expected", [("tiny_bert", 512), ("long_context_llama", 1024)])
def test_scalar_training_reads_up_to_the_backbones_limit(backbone, expected, pairs, request):
    config = train_config({"backbone": request.getfixturevalue(backbone), "data": pairs})
    assert config.max_length is None
    task = build_task(config)
    assert task.model.options.max_length == expected == config.max_length  # train_config.json records it


def test_a_given_max_length_is_kept(tiny_bert, pairs):
    config = train_config({"backbone": tiny_bert, "data": pairs, "max_length": 64})
    assert build_task(config).model.options.max_length == 64


def test_a_regression_head_and_a_policy_read_up_to_their_limit(tmp_path, long_context_llama):
    rated = write_jsonl(tmp_path / "rated.jsonl", [{"prompt": "q", "response": "r", "helpfulness": 3}] * 8)
    config = train_config({"backbone": long_context_llama, "data": str(rated), "objective": "regression"})
    assert build_task(config).model.options.max_length == 1024
    policy = save_tiny_causal_lm(tmp_path / "policy", seed=0)  # 512 positions
    pairs = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    config = train_config({"family": "implicit", "backbone": policy, "data": str(pairs)})
    task = build_task(config)
    assert config.max_length == 512 and task.policy.encoder.max_length == 512


def test_training_on_from_a_saved_model_keeps_its_max_length(tiny_bert, pairs, tmp_path):
    from rewardkit.models import scalar

    scalar.load(tiny_bert, max_length=100).save(tmp_path / "saved")
    config = train_config({"data": pairs, "init": str(tmp_path / "saved")})
    assert build_task(config).model.options.max_length == 100 == config.max_length
    config = train_config({"data": pairs, "init": str(tmp_path / "saved"), "max_length": 0})
    with pytest.raises(ConfigError, match="'max_length' must be at least 1, got 0"):
        build_task(config)
