"""Conversations read back from text a chat template has already rendered.

RL trainers hand a reward server decoded token sequences, not messages: OpenRLHF's remote reward model
protocol sends `tokenizer.batch_decode(sequences, skip_special_tokens=False)`, so each query is the policy's
chat template with its special tokens, often with padding on either side. Scoring that string as one user
turn would wrap a second template around the first. This module recognises the common templates and returns
the turns they hold, so the reward model sees the conversation the policy saw, rendered in its own template.

    >>> untemplate("<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\nHello!<|im_end|><|endoftext|>")
    (Message(role='user', content='Hi'), Message(role='assistant', content='Hello!'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rewardkit.data.schemas import Conversation, Message


@dataclass(frozen=True)
class Template:
    """One chat-template family: how a turn opens (the role is group 1). Its closing token is in SPECIAL_TOKENS."""

    name: str
    opening: re.Pattern


TEMPLATES = (
    Template("chatml", re.compile(r"<\|im_start\|>(\w+)\n")),  # Qwen, SmolLM and many others; <|im_end|>
    Template("llama3", re.compile(r"<\|start_header_id\|>(\w+)<\|end_header_id\|>\n\n")),  # <|eot_id|>
    Template("gemma", re.compile(r"<start_of_turn>(\w+)\n")),  # <end_of_turn>
)

ROLE_NAMES = {"model": "assistant", "ipython": "tool"}
"""Template role names that differ from rewardkit's (system, user, assistant, tool)."""

SPECIAL_TOKENS = ("<|endoftext|>", "<|begin_of_text|>", "<|end_of_text|>", "<|finetune_right_pad_id|>",
                  "<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<bos>", "<eos>", "<pad>", "<s>", "</s>")
"""Begin/end-of-text, padding and end-of-turn tokens that may surround a decoded sequence."""


def strip_special(text: str) -> str:
    """`text` without the special tokens (and whitespace) at either end; tokens inside it stay."""
    while True:
        stripped = text.strip()
        for token in SPECIAL_TOKENS:
            if stripped.startswith(token):
                stripped = stripped[len(token):]
            if stripped.endswith(token):
                stripped = stripped[:-len(token)]
        if stripped == text:
            return text
        text = stripped


def untemplate(text: str) -> Conversation | None:
    """The turns of `text` if it is one of TEMPLATES rendered (special tokens around it allowed), else None.

    A trailing opening with nothing after it (the generation prompt, e.g. `<|im_start|>assistant\\n`) is not a
    turn. A last turn with no closing token (a response cut at max tokens) keeps what it has."""
    for template in TEMPLATES:
        openings = list(template.opening.finditer(text))
        if not openings or strip_special(text[:openings[0].start()]):
            continue
        turns = []
        for here, following in zip(openings, openings[1:] + [None]):
            content = strip_special(text[here.end():following.start() if following else len(text)])
            if following is None and not content:
                break  # the generation prompt
            role = here.group(1)
            turns.append(Message(ROLE_NAMES.get(role, role), content))
        return tuple(turns)
    return None


def split_rendered(query: str, prompt: str | None = None) -> tuple[Conversation, str]:
    """(conversation, response) of a rendered sequence: the text after `prompt` is the response when `query`
    holds `prompt`; otherwise the last assistant turn of the untemplated query is. Text in no known template
    is a user turn (the prompt) or, with no prompt, a response to an empty conversation."""
    if prompt and prompt in query:
        response = query[query.index(prompt) + len(prompt):]
        turns = untemplate(prompt)
        return (Message("user", strip_special(prompt)),) if turns is None else turns, strip_special(response)
    turns = untemplate(query)
    if turns and turns[-1].role == "assistant":
        return turns[:-1], turns[-1].content
    return (), strip_special(query)
