"""A TRL `reward_funcs` callable (GRPOTrainer, RLOOTrainer) over a local reward model or a `rewardkit serve` URL.

    from trl import GRPOTrainer
    from rewardkit.integrations.trl import reward_func

    trainer = GRPOTrainer(model=policy, reward_funcs=[reward_func("runs/my-rm/model")], ...)   # local
    trainer = GRPOTrainer(model=policy, reward_funcs=[reward_func("http://rm:8000", api_key=KEY)], ...)  # remote

TRL calls it as `f(prompts=[...], completions=[...], **columns)`; prompts and completions are strings, or
conversations (lists of {"role", "content"}) whose completion is the final assistant message. A dataset column
named `reference_answer` is passed on to rewards that grade against one (implicit:rlpr, the answer rule); a
column `reference_responses` (a list of strings per row, e.g. the reference policy's responses to the prompt)
is what `shaping="par"` compares each completion with:

    reward_func("runs/my-rm/model", shaping="par")      # dataset rows: {"prompt", "reference_responses": [...]}
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from rewardkit.data.content_parts import ContentError, content_text
from rewardkit.data.schemas import Message, Sample, as_conversation
from rewardkit.errors import DataError


def to_sample(prompt: Any, completion: Any, reference_answer: str | None = None,
              reference_responses: Sequence[str] = ()) -> Sample:
    """One TRL (prompt, completion) as a Sample; a conversational completion is its last assistant message,
    any turns before it extend the prompt. Message content may be a list of text parts
    (rewardkit.data.content_parts)."""
    if isinstance(completion, str):
        response, extra = completion, ()
    elif isinstance(completion, (list, tuple)) and completion and isinstance(completion[-1], dict):
        *extra, last = _messages("completion", completion)
        response = last.content
    else:
        raise DataError(f"a completion must be a string or a list of messages, got {type(completion).__name__}")
    if isinstance(prompt, str):
        turns = as_conversation(prompt)
    elif isinstance(prompt, (list, tuple)):
        turns = _messages("prompt", prompt)
    else:
        raise DataError(f"a prompt must be a string or a list of messages, got {type(prompt).__name__}")
    return Sample(turns + tuple(extra), response, reference_answer, tuple(reference_responses))


def _messages(name: str, messages: Sequence) -> tuple[Message, ...]:
    """{role, content} dicts as Messages; an error naming the message whose content is not text."""
    turns = []
    for index, message in enumerate(messages):
        if isinstance(message, Message):
            turns.append(message)
            continue
        if not isinstance(message, dict) or "role" not in message:
            raise DataError(f"{name}[{index}]: a message must be a {{role, content}} object, got {message!r:.60}")
        try:
            turns.append(Message(str(message["role"]), content_text(message.get("content"))))
        except ContentError as err:
            raise DataError(f"{name}[{index}] {err}") from None
    return tuple(turns)


def reward_func(model_or_url: Any, *, api_key: str | None = None, normalize: str | None = None,
                batch_size: int | None = None, combine: str | None = None,
                rule_options: dict | None = None, reference_column: str = "reference_answer",
                shaping: str | None = None, references_column: str = "reference_responses",
                name: str = "rewardkit") -> Callable[..., list[float]]:
    """TRL's reward function over a loaded RewardModel, a model folder / spec (loaded here), or an http(s) URL of
    a rewardkit server (`normalize` raw | z applies there). `shaping` ("par", "z; clip=-3,3": rewardkit.shaping)
    shapes the model's reward; `combine` ("0.8*rm + 0.2*format") then adds rule rewards (rewardkit.models.rules,
    options per rule in `rule_options`). The dataset column `reference_column` gives each prompt's reference
    answer (the 'answer' rule, implicit:rlpr), `references_column` its reference responses (shaping 'par')."""
    model = _reward_model(model_or_url, api_key=api_key, normalize=normalize)
    if shaping is not None or combine is not None:
        from rewardkit.models.shaped import shaped_and_combined

        model = shaped_and_combined(model, shaping=shaping, combine=combine, rule_options=rule_options)

    def rewards(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        answers = columns.get(reference_column) or [None] * len(prompts)
        references = [_responses(r, references_column, i)
                      for i, r in enumerate(columns.get(references_column) or [()] * len(prompts))]
        samples = [to_sample(p, c, None if a is None else str(a), refs)
                   for p, c, a, refs in zip(prompts, completions, answers, references)]
        return [float(r) for r in model.score(samples, batch_size=batch_size).rewards]

    rewards.__name__ = name  # TRL logs each reward function under its __name__
    return rewards


def _responses(value: Any, column: str, row: int) -> tuple[str, ...]:
    """A row's reference responses: a list of strings (None: none)."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise DataError(f"column {column!r}, row {row}: must be a list of strings, got {type(value).__name__}")
    return tuple(value)


def _reward_model(model_or_url: Any, *, api_key: str | None, normalize: str | None):
    if isinstance(model_or_url, str) and model_or_url.startswith(("http://", "https://")):
        from rewardkit.client import RemoteRewardModel, RewardClient

        return RemoteRewardModel(RewardClient(model_or_url, api_key=api_key), normalize)
    if normalize not in (None, "raw"):
        raise DataError("normalize applies to a server URL; load the model with normalize=True instead")
    if isinstance(model_or_url, str):
        from rewardkit import families

        return families.from_name(model_or_url)
    return model_or_url
