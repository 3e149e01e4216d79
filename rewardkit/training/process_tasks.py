"""Training tasks of the `process` family for the generic loop (rewardkit.training.loop.train).

- **implicit-ce** (implicit PRM from outcome labels only): with s = Σ_response (log πθ − log πref),
  loss = CE(σ(β·s), outcome label). The trained policy then gives step rewards β·Σ_{t∈step} log πθ/πref.
- **implicit-dpo**: pairs (right trace, wrong trace) of the same problem, loss = −log σ(β·(s_right − s_wrong)).
- **step-bce** (explicit PRM, for comparison): BCE of a token head at each step's last token on step labels.

The reference log-probabilities are computed once, before the first step (the reference is frozen). LoRA
(`lora_rank` > 0, via peft) is merged into the policy when training finishes.

    task = rewardkit.families.build_task(config)       # config.family == "process"
    train(task, config, out_dir)                       # rewardkit.training.loop.train
    model = rewardkit.load(out_dir / "model")          # the process model (implicit or explicit)
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace  # noqa: F401  (used in a doctest)
from random import Random
from typing import Callable, Sequence

import torch

from rewardkit.errors import ConfigError, DataError
from rewardkit.models.logprobs import LogprobScorer
from rewardkit.synth.traces import Trace, generate_traces, read_traces, split_by_problem
from rewardkit.training import losses
from rewardkit.training.config import max_length_for
from rewardkit.training.log_ratio import (
    PolicyOptions, ReferencedResponses, ResponseLogprobSum, causal_backbone, merged_policy, policy_and_reference,
)


def pair_indices(traces: Sequence[Trace], seed: int = 0) -> list[tuple[int, int]]:
    """(right, wrong) index pairs within each problem, round-robin so every trace is used about equally.

    >>> right, wrong = generate_traces(1, error_rate=0.0)[0], generate_traces(1, error_rate=1.0)[0]
    >>> pair_indices([right, wrong, replace(wrong, problem_id="other")])
    [(0, 1)]
    """
    groups: dict[str, tuple[list[int], list[int]]] = {}
    for i, trace in enumerate(traces):
        groups.setdefault(trace.problem_id, ([], []))[0 if trace.outcome else 1].append(i)
    pairs = []
    for right, wrong in groups.values():
        if right and wrong:
            pairs += [(right[k % len(right)], wrong[k % len(wrong)]) for k in range(max(len(right), len(wrong)))]
    Random(seed).shuffle(pairs)
    return pairs


def _ce(sums: torch.Tensor, labels: torch.Tensor, beta: float):
    loss = losses.implicit_outcome_ce(sums, labels, beta)
    return loss, {"accuracy": ((sums > 0).float() == labels).float().mean().detach()}


def _dpo(sums: torch.Tensor, labels: torch.Tensor, beta: float):
    right, wrong = sums[0::2], sums[1::2]
    return losses.implicit_dpo(right, wrong, beta), {"accuracy": (right > wrong).float().mean().detach()}


IMPLICIT_OBJECTIVES: dict[str, Callable] = {"implicit-ce": _ce, "implicit-dpo": _dpo}


class ImplicitPRMTask:
    """Outcome-label training of an implicit PRM. An example is one trace (ce) or one (right, wrong) pair (dpo)."""

    data_stats = None  # trace files (synth.traces.read_traces) have their own checks, without row counts

    def __init__(self, policy: LogprobScorer, reference: LogprobScorer, train: Sequence[Trace],
                 evaluation: Sequence[Trace], objective: str, beta: float, save: Callable[[object, str], None],
                 seed: int = 0):
        if objective not in IMPLICIT_OBJECTIVES:
            raise ConfigError(f"unknown process objective '{objective}'; known: {', '.join(IMPLICIT_OBJECTIVES)}, "
                              "step-bce")
        self.policy, self.objective, self.beta, self._save = policy, objective, beta, save
        self.module = ResponseLogprobSum(policy.network)
        self.train = ReferencedResponses(policy, reference, [t.sample() for t in train])
        self.evaluation = ReferencedResponses(policy, reference, [t.sample() for t in evaluation])
        self.train_labels = torch.tensor([float(t.outcome) for t in train])
        self.eval_labels = torch.tensor([float(t.outcome) for t in evaluation])
        single = [(i,) for i in range(len(train))]
        self.examples = pair_indices(train, seed) if objective == "implicit-dpo" else single
        if not self.examples:
            raise ConfigError("implicit-dpo needs problems with both a right and a wrong trace")
        self.truncated = self.train.truncated

    def lengths(self) -> list[int]:
        lengths = self.train.lengths()
        return [max(lengths[i] for i in example) for example in self.examples]

    def loss(self, module, indices):
        index = [i for k in indices for i in self.examples[k]]
        sums = self.train.log_ratio_sums(module, index)
        labels = self.train_labels[index].to(sums.device)
        return IMPLICIT_OBJECTIVES[self.objective](sums, labels, self.beta)

    def evaluate(self) -> dict[str, float]:
        if not len(self.evaluation):
            return {}
        sums = self.evaluation.all_log_ratio_sums(self.module)
        loss = losses.implicit_outcome_ce(sums, self.eval_labels, self.beta)
        accuracy = ((sums > 0).float() == self.eval_labels).float().mean()
        return {"eval_loss": float(loss), "eval_outcome_accuracy": float(accuracy)}

    def finish(self, out_dir) -> None:
        self._save(merged_policy(self.policy.network), str(out_dir / "model"))


class StepLabelTask:
    """Explicit PRM: BCE of the head's logit at each step's last token against the step label (−1 skipped)."""

    data_stats = None  # trace files (synth.traces.read_traces) have their own checks, without row counts

    def __init__(self, model, train: Sequence[Trace], evaluation: Sequence[Trace]):
        self.model, self.module = model, model.network
        self.train_items = [self._encode(t) for t in train]
        self.eval_items = [self._encode(t) for t in evaluation]
        self.truncated = sum(e.truncated for e, _, _ in self.train_items)

    def _encode(self, trace: Trace):
        encoded, ends = self.model.encode(trace.sample())
        if len(ends) != len(trace.step_labels):
            raise DataError(f"trace of {trace.problem_id!r} has {len(trace.step_labels)} step labels but the "
                            f"separator '{self.model.options.separator}' finds {len(ends)} steps")
        return encoded, ends, trace.step_labels

    def lengths(self) -> list[int]:
        return [len(e.input_ids) for e, _, _ in self.train_items]

    def step_logits(self, module, items) -> tuple[torch.Tensor, torch.Tensor]:
        """([B, S] logits at step ends, [B, S] labels with −1 where there is no labelled step)."""
        logits = self.model.step_end_logits(module, self.model.collate([e for e, _, _ in items]),
                                            [ends for _, ends, _ in items])
        labels = torch.full(logits.shape, -1.0)
        for row, (_, _, row_labels) in enumerate(items):
            labels[row, : len(row_labels)] = torch.tensor(row_labels, dtype=torch.float32)
        return logits, labels.to(logits.device)

    def loss(self, module, indices):
        logits, labels = self.step_logits(module, [self.train_items[i] for i in indices])
        return losses.masked_step_bce(logits, labels), {"step_accuracy": _step_accuracy(logits, labels).detach()}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        if not self.eval_items:
            return {}
        was_training = self.module.training
        self.module.eval()
        parts = [self.step_logits(self.module, self.eval_items[i: i + 16]) for i in range(0, len(self.eval_items), 16)]
        self.module.train(was_training)
        logits = torch.cat([z.flatten() for z, _ in parts])
        labels = torch.cat([y.flatten() for _, y in parts])
        return {"eval_loss": float(losses.masked_step_bce(logits, labels)),
                "eval_step_accuracy": float(_step_accuracy(logits, labels))}

    def finish(self, out_dir) -> None:
        self.model.save(out_dir / "model")


def _step_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    labelled = labels >= 0
    return ((logits > 0).float() == labels)[labelled].float().mean() if labelled.any() else torch.tensor(0.0)


# -- building a task from a TrainConfig --------------------------------------------------------------------

@dataclass
class StepOptions:
    """Keys of every process objective: where steps end, how they aggregate, and the synthetic fallback data."""

    step_separator: str = "newline"
    """Where steps end: newline | step ("Step k:") | a literal marker such as "ки"."""
    step_aggregation: str = "min"
    """How step rewards make the response score: min | mean | sum | last."""
    synthetic_traces: int = 400
    """When `data` is empty, train on this many synthetic step-labelled arithmetic traces."""


@dataclass
class ImplicitPrmOptions(StepOptions, PolicyOptions):
    """Keys of the implicit-ce and implicit-dpo objectives: step keys plus β, the reference and LoRA."""


def load_trace_splits(config, options: StepOptions) -> tuple[list[Trace], list[Trace]]:
    """Training and held-out traces: `data` (JSONL of trace rows) or `synthetic_traces` generated ones; the
    held-out part is `eval_data`, else an `eval_fraction` of the problems (never splitting a problem)."""
    if config.data:
        traces = read_traces(config.data)
    else:
        traces = generate_traces(-(-options.synthetic_traces // 4), per_problem=4, seed=config.seed)
        traces = traces[: options.synthetic_traces]
    if config.eval_data:
        return traces, read_traces(config.eval_data)
    held, kept = split_by_problem(traces, config.eval_fraction, seed=config.seed)
    return kept, held


def process_options(options: StepOptions, **values):
    """The saved model's ProcessOptions: the step keys plus `values`; unset (None) values keep the defaults."""
    from rewardkit.models.process import ProcessOptions

    given = {"separator": options.step_separator, "aggregation": options.step_aggregation, **values}
    result = ProcessOptions.from_dict({k: v for k, v in given.items() if v is not None})
    result.check()
    return result


