"""`process` family: step-level rewards. Two kinds share the family and the saved-folder layout:

- **implicit** (implicit PRM): a policy πθ and a reference πref define, for step k with tokens T_k,
      r_k = β · Σ_{t ∈ T_k} (log πθ(y_t | x, y_<t) − log πref(y_t | x, y_<t))
  so the steps of a response add up to its DPO implicit reward. Trained from outcome labels only
  (rewardkit.training.process_tasks); the saved folder holds πθ and names πref.
- **explicit** (a head on step labels, for comparison): a per-token linear head on a (causal) backbone,
  read at the last token e_k of each step: v_k = σ(w · h_{e_k} + b), trained with BCE on step labels
  (objective `step-bce`). With a causal backbone h_{e_k} sees only the prompt and steps 1 … k, so v_k
  judges the prefix. Saved as an `AutoModelForTokenClassification` folder (num_labels = 1) + rewardkit.json.

Steps come from a separator (rewardkit.models.steps); the response score aggregates them by
min | mean | sum | last. `Scores.steps` carries the per-step values.

    >>> prm = build_process("runs/prm/model", reference="smollm2")             # doctest: +SKIP
    >>> prm.score([Sample.from_text("2+3, then x4?", "Step 1: 2+3=5\\nStep 2: 5x4=20")]).steps   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Sequence

import torch

from rewardkit.data.batching import inference_batches, pad_batch
from rewardkit.data.chat import ChatEncoder, Encoded
from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError, ModelLoadError
from rewardkit.models.base import Scores, distinct_parameters, samples_of
from rewardkit.models.causal_lm import save_causal_lm_reward
from rewardkit.models.hf import MANIFEST, read_manifest, save_model_folder
from rewardkit.models.logprobs import LogprobScorer
from rewardkit.models.packed_causal_lm import packed_final_states
from rewardkit.models.packed_decoder import packable_decoder
from rewardkit.models.steps import aggregate_steps, check_separator_and_aggregation, response_token_steps


@dataclass
class ProcessOptions:
    """Stored in rewardkit.json of a saved process model."""

    kind: str = "implicit"
    """implicit (log-ratio of a policy and a reference) | explicit (a head trained on step labels)."""
    reference: str = ""
    """implicit: the reference causal LM (folder, hub id or 'smollm2')."""
    beta: float = 0.05
    """implicit: scale β of the log-ratio."""
    separator: str = "newline"
    """newline | step | a literal end-of-step marker (rewardkit.models.steps)."""
    aggregation: str = "min"
    """min | mean | sum | last: how step values become the response score."""
    max_length: int = 1024
    """Tokens per sample; longer samples lose the left of their prompt."""
    batch_size: int = 8

    @classmethod
    def from_dict(cls, values: dict) -> "ProcessOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ModelLoadError(f"unknown process option(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def check(self) -> None:
        try:
            check_separator_and_aggregation(self.separator, self.aggregation)
        except ValueError as err:
            raise ConfigError(str(err)) from None


def step_sums(values: torch.Tensor, steps: Sequence[int], n_steps: int) -> list[float]:
    """Σ of per-token `values` within each step; a step without tokens sums to 0.

    >>> step_sums(torch.tensor([1.0, 2.0, 4.0]), [0, 1, 1], 3)
    [1.0, 6.0, 0.0]
    """
    totals = torch.zeros(n_steps, dtype=torch.float64)
    index = torch.tensor(list(steps)[: len(values)], dtype=torch.long)
    totals.index_add_(0, index, values[: len(index)].double())
    return totals.tolist()


class ImplicitProcessModel:
    """Per-step β·log-ratio rewards of a policy against a reference sharing its tokenizer."""

    family = "process"

    def __init__(self, policy: LogprobScorer, reference: LogprobScorer, options: ProcessOptions):
        options.check()
        self.policy, self.reference, self.options = policy, reference, options

    def step_rewards(self, batch: Sequence[Sample]) -> tuple[list[list[float]], list[bool]]:
        """(per-step rewards of each sample, whether each sample was cut)."""
        encoded = self.policy.encode(batch)
        reference_encoded = self.reference.encode(batch)
        if any(a.input_ids != b.input_ids for a, b in zip(encoded, reference_encoded)):
            raise ModelLoadError("policy and reference tokenize differently; step rewards need one tokenizer")
        ratios = [p - r for p, r in zip(self.policy.response_logprobs(encoded),
                                        self.reference.response_logprobs(reference_encoded))]
        steps = []
        for sample, enc, ratio in zip(batch, encoded, ratios):
            index, n_steps = response_token_steps(self.policy.encoder, sample, enc, self.options.separator)
            steps.append([self.options.beta * v for v in step_sums(ratio, index, n_steps)])
        return steps, [e.truncated for e in encoded]

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        self.policy.batch_size = self.reference.batch_size = batch_size or self.options.batch_size
        steps, flags = self.step_rewards(samples_of(batch))
        rewards = [aggregate_steps(values, self.options.aggregation) for values in steps]
        return Scores(rewards, steps=steps, truncated=sum(flags), truncated_items=flags)

    def parameter_count(self) -> int:
        return distinct_parameters(self.policy.network, self.reference.network)

    def save(self, path: str | Path) -> Path:
        """The policy as an HF causal-LM folder (safetensors) + tokenizer + rewardkit.json naming the reference."""
        return save_implicit_process(self.policy.network, self.policy.tokenizer, self.options, path)


def save_implicit_process(network, tokenizer, options: ProcessOptions, path: str | Path) -> Path:
    """Write a loadable implicit-PRM folder: `network` (the policy) + tokenizer + rewardkit.json, atomically.
    A local reference path is stored absolute, so the folder loads from anywhere while the reference stays."""
    return save_causal_lm_reward(network, tokenizer, "process", asdict(options), path)


def build_process(policy: str, reference: str | None = None, beta: float | None = None, *,
                  trust_remote_code: bool = False, **options) -> ImplicitProcessModel:
    """An implicit PRM from a policy and a reference causal LM (paths, hub ids, or 'smollm2'); other
    ProcessOptions (separator, aggregation, max_length...) by keyword. Defaults are ProcessOptions'."""
    if not reference:
        raise ConfigError("process:implicit needs a reference model (--reference)")
    given = {"beta": beta, **options}
    values = {"kind": "implicit", "reference": reference, **{k: v for k, v in given.items() if v is not None}}
    return _implicit_from(policy, ProcessOptions.from_dict(values), trust_remote_code)


