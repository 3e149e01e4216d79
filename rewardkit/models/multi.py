"""`multi` family: an interpretable multi-objective reward model in the manner of ArmoRM (Wang et al. 2024).

    embedding e = pool(frozen backbone(prompt + response))       prompt embedding p = pool(backbone(prompt))
    attributes v = W e + b                                        one linear head per attribute (stage 1)
    decorrelated v'_i = v_i − λ_i · v_verbosity                   λ_verbosity = 0 (training/multi_tasks.py)
    gate g = softmax(MLP(p) / temperature)                        non-negative, sums to 1 (stage 2)
    reward = Σ_i g_i · v'_i                                       contribution of attribute i: g_i · v'_i

`Scores.attributes` holds v' and `Scores.weights` holds g, so every reward can be taken apart. Steering
(`weights=`) scales or replaces the gate's output per attribute at inference.

Pooling: `mean` over attended tokens for encoders (what sentence encoders such as MiniLM are trained for), the
`last` attended token for decoders (as ArmoRM reads Llama-3), `cls` on request; `auto` picks by model type.
The prompt embedding is the backbone's embedding of the prompt part alone (the tokens before the response).
Llama-family decoders with `last` pooling run packed (models/packed_causal_lm.py): real tokens only, samples
that begin alike batched together with their shared prompt computed once, and, the model being causal, the
prompt embedding read from the same pass (the state at the prompt's last token).

The saved folder: the backbone as a plain transformers `AutoModel` folder (safetensors) with its tokenizer,
`multi.safetensors` (heads and gate) and `rewardkit.json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Mapping, Sequence

import torch
from torch import nn

from rewardkit.data.batching import length_sorted_batches, pad_batch, prefix_sharing_batches
from rewardkit.data.chat import ChatEncoder, Encoded
from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError, ModelLoadError
from rewardkit.models.base import Scores, distinct_parameters, samples_of
from rewardkit.models.hf import MANIFEST, model_limit, read_manifest
from rewardkit.models.packed_causal_lm import packed_final_states
from rewardkit.models.packed_decoder import llama_family
from rewardkit.models.steering import parse_steering, steer

HEADS_FILE = "multi.safetensors"
DEFAULT_BATCH_SIZE = 32
POOLINGS = ("auto", "mean", "last", "cls")


@dataclass
class MultiOptions:
    """Stored in rewardkit.json beside the weights."""

    attributes: list[str] = field(default_factory=list)
    """Attribute names, one head each (a trained model's come from its rating data)."""
    max_length: int = 512
    """Tokens per sample; longer samples lose the left of their prompt."""
    pooling: str = "auto"
    """auto | mean | last | cls: how token states become one embedding (auto: mean for encoders, last for
    decoders)."""
    gate_hidden: int = 64
    """Width of the gating MLP's hidden layer."""
    temperature: float = 10.0
    """Softmax temperature of the gate (ArmoRM's 10): g = softmax(logits / temperature)."""
    verbosity_attribute: str = "verbosity"
    """The attribute the others are decorrelated from ('' or absent from `attributes`: no decorrelation)."""
    verbosity_target: float = 0.03
    """|corr(attribute, verbosity)| on the reference set that decorrelation must reach (ArmoRM's 0.03)."""
    decorrelation: dict = field(default_factory=dict)
    """Per attribute, what training chose: {"lambda", "corr_before", "corr_after"} on the reference set."""
    weights: dict | str | None = None
    """Steering (models/steering.py): per attribute a factor on its gate weight ("safety:2,verbosity:0" or
    {"safety": 2}), or a fixed weight written "=0.5" ("safety:=0.5"). None: the gate as trained."""

    @classmethod
    def from_dict(cls, values: Mapping) -> "MultiOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ModelLoadError(f"unknown multi option(s) {unknown}; known: {sorted(known)}")
        options = cls(**values)
        if options.pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}, got {options.pooling!r}")
        return options


class AttributeGate(nn.Module):
    """Prompt embedding [N, d] → non-negative weights over A attributes: softmax(MLP(p) / temperature)."""

    def __init__(self, dim: int, n_attributes: int, hidden: int, temperature: float):
        super().__init__()
        self.temperature = temperature
        self.layers = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, n_attributes))

    def forward(self, prompt_embeddings: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.layers(prompt_embeddings) / self.temperature, dim=-1)


class MultiHeads(nn.Module):
    """Everything after the frozen backbone: attribute heads, decorrelation, gate, and the Bradley-Terry scale
    β (ArmoRM's logit scale) that stage 2 learns beside the gate (used by the loss, not by `reward`)."""

    def __init__(self, dim: int, n_attributes: int, hidden: int, temperature: float):
        super().__init__()
        self.heads = nn.Linear(dim, n_attributes)
        self.gate = AttributeGate(dim, n_attributes, hidden, temperature)
        self.log_scale = nn.Parameter(torch.zeros(()))
        self.register_buffer("lambdas", torch.zeros(n_attributes))
        self.verbosity_index = -1

    def attribute_values(self, embeddings: torch.Tensor) -> torch.Tensor:
        """v' = W e + b − λ ⊗ v_verbosity, shape [N, A]."""
        raw = self.heads(embeddings)
        if self.verbosity_index < 0:
            return raw
        return raw - raw[:, self.verbosity_index: self.verbosity_index + 1] * self.lambdas


