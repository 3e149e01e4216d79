"""A TRL `reward_funcs` callable (GRPOTrainer, RLOOTrainer) over a local reward model or a `rewardkit serve` URL.

    from trl import GRPOTrainer
    from rewardkit.integrations.trl import reward_func

    trainer = GRPOTrainer(model=policy, reward_funcs=[reward_func("runs/my-rm/model")], ...)   # local
    trainer = GRPOTrainer(model=policy, reward_funcs=[reward_func("http://rm:8000", api_key=KEY)], ...)  # remote

TRL calls it as `f(prompts=[...], completions=[...], **columns)`; prompts and completions are strings, or
conversations (lists of {"role", "content"}) whose completion is the final assistant message. A dataset column
named `reference_answer` is passed on to rewards that grade against one (implicit:rlpr).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from rewardkit.data.schemas import Message, Sample, as_conversation
from rewardkit.errors import DataError


def to_sample(prompt: Any, completion: Any, reference_answer: str | None = None) -> Sample:
    """One TRL (prompt, completion) as a Sample; a conversational completion is its last assistant message,
    any turns before it extend the prompt."""
    if isinstance(completion, str):
        response, extra = completion, []
    elif isinstance(completion, (list, tuple)) and completion and isinstance(completion[-1], dict):
        response, extra = str(completion[-1].get("content", "")), list(completion[:-1])
    else:
        raise DataError(f"a completion must be a string or a list of messages, got {type(completion).__name__}")
    turns = as_conversation(prompt) if isinstance(prompt, (str, list, tuple)) else None
    if turns is None:
        raise DataError(f"a prompt must be a string or a list of messages, got {type(prompt).__name__}")
    return Sample(turns + tuple(Message(str(m["role"]), str(m["content"])) for m in extra), response,
                  reference_answer)


def reward_func(model_or_url: Any, *, api_key: str | None = None, normalize: str | None = None,
                batch_size: int | None = None, name: str = "rewardkit") -> Callable[..., list[float]]:
    """TRL's reward function: a loaded RewardModel, a model folder / spec (loaded here), or an http(s) URL of a
    rewardkit server (scored through rewardkit.client; `normalize` raw | z applies there)."""
    if isinstance(model_or_url, str) and model_or_url.startswith(("http://", "https://")):
        from rewardkit.client import RewardClient

        client = RewardClient(model_or_url, api_key=api_key)

        def score(samples: Sequence[Sample]) -> list[float]:
            items = [{"prompt": [{"role": m.role, "content": m.content} for m in s.prompt], "response": s.response,
                      **({"reference_answer": s.reference_answer} if s.reference_answer is not None else {})}
                     for s in samples]
            return client.score(items, normalize=normalize)
    else:
        if normalize not in (None, "raw"):
            raise DataError("normalize applies to a server URL; load the model with normalize=True instead")
        if isinstance(model_or_url, str):
            from rewardkit import families

            model = families.from_name(model_or_url)
        else:
            model = model_or_url

        def score(samples: Sequence[Sample]) -> list[float]:
            return [float(r) for r in model.score(list(samples), batch_size=batch_size).rewards]

    def rewards(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        answers = columns.get("reference_answer") or [None] * len(prompts)
        return score([to_sample(p, c, a) for p, c, a in zip(prompts, completions, answers)])

    rewards.__name__ = name  # TRL logs each reward function under its __name__
    return rewards
