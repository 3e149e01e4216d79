"""`implicit` family: rewards a causal language model already defines, without training a head.

With lp(y | x) the per-token log-probabilities of the response tokens y_1 … y_n (prompt masked, chat template
applied; see rewardkit.models.logprobs):

- **dpo**   r = β · Σ_t (log πθ(y_t | x, y_<t) − log πref(y_t | x, y_<t))     the DPO implicit reward
- **simpo** r = β · (1/n) Σ_t log πθ(y_t | x, y_<t)                            length-normalised, no reference
- **cdr**   r = β · (log p_strong(y | x) − log p_weak(y | x))                 density ratio; "strong" may be the
            same model with a user-written criteria system prompt (customised density ratio)
- **rlpr**  p = (1/m) Σ_k p(a_k | x, y, "final answer is:", a_<k)             mean probability of a reference
            answer a (m tokens, `Sample.reference_answer`) after the model's response, and
            p' = (1/m) Σ_k p(a_k | x, "final answer is:", a_<k)                  the same with no response;
            r = β · clip(p − p', 0, 1)  (debiased, the default) or β · p (`debias=False`): verifier-free
            grading as in RLPR (Yu et al. 2025, "RLPR: Extrapolating RLVR to General Domains without
            Verifiers"), whose debiasing removes what the prompt alone already says about the answer, so
            only what the response's reasoning adds is rewarded

Each model runs one forward per batch (Llama-family LMs packed, a pair's shared prompt once: models/logprobs.py);
a reference / weak model caches its log-probabilities by token ids.
A saved `implicit` model is a folder with only rewardkit.json, naming the policy and reference it reads; a
policy trained by rewardkit (rewardkit.training.implicit_tasks) is saved in that folder and named '.'.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Callable, Sequence

from rewardkit.atomic import atomic_dir
from rewardkit.data.chat import ChatEncoder, Encoded
from rewardkit.data.schemas import Message, Sample
from rewardkit.errors import ConfigError, ModelLoadError
from rewardkit.models.base import Scores, distinct_parameters, samples_of
from rewardkit.models.causal_lm import (
    absolute_if_local, load_causal_lm_and_tokenizer, resolve_causal_lm, save_causal_lm_reward,
)
from rewardkit.models.hf import MANIFEST, read_manifest
from rewardkit.models.logprobs import LogprobScorer

DEFAULT_BETA = {"dpo": 0.1, "simpo": 1.0, "cdr": 1.0, "rlpr": 1.0}
"""β per kind when none is given: 0.1 for DPO as in its paper; the other kinds rank by the raw quantity."""
TRAINED_POLICY = "."
"""`policy` of a saved model whose policy weights sit in its own folder (written by `save_with_policy`)."""


@dataclass
class ImplicitOptions:
    """Stored in rewardkit.json of a saved implicit model."""

    kind: str = "dpo"
    """dpo | simpo | cdr | rlpr."""
    policy: str = "smollm2"
    """The scored model (the "strong" side of cdr): a folder, hub id, 'smollm2', or '.' (TRAINED_POLICY): the
    weights saved in the model's own folder."""
    reference: str | None = None
    """The reference model (dpo) or weak model (cdr); None for simpo and rlpr, and for cdr with criteria."""
    beta: float | None = None
    """Scale of the reward; the ranking does not depend on it. None: DEFAULT_BETA of the kind."""
    max_length: int = 1024
    """Tokens per sample; longer samples lose the left of their prompt."""
    batch_size: int = 8
    criteria: str | None = None
    """cdr: a system prompt stating what a good answer is; the strong side is the policy conditioned on it."""
    answer_prefix: str = "\nThe final answer is:"
    """rlpr: text placed between the response and the reference answer."""
    debias: bool = True
    """rlpr: subtract the answer's probability given the prompt alone and clip to [0, 1] (RLPR's recipe);
    False: the raw probability after the response."""

    def __post_init__(self) -> None:
        if self.kind not in REWARD_KINDS:
            raise ConfigError(f"unknown implicit kind '{self.kind}'; known: {', '.join(REWARD_KINDS)}")
        if self.beta is None:
            self.beta = DEFAULT_BETA[self.kind]

    @classmethod
    def from_dict(cls, values: dict) -> "ImplicitOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ModelLoadError(f"unknown implicit option(s) {unknown}; known: {sorted(known)}")
        return cls(**values)


def with_criteria(sample: Sample, criteria: str) -> Sample:
    """The sample with `criteria` as its system prompt (prepended to an existing system turn)."""
    turns = sample.prompt
    if turns and turns[0].role == "system":
        return replace(sample, prompt=(Message("system", f"{criteria}\n\n{turns[0].content}"), *turns[1:]))
    return replace(sample, prompt=(Message("system", criteria), *turns))