def _implicit_from(policy: str, options: ProcessOptions, trust_remote_code: bool) -> ImplicitProcessModel:
    from rewardkit.models.implicit import load_scorers

    options.check()
    policy_scorer, reference_scorer = load_scorers(
        policy, options.reference, max_length=options.max_length, batch_size=options.batch_size,
        trust_remote_code=trust_remote_code,
    )
    return ImplicitProcessModel(policy_scorer, reference_scorer, options)


def step_end_positions(token_steps: Sequence[int], n_steps: int, first: int) -> list[int]:
    """Absolute index of the last token of each step; response token j sits at `first + j`. A step with no
    token of its own borrows the end of the step before it (or the token before the response).

    >>> step_end_positions([0, 0, 2, 2], 3, first=5)
    [6, 6, 8]
    """
    ends = [-1] * n_steps
    for j, step in enumerate(token_steps):
        ends[step] = first + j
    previous = first - 1
    for k, end in enumerate(ends):
        ends[k] = previous = end if end >= 0 else previous
    return ends


class StepHeadModel:
    """A token-classification network whose output at each step's last token is that step's logit."""

    family = "process"

    def __init__(self, network, tokenizer, options: ProcessOptions):
        options.kind = "explicit"
        options.check()
        self.network, self.tokenizer, self.options = network, tokenizer, options
        self.encoder = ChatEncoder(tokenizer, options.max_length)
        self.module = network

    def encode(self, sample: Sample) -> tuple[Encoded, list[int]]:
        """The encoded sample and the positions of its step ends."""
        encoded = self.encoder.encode(sample)
        index, n_steps = response_token_steps(self.encoder, sample, encoded, self.options.separator)
        return encoded, step_end_positions(index, n_steps, max(encoded.response_start, 1))

    def collate(self, encoded: Sequence[Encoded]) -> dict:
        batch = pad_batch([e.input_ids for e in encoded], self.tokenizer.pad_token_id, "right")
        device = next(self.network.parameters()).device
        return {k: v.to(device) for k, v in batch.items()}

    @staticmethod
    def step_end_logits(module, batch: dict, ends: Sequence[Sequence[int]],
                        shared: torch.Tensor | None = None) -> torch.Tensor:
        """[B, S]: the head's logit at each row's step ends (S: the most steps in the batch; a row with fewer
        repeats its last end, or reads token 0 when it has none). A Llama-family network runs packed
        (models/packed_causal_lm.py; `shared` as there) and the head reads only those tokens; a wrapped one (e.g.
        by DistributedDataParallel, whose forward must run) runs its own forward."""
        width = max((len(e) for e in ends), default=0)
        padded = [list(e) + [e[-1] if e else 0] * (width - len(e)) for e in ends]
        if hasattr(module, "config") and packable_decoder(module):
            states = packed_final_states(module, batch["input_ids"], batch["attention_mask"], padded, shared)
            return module.score(module.dropout(states))[..., 0]
        logits = module(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[..., 0]
        return logits.gather(1, torch.tensor(padded, dtype=torch.long, device=logits.device).view(len(ends), width))

    @torch.no_grad()
    def step_values(self, batch: Sequence[Sample], batch_size: int = ProcessOptions.batch_size
                    ) -> tuple[list[list[float]], list[bool]]:
        items = [self.encode(s) for s in batch]
        out: list[list[float]] = [[] for _ in items]
        was_training = self.network.training
        self.network.eval()
        for index, shared in self.batches([e for e, _ in items], batch_size):
            logits = self.step_end_logits(self.network, self.collate([items[i][0] for i in index]),
                                          [items[i][1] for i in index], shared).float().cpu()
            for row, i in enumerate(index):
                out[i] = torch.sigmoid(logits[row, : len(items[i][1])]).tolist()
        self.network.train(was_training)
        return out, [e.truncated for e, _ in items]

    def batches(self, encoded: Sequence[Encoded], batch_size: int):
        """(indices, shared) per forward: packed, neighbours that begin alike (Best-of-N's candidates after one
        prompt) with the tokens they share, computed once; else by length."""
        device = next(self.network.parameters()).device
        return [(index, None if shared is None else torch.tensor(shared, device=device)) for index, shared
                in inference_batches([e.input_ids for e in encoded], batch_size, packable_decoder(self.network))]

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        steps, flags = self.step_values(samples_of(batch), batch_size or self.options.batch_size)
        rewards = [aggregate_steps(values, self.options.aggregation) for values in steps]
        return Scores(rewards, steps=steps, truncated=sum(flags), truncated_items=flags)

    def parameter_count(self) -> int:
        return distinct_parameters(self.network)

    def save(self, path: str | Path) -> Path:
        return save_model_folder(self.network, self.tokenizer, self.family, asdict(self.options), path)


def _token_classifier(path: str, trust_remote_code: bool, new_head: bool):
    from transformers import AutoModelForTokenClassification

    from rewardkit.models.hf import _quiet_transformers, check_local_folder

    check_local_folder(path)
    _quiet_transformers()
    extra = {"num_labels": 1} if new_head else {}
    try:
        return AutoModelForTokenClassification.from_pretrained(
            path, use_safetensors=True, trust_remote_code=trust_remote_code, dtype="float32", **extra
        )
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"cannot load a token-classification model from {path}: {err}") from None