def build_step_label_task(config, options: StepOptions) -> StepLabelTask:
    """step-bce: a new token head on the causal backbone ('minilm' means the shipped SmolLM2 here)."""
    from rewardkit.models.process import build_step_head

    backbone = causal_backbone(config.backbone)
    saved = process_options(options, kind="explicit", max_length=max_length_for(config, backbone))  # before data
    train, evaluation = load_trace_splits(config, options)
    model = build_step_head(backbone, seed=config.seed, separator=saved.separator,
                            aggregation=saved.aggregation, max_length=saved.max_length)
    return StepLabelTask(model, train, evaluation)


def build_implicit_prm_task(config, options: ImplicitPrmOptions) -> ImplicitPRMTask:
    """implicit-ce | implicit-dpo: the policy starts from the causal backbone ('minilm' means the shipped
    SmolLM2 here); the reference is `options.reference`, else the untrained backbone."""
    from rewardkit.models.process import save_implicit_process

    if config.objective not in IMPLICIT_OBJECTIVES:
        raise ConfigError(f"unknown process objective '{config.objective}'; known: "
                          f"{', '.join(IMPLICIT_OBJECTIVES)}, step-bce")
    backbone = causal_backbone(config.backbone)
    saved = process_options(options, kind="implicit", reference=options.reference or backbone, beta=options.beta,
                            max_length=max_length_for(config, backbone))
    options.beta = saved.beta  # the β this run trains at, as train_config.json records it
    train, evaluation = load_trace_splits(config, options)
    policy, reference, tokenizer = policy_and_reference(backbone, options, max_length=saved.max_length,
                                                        seed=config.seed)

    def save(trained, path: str) -> None:
        save_implicit_process(trained, tokenizer, saved, path)

    return ImplicitPRMTask(policy, reference, train, evaluation, config.objective, saved.beta, save, config.seed)