def encode_answer_after(encoder: ChatEncoder, sample: Sample, answer: str, prefix: str) -> Encoded:
    """prompt + response + prefix + " " + answer, with `response_start` at the first answer token, so the
    scored tokens are exactly the answer's. Long contexts lose tokens from the left; the answer is kept."""
    tok = encoder.tokenizer
    prompt_text, _ = encoder.texts(sample)
    head = tok(prompt_text, add_special_tokens=not encoder.uses_chat_template)["input_ids"]
    body = tok(sample.response + prefix, add_special_tokens=False)["input_ids"]
    tail = tok(" " + answer.strip(), add_special_tokens=False)["input_ids"][: encoder.max_length - 1]
    context = head + body
    budget = encoder.max_length - len(tail)
    truncated = len(context) > budget
    context = context[len(context) - budget:] if truncated else context
    return Encoded(context + tail, len(context), truncated)


class ImplicitRewardModel:
    """A reward read off one or two causal LMs; `score` dispatches on `options.kind` through REWARD_KINDS."""

    family = "implicit"

    def __init__(self, policy: LogprobScorer, reference: LogprobScorer | None, options: ImplicitOptions):
        if options.kind == "dpo" and reference is None:
            raise ConfigError("implicit:dpo needs a reference model (--reference)")
        if options.kind == "cdr" and reference is None and not options.criteria:
            raise ConfigError("implicit:cdr needs a weak model (--reference), criteria, or both")
        self.policy, self.reference, self.options = policy, reference, options

    @property
    def needs_reference_answer(self) -> bool:
        """rlpr grades against each sample's reference answer (evaluation keeps the pairs that have one)."""
        return self.options.kind == "rlpr"

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        """One reward per sample (rlpr reads each sample's `reference_answer`)."""
        for scorer in (self.policy, self.reference):
            if scorer is not None:
                scorer.batch_size = batch_size or self.options.batch_size
        rewards, flags = REWARD_KINDS[self.options.kind](self, samples_of(batch))
        return Scores(rewards, truncated=sum(flags), truncated_items=flags)

    def parameter_count(self) -> int:
        return distinct_parameters(self.policy.network, self.reference.network if self.reference else None)

    def save(self, path: str | Path) -> Path:
        """A folder with rewardkit.json only: the policy and reference are read from where they are named."""
        options = asdict(self.options)
        for key in ("policy", "reference"):
            options[key] = absolute_if_local(options[key])
        with atomic_dir(path) as tmp:
            manifest = {"family": self.family, "options": options}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return Path(path)


def save_with_policy(network, tokenizer, options: ImplicitOptions, path: str | Path) -> Path:
    """A trained policy as an implicit model: its weights and tokenizer in `path`, whose rewardkit.json names
    the policy TRAINED_POLICY (this folder) and the reference (stored absolute when it is a local folder)."""
    values = {**asdict(options), "policy": TRAINED_POLICY}
    return save_causal_lm_reward(network, tokenizer, "implicit", values, path)


def _sums(scorer: LogprobScorer, samples: Sequence[Sample]) -> tuple[list[float], list[int], list[bool]]:
    """(Σ response log-probs, response token counts, whether it was cut) per sample."""
    encoded = scorer.encode(samples)
    rows = scorer.response_logprobs(encoded)
    return [float(r.sum()) for r in rows], [len(r) for r in rows], [e.truncated for e in encoded]


def dpo_rewards(model: ImplicitRewardModel, samples: list[Sample]) -> tuple[list[float], list[bool]]:
    """β · (Σ log πθ − Σ log πref) over the response tokens."""
    policy, _, truncated = _sums(model.policy, samples)
    reference, _, _ = _sums(model.reference, samples)
    return [model.options.beta * (p - r) for p, r in zip(policy, reference)], truncated


def simpo_rewards(model: ImplicitRewardModel, samples: list[Sample]) -> tuple[list[float], list[bool]]:
    """β · mean response-token log-prob of the policy alone."""
    sums, counts, truncated = _sums(model.policy, samples)
    return [model.options.beta * s / max(n, 1) for s, n in zip(sums, counts)], truncated


def cdr_rewards(model: ImplicitRewardModel, samples: list[Sample]) -> tuple[list[float], list[bool]]:
    """β · (log p_strong − log p_weak); strong = policy (with the criteria prompt if given)."""
    criteria = model.options.criteria
    strong_samples = [with_criteria(s, criteria) for s in samples] if criteria else samples
    strong, _, truncated = _sums(model.policy, strong_samples)
    weak, _, _ = _sums(model.reference or model.policy, samples)
    return [model.options.beta * (s - w) for s, w in zip(strong, weak)], truncated


