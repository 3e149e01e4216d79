"""Tiny random-init models (tens of thousands of parameters) built from configs, with the shipped MiniLM tokenizer."""

from __future__ import annotations

import pytest
import torch

from rewardkit.models.defaults import minilm_path


@pytest.fixture(scope="session")
def minilm_tokenizer():
    from rewardkit.models.hf import load_tokenizer

    return load_tokenizer(minilm_path())


def _save(network, tokenizer, folder):
    network.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory, minilm_tokenizer):
    """A 2-layer, 32-wide BERT sequence classifier saved to a folder."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=minilm_tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=512, num_labels=1,
                        pad_token_id=minilm_tokenizer.pad_token_id)
    return _save(BertForSequenceClassification(config), minilm_tokenizer, tmp_path_factory.mktemp("tiny_bert"))


def make_tiny_llama(folder, tokenizer, pad_is_eos: bool = False):
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(0)
    tokenizer = tokenizer.__class__.from_pretrained(minilm_path())
    if pad_is_eos:  # the last real token of every sequence ([SEP]) is then also the pad token
        tokenizer.pad_token = tokenizer.sep_token
    config = LlamaConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, intermediate_size=64,
                         max_position_embeddings=512, num_labels=1, pad_token_id=tokenizer.pad_token_id)
    return _save(LlamaForSequenceClassification(config), tokenizer, folder)


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, minilm_tokenizer):
    return make_tiny_llama(tmp_path_factory.mktemp("tiny_llama"), minilm_tokenizer)


@pytest.fixture(scope="session")
def sentiment_classifier(tmp_path_factory, minilm_tokenizer):
    """A plain two-class BERT classifier (NEGATIVE, POSITIVE), the kind TRL's sentiment examples use as a reward.
    Copy it before writing into its folder."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=minilm_tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, num_labels=2,
                        id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1},
                        pad_token_id=minilm_tokenizer.pad_token_id)
    return _save(BertForSequenceClassification(config), minilm_tokenizer, tmp_path_factory.mktemp("sentiment"))


@pytest.fixture(scope="session")
def tiny_llama_pad_eos(tmp_path_factory, minilm_tokenizer):
    return make_tiny_llama(tmp_path_factory.mktemp("tiny_llama_pad_eos"), minilm_tokenizer, pad_is_eos=True)


def graph_key(model, with_token_types: bool) -> str:
    """What an ONNX trace of a ScalarRewardModel depends on: its weights, network config, options and inputs."""
    import hashlib
    import json
    from dataclasses import asdict

    digest = hashlib.sha256(f"{with_token_types}{model.network.config.to_json_string()}".encode())
    digest.update(json.dumps(asdict(model.options), sort_keys=True, default=str).encode())
    for name, tensor in model.network.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="session", autouse=True)
def each_graph_traced_once(tmp_path_factory):
    """torch.export takes 3-6 s to trace even the tiny models to ONNX, and the export, benchmark and emulated-CPU
    tests export the same few (15 traces, 62 s, measured): each distinct model is traced once per session and its
    file copied for every later export. Everything after the trace (fusion, int8, probe) still runs each time."""
    import shutil

    try:
        from rewardkit.export import onnx_graph
    except ImportError:  # the export extra is not installed: nothing to cache
        yield
        return
    cache, input_names = tmp_path_factory.mktemp("onnx_graphs"), {}
    trace = onnx_graph.export_graph

    def export_graph_once(model, path, with_token_types):
        key = graph_key(model, with_token_types)
        if key not in input_names:
            input_names[key] = trace(model, cache / f"{key}.onnx", with_token_types)
        onnx_graph.eager_attention(model.network)  # as the trace leaves the model
        shutil.copyfile(cache / f"{key}.onnx", path)
        return list(input_names[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(onnx_graph, "export_graph", export_graph_once)
        yield
