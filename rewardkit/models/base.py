"""The one interface every reward-model family implements, and what derives from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

from rewardkit.data.schemas import PreferencePair, Sample


@dataclass
class Scores:
    """One float per sample, plus whatever else a family knows about each sample."""

    rewards: list[float]
    attributes: dict[str, list[float]] | None = None
    """Per-attribute values (multi-objective and regression models), one list per attribute."""
    steps: list[list[float]] | None = None
    """Per-step values (process reward models)."""
    texts: list[str] | None = None
    """Critique or reasoning text (generative judges)."""
    truncated: int = 0
    """How many samples were cut to fit the model's max length."""
    truncated_items: list[bool] | None = None
    """Per sample: was it cut to fit the model's max length (None when the family does not say)."""
    weights: dict[str, list[float]] | None = None
    """Per-attribute gating weights (multi-objective models): reward = Σ_a weights[a] · attributes[a]."""

    def select(self, start: int, stop: int) -> "Scores":
        """The scores of samples start … stop-1 (a server's micro-batch split back into its requests)."""
        def part(values):
            return None if values is None else list(values[start:stop])
        def columns(values):
            return None if values is None else {k: v[start:stop] for k, v in values.items()}
        flags = part(self.truncated_items)
        return Scores(self.rewards[start:stop], columns(self.attributes), part(self.steps), part(self.texts),
                      sum(flags) if flags is not None else 0, flags, columns(self.weights))

    def __len__(self) -> int:
        return len(self.rewards)


@runtime_checkable
class RewardModel(Protocol):
    """How good is this response to this conversation? Every consumer (evaluation, batch scoring, export, the
    report's cost/accuracy plot) relies on these three members and nothing else."""

    family: str
    """The registry name of the family (rewardkit.families); a saved folder records it in rewardkit.json."""

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        """One reward per sample, in order. `batch_size`: samples per forward pass; None: the model's own."""
        ...

    def parameter_count(self) -> int | None:
        """Parameters the model runs to score (policy and reference counted once each when distinct); None when
        unknown (a remote judge, an ONNX graph)."""
        ...


def samples_of(batch) -> list[Sample]:
    """`batch` as a list, when every item is a Sample; a TypeError naming the first that is not (the families'
    `score` read `.prompt` of whatever came and failed with an AttributeError about a str or a dict)."""
    if isinstance(batch, (Sample, str, dict)):
        raise TypeError(f"score takes a list of rewardkit.Sample, got one {type(batch).__name__}; wrap it in a list")
    samples = list(batch)
    for index, item in enumerate(samples):
        if not isinstance(item, Sample):
            raise TypeError(f"score takes rewardkit.Sample items (Sample.from_text(prompt, response), or "
                            f"Sample(as_conversation(messages), response)); item {index} is a {type(item).__name__}")
    return samples


def reward_statistics(model) -> tuple[float, float] | None:
    """(mean, std) of the model's reward over its training data, when the model stored them, else None.

    The one place they are read (the server's `normalize: z`, shaping's z and center). A family that stores
    statistics keeps them as `options.reward_mean` / `options.reward_std` (scalar: written by training).
    """
    options = getattr(model, "options", None)
    mean, std = getattr(options, "reward_mean", None), getattr(options, "reward_std", None)
    if mean is None or std is None or not std > 0:
        return None
    return float(mean), float(std)


def needs_reference_answer(model) -> bool:
    """Does `model` grade each sample against its reference answer (implicit:rlpr, the 'answer' rule)? Models
    that do say so with a `needs_reference_answer` attribute; evaluation then keeps only answered pairs."""
    return bool(getattr(model, "needs_reference_answer", False))


def distinct_parameters(*modules) -> int:
    """Σ parameters over torch modules, each module and each shared tensor counted once (None entries skipped)."""
    seen: dict[int, int] = {}
    for module in modules:
        if module is not None:
            for tensor in module.parameters():
                seen[id(tensor)] = tensor.numel()
    return sum(seen.values())


def compare(model: RewardModel, pairs: Sequence[PreferencePair], batch_size: int | None = None) -> list[float]:
    """r(chosen) − r(rejected) per pair; > 0 means the model agrees with the label. `batch_size`: samples per
    forward (None: the model's default).

    Families that compare natively (judges) provide their own `compare` method, which wins.
    """
    native = getattr(model, "compare", None)
    if native is not None:
        return list(native(pairs))
    samples = [s for pair in pairs for s in pair.samples()]
    rewards = model.score(samples, batch_size=batch_size).rewards
    return [rewards[2 * i] - rewards[2 * i + 1] for i in range(len(pairs))]