def pooled(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """[B, T, d] token states → [B, d] with right padding: mean over attended tokens, last attended, or first.

    >>> h = torch.tensor([[[1.0], [3.0], [9.0]]]); m = torch.tensor([[1, 1, 0]])
    >>> pooled(h, m, "mean").item(), pooled(h, m, "last").item(), pooled(h, m, "cls").item()
    (2.0, 3.0, 1.0)
    """
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "last":
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        return hidden[rows, attention_mask.sum(-1) - 1]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def resolve_pooling(pooling: str, config) -> str:
    """`auto` → mean for encoders (model types with a masked-LM class in transformers), last otherwise."""
    if pooling != "auto":
        return pooling
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    return "mean" if config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES else "last"


def prompt_part(encoded: Encoded) -> Encoded:
    """The tokens before the response, on their own (what the gate reads)."""
    return Encoded(encoded.input_ids[: max(1, encoded.response_start)], len(encoded.input_ids), encoded.truncated)


class MultiObjectiveRewardModel:
    family = "multi"

    def __init__(self, backbone, tokenizer, heads: MultiHeads, options: MultiOptions):
        if len(options.attributes) != heads.heads.out_features:
            raise ModelLoadError(f"{len(options.attributes)} attribute names for {heads.heads.out_features} heads")
        self.backbone, self.tokenizer, self.heads, self.options = backbone, tokenizer, heads, options
        self.backbone.requires_grad_(False).eval()
        self.encoder = ChatEncoder(tokenizer, options.max_length)
        self.pooling = resolve_pooling(options.pooling, backbone.config)
        self.steering = parse_steering(options.weights, options.attributes)
        self.apply_decorrelation()

    @property
    def attributes(self) -> list[str]:
        return list(self.options.attributes)

    def apply_decorrelation(self) -> None:
        """Set the heads' λ buffer and verbosity column from `options.decorrelation`."""
        name = self.options.verbosity_attribute
        self.heads.verbosity_index = self.attributes.index(name) if name in self.attributes else -1
        lambdas = [float(self.options.decorrelation.get(a, {}).get("lambda", 0.0)) for a in self.attributes]
        self.heads.lambdas.copy_(torch.tensor(lambdas))

    # -- embeddings ------------------------------------------------------------------------------------
    @property
    def packed(self) -> bool:
        """Embeddings from the packed decoder forward: a Llama-family decoder read at its last token."""
        return self.pooling == "last" and llama_family(self.backbone)

    @torch.no_grad()
    def embed(self, encoded: Sequence[Encoded], batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
        """Pooled backbone embeddings [N, d] of already-encoded samples, in their order, batched by length."""
        if self.packed:
            return self.states_at(encoded, [[len(e.input_ids) - 1] for e in encoded], batch_size)[:, 0]
        out = torch.empty((len(encoded), self.backbone.config.hidden_size), dtype=torch.float32)
        for index in length_sorted_batches([len(e.input_ids) for e in encoded], batch_size):
            batch = self.collate([encoded[i] for i in index])
            hidden = self.backbone(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            out[index] = pooled(hidden.last_hidden_state, batch["attention_mask"], self.pooling).float().cpu()
        return out

    @torch.no_grad()
    def states_at(self, encoded: Sequence[Encoded], positions: Sequence[list[int]], batch_size: int) -> torch.Tensor:
        """Packed: the backbone's final states [N, k, d] at each sample's token `positions[i]`; samples that begin
        alike share a pass, their common prefix computed once."""
        out = torch.empty((len(encoded), len(positions[0]) if positions else 1, self.backbone.config.hidden_size),
                          dtype=torch.float32)
        for index, shared in prefix_sharing_batches([e.input_ids for e in encoded], batch_size):
            batch = self.collate([encoded[i] for i in index])
            out[index] = packed_final_states(self.backbone, batch["input_ids"], batch["attention_mask"],
                                             [positions[i] for i in index],
                                             torch.tensor(shared, device=self.device)).float().cpu()
        return out

    @property
    def device(self) -> torch.device:
        """Where the backbone is: batches go there, embeddings come back to the CPU (where the heads and the
        embedding cache are)."""
        return next(self.backbone.parameters()).device

    def collate(self, encoded: Sequence[Encoded]) -> dict[str, torch.Tensor]:
        batch = pad_batch([e.input_ids for e in encoded], self.tokenizer.pad_token_id, "right")
        return {k: v.to(self.device) for k, v in batch.items()}

    def embed_samples(self, samples: Sequence[Sample], batch_size: int = DEFAULT_BATCH_SIZE):
        """(response embeddings [N, d], prompt embeddings [N, d], encodings); each distinct prompt runs once (for a
        packed decoder, in the same pass as its responses: the state at the prompt's last token)."""
        encoded = self.encoder.encode_many(samples)
        if self.packed:
            ends = [[len(prompt_part(e).input_ids) - 1, len(e.input_ids) - 1] for e in encoded]
            states = self.states_at(encoded, ends, batch_size)
            return states[:, 1], states[:, 0], encoded
        prompts = [prompt_part(e) for e in encoded]
        distinct = list(dict.fromkeys(tuple(p.input_ids) for p in prompts))
        where = {ids: i for i, ids in enumerate(distinct)}
        prompt_rows = self.embed([Encoded(list(ids), len(ids), False) for ids in distinct], batch_size)
        return (self.embed(encoded, batch_size), prompt_rows[[where[tuple(p.input_ids)] for p in prompts]],
                encoded)

    # -- the RewardModel interface --------------------------------------------------------------------
    @torch.no_grad()
    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        responses, prompts, encoded = self.embed_samples(samples_of(batch), batch_size or DEFAULT_BATCH_SIZE)
        values = self.heads.attribute_values(responses)
        weights = steer(self.heads.gate(prompts), self.steering, self.attributes)
        rewards = (values * weights).sum(-1)
        flags = [e.truncated for e in encoded]
        return Scores(rewards.tolist(), attributes={a: values[:, i].tolist() for i, a in enumerate(self.attributes)},
                      truncated=sum(flags), truncated_items=flags,
                      weights={a: weights[:, i].tolist() for i, a in enumerate(self.attributes)})

    def parameter_count(self) -> int:
        return distinct_parameters(self.backbone, self.heads)

    # -- persistence ------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """The backbone (plain transformers folder, safetensors), tokenizer, multi.safetensors and rewardkit.json,
        written atomically."""
        from safetensors.torch import save_file

        from rewardkit.atomic import atomic_dir

        with atomic_dir(path) as tmp:
            self.backbone.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer.save_pretrained(tmp)
            tensors = {k: v.detach().cpu().contiguous() for k, v in self.heads.state_dict().items()}
            save_file(tensors, str(tmp / HEADS_FILE))
            manifest = {"family": self.family, "options": asdict(self.options)}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return Path(path)


def _backbone(path: str, trust_remote_code: bool):
    from transformers import AutoModel

    from rewardkit.models.hf import _quiet_transformers, check_local_folder

    check_local_folder(path)
    _quiet_transformers()
    try:
        return AutoModel.from_pretrained(path, use_safetensors=True, trust_remote_code=trust_remote_code,
                                         dtype="float32")
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"cannot load a backbone from {path}: {err}") from None


def build(backbone: str, *, attributes: Sequence[str], max_length: int | None = None, seed: int = 0,
          trust_remote_code: bool = False, **options) -> MultiObjectiveRewardModel:
    """Untrained heads and gate (initial weights depend on `seed` alone) on a frozen backbone folder."""
    from rewardkit.models.hf import load_tokenizer
    from rewardkit.models.scalar import one_segment
    from rewardkit.models.seeding import seeded

    if not attributes:
        raise ConfigError("a multi-objective model needs at least one attribute")
    tokenizer = one_segment(load_tokenizer(backbone, trust_remote_code=trust_remote_code), backbone,
                            trust_remote_code)
    network = _backbone(backbone, trust_remote_code)
    limit = model_limit(tokenizer, network.config, 512)
    values = MultiOptions.from_dict({**options, "attributes": list(attributes), "max_length": max_length or limit})
    with seeded(seed):
        heads = MultiHeads(network.config.hidden_size, len(attributes), values.gate_hidden, values.temperature)
    return MultiObjectiveRewardModel(network, tokenizer, heads, values)


def load(path: str, *, trust_remote_code: bool = False, **overrides) -> MultiObjectiveRewardModel:
    """A saved multi-objective model; `overrides` replace stored options (e.g. weights={"safety": 2})."""
    from safetensors.torch import load_file

    from rewardkit.models.hf import load_tokenizer

    options = MultiOptions.from_dict({**read_manifest(path).get("options", {}), **overrides})
    heads_file = Path(path) / HEADS_FILE
    if not heads_file.is_file():
        raise ModelLoadError(f"model folder {path} has no {HEADS_FILE} (the attribute heads and gate)")
    network = _backbone(path, trust_remote_code)
    heads = MultiHeads(network.config.hidden_size, len(options.attributes), options.gate_hidden, options.temperature)
    try:
        heads.load_state_dict(load_file(str(heads_file)))
    except RuntimeError as err:
        raise ModelLoadError(f"{heads_file} does not match the options in {MANIFEST}: {err}") from None
    return MultiObjectiveRewardModel(network, load_tokenizer(path, trust_remote_code=trust_remote_code), heads,
                                     options)