def build_step_head(backbone: str, *, trust_remote_code: bool = False, seed: int = 0, **options) -> StepHeadModel:
    """A new (untrained) step head on a backbone folder, hub id or 'smollm2'; other ProcessOptions (separator,
    aggregation, max_length) by keyword. Its initial weights depend on `seed` alone."""
    from rewardkit.models.causal_lm import resolve_causal_lm
    from rewardkit.models.hf import load_tokenizer
    from rewardkit.models.seeding import seeded

    path = resolve_causal_lm(backbone)
    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    with seeded(seed):
        network = _token_classifier(path, trust_remote_code, new_head=True)
    network.config.pad_token_id = tokenizer.pad_token_id
    return StepHeadModel(network, tokenizer, ProcessOptions.from_dict({**options, "kind": "explicit"}))


def load_step_head(path: str, options: ProcessOptions, *, trust_remote_code: bool = False) -> StepHeadModel:
    from rewardkit.models.hf import load_tokenizer

    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    return StepHeadModel(_token_classifier(path, trust_remote_code, new_head=False), tokenizer, options)


def load(path: str, *, trust_remote_code: bool = False, **overrides):
    """A folder saved by a process model (implicit or explicit); options may be overridden (e.g. aggregation)."""
    values = read_manifest(path).get("options", {})
    values.update(overrides)
    options = ProcessOptions.from_dict(values)
    if options.kind == "explicit":
        return load_step_head(path, options, trust_remote_code=trust_remote_code)
    if options.kind != "implicit":
        raise ModelLoadError(f"{path}: unknown process kind '{options.kind}'; known: implicit, explicit")
    if not options.reference:
        raise ModelLoadError(f"{path}: an implicit process model needs 'reference' in {MANIFEST}")
    return _implicit_from(path, options, trust_remote_code)
