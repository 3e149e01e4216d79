"""Training the `implicit` family on preference pairs, for the generic loop (rewardkit.training.loop.train).

- **dpo** (Rafailov et al., 2023): with s(y) = Σ_response (log πθ(y | x) − log πref(y | x)),
      loss = −log σ(β · (s(y_chosen) − s(y_rejected)))
  The trained policy is then an implicit reward model r = β·s(y), saved as an `implicit` dpo model
  (rewardkit.models.implicit) whose policy is the trained weights and whose reference is `reference`
  (default: the untrained backbone), so its scores are exactly the β·s the loss was computed on.

Responses are rendered and masked as the implicit scorer renders them; the reference sums are computed once
before the first step; LoRA (`lora_rank` > 0) is merged into the saved policy (rewardkit.training.log_ratio).

    task = rewardkit.families.build_task(config)   # config.family == "implicit", config.objective == "dpo"
    train(task, config, out_dir)                   # rewardkit.training.loop.train
    model = rewardkit.load(out_dir / "model")      # an ImplicitRewardModel of kind dpo
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from torch import Tensor

from rewardkit.data.schemas import PreferencePair, Sample
from rewardkit.errors import ConfigError
from rewardkit.models.logprobs import LogprobScorer
from rewardkit.training import losses
from rewardkit.training.config import max_length_for
from rewardkit.training.log_ratio import (
    PolicyOptions, ReferencedResponses, ResponseLogprobSum, causal_backbone, merged_policy, policy_and_reference,
)
from rewardkit.training.pair_data import PairKeys, load_pair_splits

PAIR_OBJECTIVES: dict[str, Callable[[Tensor, Tensor, float], Tensor]] = {"dpo": losses.implicit_dpo}
"""objective → loss(s_chosen, s_rejected, β). Each trains the implicit reward kind of the same name."""


@dataclass
class DpoOptions(PairKeys, PolicyOptions):
    """Keys of the implicit family's dpo objective: how pairs are read, β, the reference and LoRA."""


def check_objective(name: str) -> None:
    if name not in PAIR_OBJECTIVES:
        raise ConfigError(f"unknown implicit objective '{name}' (config key 'objective'); known: "
                          f"{', '.join(PAIR_OBJECTIVES)}")


def chosen_then_rejected(pairs: Sequence[PreferencePair]) -> list[Sample]:
    """[chosen_0, rejected_0, chosen_1, rejected_1, …]: pair i sits at rows 2i and 2i + 1."""
    return [sample for pair in pairs for sample in pair.samples()]


class ImplicitPairTask:
    """Pairwise training of an implicit reward; one forward runs the chosen and rejected responses of a batch."""

    data_stats = None  # set by build_implicit_task when the pairs come from a file

    def __init__(self, policy: LogprobScorer, reference: LogprobScorer, train: Sequence[PreferencePair],
                 evaluation: Sequence[PreferencePair], objective: str, beta: float,
                 save: Callable[[object, str], None]):
        check_objective(objective)
        self.policy, self.objective, self.beta, self._save = policy, PAIR_OBJECTIVES[objective], beta, save
        self.module = ResponseLogprobSum(policy.network)
        self.train = ReferencedResponses(policy, reference, chosen_then_rejected(train))
        self.evaluation = ReferencedResponses(policy, reference, chosen_then_rejected(evaluation))
        self.truncated = self.train.truncated

    def lengths(self) -> list[int]:
        lengths = self.train.lengths()
        return [max(lengths[i], lengths[i + 1]) for i in range(0, len(lengths), 2)]

    def loss(self, module, indices):
        sums = self.train.log_ratio_sums(module, [row for i in indices for row in (2 * i, 2 * i + 1)])
        chosen, rejected = sums[0::2], sums[1::2]
        return self.objective(chosen, rejected, self.beta), {"accuracy": (chosen > rejected).float().mean().detach()}

    def evaluate(self) -> dict[str, float]:
        """Loss and pairwise accuracy (ties wrong) of the current policy on the evaluation pairs."""
        if not len(self.evaluation):
            return {}
        sums = self.evaluation.all_log_ratio_sums(self.module)
        chosen, rejected = sums[0::2], sums[1::2]
        return {"eval_loss": float(self.objective(chosen, rejected, self.beta)),
                "eval_accuracy": float((chosen > rejected).float().mean()), "eval_pairs": len(chosen)}

    def finish(self, out_dir) -> None:
        self._save(merged_policy(self.policy.network), str(out_dir / "model"))


def build_pair_task(backbone: str, train: Sequence[PreferencePair], evaluation: Sequence[PreferencePair], *,
                    objective: str = "dpo", options: PolicyOptions | None = None, max_length: int,
                    seed: int = 0) -> ImplicitPairTask:
    """An ImplicitPairTask whose policy starts from `backbone` (a causal-LM folder, hub id or 'smollm2') and
    whose reference is `options.reference` (empty: the backbone as it was before training). β unset: the
    trained kind's documented default (models.implicit.ImplicitOptions)."""
    from rewardkit.models.implicit import ImplicitOptions, save_with_policy

    check_objective(objective)
    options = options or PolicyOptions()
    policy, reference_scorer, tokenizer = policy_and_reference(backbone, options, max_length=max_length, seed=seed)
    saved = ImplicitOptions(kind=objective, reference=options.reference or backbone, beta=options.beta,
                            max_length=max_length)
    options.beta = saved.beta  # the β this run trains at, as train_config.json records it

    def save(network, path: str) -> None:
        save_with_policy(network, tokenizer, saved, path)

    return ImplicitPairTask(policy, reference_scorer, train, evaluation, objective, saved.beta, save)


def build_implicit_task(config, options: DpoOptions) -> ImplicitPairTask:
    """The task for a TrainConfig of family `implicit`: pairs from data / eval_data (or an eval_fraction)."""
    check_objective(config.objective)  # before any model or data is read
    train, evaluation, stats = load_pair_splits(config, options)
    backbone = causal_backbone(config.backbone)
    task = build_pair_task(backbone, train, evaluation, objective=config.objective, options=options,
                           max_length=max_length_for(config, backbone), seed=config.seed)
    task.data_stats = stats
    return task