def debiased_probability(p: float, p_without_response: float) -> float:
    """clip(p − p', 0, 1): what the response adds to the reference answer's probability (RLPR's debiasing).

    >>> debiased_probability(0.75, 0.5), debiased_probability(0.25, 0.5)
    (0.25, 0.0)
    """
    return min(max(p - p_without_response, 0.0), 1.0)


def answer_probabilities(model: ImplicitRewardModel, samples: list[Sample]) -> tuple[list[float], list[bool]]:
    """Mean token probability of each sample's reference answer after its response (0 for an empty answer)."""
    scorer = model.policy
    encoded = [encode_answer_after(scorer.encoder, s, s.reference_answer, model.options.answer_prefix)
               for s in samples]
    rows = scorer.response_logprobs(encoded)
    return [float(r.exp().mean()) if len(r) else 0.0 for r in rows], [e.truncated for e in encoded]


def rlpr_rewards(model: ImplicitRewardModel, samples: list[Sample]) -> tuple[list[float], list[bool]]:
    """β · clip(p − p', 0, 1), or β · p without debiasing (see the module docstring)."""
    missing = [i for i, s in enumerate(samples) if s.reference_answer is None]
    if missing:
        raise ConfigError(f"implicit:rlpr needs a reference answer for every sample (Sample.reference_answer; in "
                          f"data, a 'reference_answer' or 'answer' field); {len(missing)} of {len(samples)} have "
                          f"none, the first at position {missing[0]}")
    probabilities, truncated = answer_probabilities(model, samples)
    if model.options.debias:
        baseline, _ = answer_probabilities(model, [replace(s, response="") for s in samples])
        probabilities = [debiased_probability(p, b) for p, b in zip(probabilities, baseline)]
    return [model.options.beta * p for p in probabilities], truncated


REWARD_KINDS: dict[str, Callable[[ImplicitRewardModel, list[Sample]], tuple[list[float], list[bool]]]] = {
    "dpo": dpo_rewards, "simpo": simpo_rewards, "cdr": cdr_rewards, "rlpr": rlpr_rewards,
}


def load_scorers(policy: str, reference: str | None, *, max_length: int, batch_size: int,
                 trust_remote_code: bool = False) -> tuple[LogprobScorer, LogprobScorer | None]:
    """Policy and (cached) reference scorers; one network is shared when both name the same model."""
    network, tokenizer = load_causal_lm_and_tokenizer(policy, trust_remote_code=trust_remote_code)
    limit = min(max_length, getattr(network.config, "max_position_embeddings", max_length) or max_length)
    policy_scorer = LogprobScorer(network, tokenizer, limit, batch_size)
    if reference is None:
        return policy_scorer, None
    if resolve_causal_lm(reference) != resolve_causal_lm(policy):
        network, tokenizer = load_causal_lm_and_tokenizer(reference, trust_remote_code=trust_remote_code)
    return policy_scorer, LogprobScorer(network, tokenizer, limit, batch_size, cache=True)


def build_implicit(kind: str, policy: str = ImplicitOptions.policy, reference: str | None = None,
                   beta: float | None = None, *, trust_remote_code: bool = False, **options) -> ImplicitRewardModel:
    """An implicit reward model of `kind` (dpo | simpo | cdr | rlpr) over causal LMs named by path or hub id
    ('smollm2' = the shipped SmolLM2-135M-Instruct); other ImplicitOptions (criteria, max_length...) by
    keyword. Defaults are ImplicitOptions' (β: DEFAULT_BETA[kind])."""
    return from_options(ImplicitOptions.from_dict({"kind": kind, "policy": policy, "reference": reference,
                                                   "beta": beta, **options}),
                        trust_remote_code=trust_remote_code)


def from_options(options: ImplicitOptions, *, trust_remote_code: bool = False) -> ImplicitRewardModel:
    """The model `options` describe. A DPO policy that is a PEFT adapter is scored against its base model (the
    reference it was trained from) unless a reference is given."""
    from rewardkit.models.peft_adapter import adapter_base, is_adapter_folder

    policy_path = resolve_causal_lm(options.policy)
    if options.kind == "dpo" and options.reference is None and is_adapter_folder(policy_path):
        options = replace(options, reference=adapter_base(policy_path))
    policy, reference = load_scorers(options.policy, options.reference, max_length=options.max_length,
                                     batch_size=options.batch_size, trust_remote_code=trust_remote_code)
    return ImplicitRewardModel(policy, reference, options)


def load(path: str, *, trust_remote_code: bool = False, **overrides) -> ImplicitRewardModel:
    """A folder saved by `ImplicitRewardModel.save` (options may be overridden, e.g. beta=0.5)."""
    values = read_manifest(path).get("options", {})
    values.update(overrides)
    if values.get("policy") == TRAINED_POLICY:
        values["policy"] = str(Path(path).resolve())
    return from_options(ImplicitOptions.from_dict(values), trust_remote_code=trust_remote_code)
