"""`scalar` family: a linear head on any Hugging Face backbone, saved as a plain sequence-classification model.

Pooling:
- **decoders** (heads named `score`, as Llama/Qwen/Mistral/GPT-2 have): the hidden state of the last *attended*
  token, found from the attention mask, so left or right padding and pad == eos tokenisers give the same score.
  Position ids are derived from the mask, so left padding does not shift positions. Llama, Qwen2 and Mistral
  decoders run packed (models/packed_decoder.py): no padding, and the last layer for the last token only.
- **encoders** (BERT-style): the model's own pooling (the [CLS] token), always with right padding. Models built
  here read prompt and response as one segment (`one_segment`). BERT and RoBERTa-family encoders run packed
  (models/packed_encoder.py): padding and the last layer's unread tokens are skipped, with the same logits.

`packed=False` (an option) runs the network's own forward instead of a packed one. `dtype="bf16"` (at load)
scores under bf16 autocast with the head in fp32 (models/precision.py), where the hardware has native bf16.

The saved folder is an ordinary `AutoModelForSequenceClassification` folder plus `rewardkit.json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Sequence

import torch

from rewardkit.data.batching import inference_batches, pad_batch
from rewardkit.data.chat import ChatEncoder, Encoded
from rewardkit.data.schemas import Sample
from rewardkit.errors import ModelLoadError
from rewardkit.models.adapters import merge_adapters
from rewardkit.models.base import Scores, distinct_parameters, samples_of
from rewardkit.models.hf import model_limit, read_manifest, save_model_folder
from rewardkit.models.packed_decoder import packable_decoder, packed_decoder_logits
from rewardkit.models.packed_encoder import packable, packed_logits
from rewardkit.models.precision import autocast, check_dtype, full_precision


DEFAULT_BATCH_SIZE = 32
"""Samples per forward pass when `score` is not told."""


@dataclass
class ScalarOptions:
    """Stored in rewardkit.json beside the weights."""

    max_length: int = 512
    """Tokens per sample; longer samples lose the left of their prompt."""
    attributes: list[str] = field(default_factory=lambda: ["reward"])
    """One name per head output (several for regression on attribute ratings)."""
    reward_weights: list[float] | None = None
    """Reward = weights · outputs. None: the first output alone."""
    reward_mean: float | None = None
    """Mean reward on the training data, for normalisation (None: not measured, as for a model rewardkit did not
    train)."""
    reward_std: float | None = None
    """Standard deviation of the reward on the training data (None: not measured)."""
    normalize: bool = False
    """Return (reward − mean) / std from `score` instead of the raw head output."""
    padding_side: str = "right"
    """Padding side for decoders (encoders always pad right). Scores do not depend on it."""
    packed: bool = True
    """Run BERT/RoBERTa encoders and Llama/Qwen2/Mistral decoders through rewardkit's packed forward (the same
    outputs, fewer FLOPs); false: the network's own forward, padding included."""

    @classmethod
    def from_dict(cls, values: dict) -> "ScalarOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ModelLoadError(f"unknown scalar option(s) {unknown}; known: {sorted(known)}")
        options = cls(**values)
        if options.normalize and (options.reward_mean is None or not (options.reward_std or 0) > 0):
            raise ModelLoadError("normalize needs the mean and standard deviation of the model's reward over its "
                                 "training data, which rewardkit train stores in rewardkit.json; this model has none "
                                 "(score raw rewards instead)")
        return options


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Column of the last attended token per row, for either padding side.

    >>> last_token_index(torch.tensor([[1, 1, 0], [0, 1, 1]])).tolist()
    [1, 2]
    """
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    return (positions * attention_mask).argmax(dim=-1)


def head_scores(options: ScalarOptions, outputs, rewards, encoded: Sequence[Encoded]) -> Scores:
    """Scores from head outputs [N, num_labels] and raw rewards [N] (torch tensors or numpy arrays): normalised
    when `options.normalize`, with per-attribute values when the head has several outputs."""
    if options.normalize:
        rewards = (rewards - options.reward_mean) / options.reward_std
    attributes = None
    if len(options.attributes) > 1:
        attributes = {name: outputs[:, i].tolist() for i, name in enumerate(options.attributes)}
    flags = [e.truncated for e in encoded]
    return Scores(rewards.tolist(), attributes=attributes, truncated=sum(flags), truncated_items=flags)


def uses_last_token_pooling(network) -> bool:
    return isinstance(getattr(network, "score", None), torch.nn.Linear)


class PooledScorer(torch.nn.Module):
    """The trainable module: backbone + head + pooling. Training wraps this (accelerate/DDP), not the HF model.

    BERT/RoBERTa-family encoders run `packed_logits` and Llama-family decoders `packed_decoder_logits` (the same
    logits with fewer FLOPs) unless `packed=False`; `static_graph=True` runs the encoders' variant without
    data-dependent shapes, and decoders' own forward, which a static graph (ONNX export) can trace.
    """

    def __init__(self, network, static_graph: bool = False, packed: bool = True):
        super().__init__()
        self.network = network
        self.last_token_pooling = uses_last_token_pooling(network)
        self.packed = packed and not self.last_token_pooling and packable(network)
        self.packed_decoder = packed and not static_graph and self.last_token_pooling and packable_decoder(network)
        self.static_graph = static_graph

    def forward(self, input_ids, attention_mask, token_type_ids=None, shared=None) -> torch.Tensor:
        """`shared` (packed decoders; others ignore it): per row, the leading tokens it has in common with the row
        before it, computed once (packed_decoder.py)."""
        if self.packed_decoder:
            return packed_decoder_logits(self.network, input_ids, attention_mask, shared)
        if self.packed:
            return packed_logits(self.network, input_ids, attention_mask, token_type_ids, pack=not self.static_graph)
        if not self.last_token_pooling:
            extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            return self.network(input_ids=input_ids, attention_mask=attention_mask, **extra).logits
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        backbone = getattr(self.network, self.network.base_model_prefix)
        hidden = backbone(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids)
        rows = torch.arange(input_ids.shape[0], device=input_ids.device)
        pooled = hidden.last_hidden_state[rows, last_token_index(attention_mask)]
        return full_precision(pooled, self.network.score)


class ScalarRewardModel:
    family = "scalar"

    def __init__(self, network, tokenizer, options: ScalarOptions | None = None, dtype: str = "fp32"):
        self.network = network
        self.tokenizer = tokenizer
        self.options = options or ScalarOptions()
        self.encoder = ChatEncoder(tokenizer, self.options.max_length)
        self.scorer = PooledScorer(network, packed=self.options.packed)
        self.dtype = check_dtype(dtype, self.device)
        """fp32 | bf16: the precision `score` runs in (not stored with the model: it depends on the machine)."""
        self.last_token_pooling = self.scorer.last_token_pooling
        if len(self.options.attributes) != network.config.num_labels:
            raise ModelLoadError(
                f"{len(self.options.attributes)} attribute names for {network.config.num_labels} head outputs"
            )
        weights = self.options.reward_weights
        if weights is not None and len(weights) != network.config.num_labels:
            raise ModelLoadError(f"{len(weights)} reward weights for {network.config.num_labels} head outputs")

    # -- tensors ---------------------------------------------------------------------------------------
    def forward(self, input_ids, attention_mask, token_type_ids=None, shared=None) -> torch.Tensor:
        """Head outputs [B, num_labels] for a padded batch."""
        return self.scorer(input_ids, attention_mask, token_type_ids, shared)

    def reward_from_outputs(self, outputs: torch.Tensor) -> torch.Tensor:
        """[B, num_labels] → [B] raw reward."""
        if self.options.reward_weights is None:
            return outputs[:, 0]
        weights = torch.tensor(self.options.reward_weights, dtype=outputs.dtype, device=outputs.device)
        return outputs @ weights

    def collate(self, encoded: Sequence[Encoded]) -> dict:
        side = self.options.padding_side if self.last_token_pooling else "right"
        batch = pad_batch(
            [e.input_ids for e in encoded],
            self.tokenizer.pad_token_id,
            side,
            [e.token_type_ids for e in encoded],
        )
        return {k: v.to(self.device) for k, v in batch.items()}

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    # -- the RewardModel interface --------------------------------------------------------------------
    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        encoded = self.encoder.encode_many(samples_of(batch))
        outputs = self.outputs_for(encoded, batch_size or DEFAULT_BATCH_SIZE)
        return head_scores(self.options, outputs, self.reward_from_outputs(outputs), encoded)

    def parameter_count(self) -> int:
        return distinct_parameters(self.network)

    @torch.no_grad()
    def outputs_for(self, encoded: Sequence[Encoded], batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
        """Head outputs for already-encoded samples, in their order, batched by length."""
        was_training = self.network.training
        self.network.eval()
        out = torch.empty((len(encoded), self.network.config.num_labels), dtype=torch.float32)
        for index, shared in self.batches(encoded, batch_size):
            with autocast(self.dtype, self.device):
                out[index] = self.forward(**self.collate([encoded[i] for i in index]), shared=shared).float().cpu()
        self.network.train(was_training)
        return out

    def batches(self, encoded: Sequence[Encoded], batch_size: int):
        """(indices, shared) per forward pass: for a packed decoder, neighbours that begin alike with the tokens
        they share (computed once: a pair's prompt is computed once for both responses); else by length."""
        return [(index, None if shared is None else torch.tensor(shared, device=self.device)) for index, shared
                in inference_batches([e.input_ids for e in encoded], batch_size, self.scorer.packed_decoder)]

    # -- persistence ------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write an HF sequence-classification folder (safetensors) + rewardkit.json, atomically. LoRA adapters
        (training with lora_rank) are folded into the weights first (models/adapters.py)."""
        merge_adapters(self.network)
        return save_model_folder(self.network, self.tokenizer, self.family, asdict(self.options), path)


def one_segment(tokenizer, backbone: str, trust_remote_code: bool = False):
    """The tokenizer without token_type_ids, so an encoder reads prompt and response as one segment (as TRL and
    OpenRLHF feed reward models), in rewardkit and in any tool that loads the saved folder.

    On MiniLM, whose sentence training never used segment B, segment ids cost 6.5 points of held-out accuracy
    (0.686 vs 0.751, 120 Bradley-Terry steps, seed 0). Folders trained elsewhere keep their tokenizer as it is.
    """
    from rewardkit.models.hf import load_tokenizer

    if "token_type_ids" not in tokenizer.model_input_names:
        return tokenizer
    names = [name for name in tokenizer.model_input_names if name != "token_type_ids"]
    return load_tokenizer(backbone, trust_remote_code=trust_remote_code, model_input_names=names)


def build(
    backbone: str,
    *,
    attributes: Sequence[str] = ("reward",),
    max_length: int | None = None,
    trust_remote_code: bool = False,
    seed: int = 0,
) -> ScalarRewardModel:
    """A new (untrained) head on a backbone folder or hub id; the head's initial weights depend on `seed` alone."""
    from rewardkit.models.hf import load_sequence_classifier, load_tokenizer
    from rewardkit.models.seeding import seeded

    tokenizer = one_segment(load_tokenizer(backbone, trust_remote_code=trust_remote_code), backbone,
                            trust_remote_code)
    with seeded(seed):
        network = load_sequence_classifier(backbone, num_labels=len(attributes), trust_remote_code=trust_remote_code)
    network.config.pad_token_id = tokenizer.pad_token_id
    options = ScalarOptions(max_length=max_length or model_limit(tokenizer, network.config, 512),
                            attributes=list(attributes))
    return ScalarRewardModel(network, tokenizer, options)


def load(path: str, *, trust_remote_code: bool = False, dtype: str = "fp32", **overrides) -> ScalarRewardModel:
    """A saved rewardkit scalar model, or any HF sequence-classification reward model, scoring in `dtype` (fp32 |
    bf16, where native); `overrides` replace stored options."""
    from rewardkit.models.hf import check_local_folder, load_sequence_classifier, load_tokenizer
    from rewardkit.models.peft_adapter import is_adapter_folder

    if not is_adapter_folder(path):
        check_local_folder(path)
    values = read_manifest(path).get("options", {})
    values.update(overrides)
    options = ScalarOptions.from_dict(values)
    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    network = load_sequence_classifier(path, trust_remote_code=trust_remote_code)
    if network.config.pad_token_id is None:
        network.config.pad_token_id = tokenizer.pad_token_id
    if "attributes" not in values and network.config.num_labels != 1:
        options.attributes = output_names(network.config)
        if options.reward_weights is None:
            raise ModelLoadError(unchosen_reward_output(path, options.attributes))
    if "max_length" not in values:  # a model rewardkit did not save: as long as it reads, up to a bound
        options.max_length = own_max_length(tokenizer, network)
    return ScalarRewardModel(network, tokenizer, options, dtype=dtype)


def output_names(config) -> list[str]:
    """A plain classifier's output names: its labels (config.id2label), or output_i where they are the
    defaults (LABEL_i) or repeat."""
    labels = [str(config.id2label.get(i, "")) for i in range(config.num_labels)]
    if len(set(labels)) < len(labels) or any(not label or label == f"LABEL_{i}" for i, label in enumerate(labels)):
        return [f"output_{i}" for i in range(config.num_labels)]
    return labels


def unchosen_reward_output(path: str, names: list[str]) -> str:
    """Why a plain classifier with several outputs is refused, and the two ways to name its reward."""
    example = [0] * (len(names) - 1) + [1]
    manifest = json.dumps({"family": "scalar", "options": {"reward_weights": example}})
    return (f"{path} is a classifier with {len(names)} outputs ({', '.join(names)}), and which of them is the reward "
            f"cannot be told from its files. Say which: reward = weights · outputs, e.g. for {names[-1]} alone, "
            f"write rewardkit.json beside its weights as {manifest} (every command then reads it), or in Python "
            f"rewardkit.load(path, reward_weights={example}). Weights such as [-1, 1] score a difference of outputs")


PLAIN_MAX_LENGTH = 8192
"""The most tokens per sample a reward model rewardkit did not save gets by default (its own limit if lower):
512 truncated long conversations for decoder reward models that read 8k or more."""


def own_max_length(tokenizer, network) -> int:
    """The model's own limit: its tokenizer's and its position embeddings', at most PLAIN_MAX_LENGTH."""
    return model_limit(tokenizer, network.config, PLAIN_MAX_LENGTH)
