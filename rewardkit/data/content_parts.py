"""A chat message's content as text: a string, or a list of text parts.

OpenAI's chat format (and Hugging Face's, for multimodal chat templates) lets `content` be a list of parts such as
`{"type": "text", "text": "..."}`. rewardkit scores text: the texts are joined by newlines (what vLLM does for a
text-only model) and any other part (an image, audio) is an error that names it.

    >>> content_text([{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}])
    'Hi\\nthere'
"""

from __future__ import annotations

from typing import Any, Mapping

from rewardkit.data.jsonl import json_type_name

PART_SEPARATOR = "\n"


class ContentError(ValueError):
    """Content that is not text. `where` is the place inside the content ("" for the content itself, "[1]" for a
    part, "[1].text" for a part's text); `reason` says what is wrong there."""

    def __init__(self, reason: str, where: str = ""):
        super().__init__(f"content{where}: {reason}")
        self.reason, self.where = reason, where


def content_text(content: Any) -> str:
    """The text of a message's content (a string, or a non-empty list of text parts); ContentError otherwise."""
    if isinstance(content, str):
        return content
    if not isinstance(content, (list, tuple)):
        raise ContentError(f"must be a string or a list of text parts, got {json_type_name(content)}")
    if not content:
        raise ContentError("is an empty list of content parts")
    return PART_SEPARATOR.join(_part_text(i, part) for i, part in enumerate(content))


def _part_text(index: int, part: Any) -> str:
    where = f"[{index}]"
    if not isinstance(part, Mapping):
        raise ContentError(f"must be a {{type, text}} object, got {json_type_name(part)}", where)
    kind = part.get("type", "text")
    if kind != "text":
        raise ContentError(f"is a part of type {kind!r}; rewardkit scores text only", where)
    text = part.get("text")
    if not isinstance(text, str):
        raise ContentError(f"must be a string, got {json_type_name(text)}", f"{where}.text")
    return text
