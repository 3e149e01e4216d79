"""The plain records every layer passes around. Frozen, hashable, no tensors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from rewardkit.data.content_parts import content_text


@dataclass(frozen=True)
class Message:
    """One chat turn."""

    role: str
    """'system', 'user' or 'assistant'."""
    content: str


Conversation = tuple[Message, ...]


def as_conversation(prompt: str | Conversation | list) -> Conversation:
    """A plain string becomes one user turn; message dicts become Messages (content: a string or a list of text
    parts, rewardkit.data.content_parts).

    >>> as_conversation("Hi")
    (Message(role='user', content='Hi'),)
    """
    if isinstance(prompt, str):
        return (Message("user", prompt),)
    return tuple(m if isinstance(m, Message) else Message(str(m["role"]), content_text(m.get("content")))
                 for m in prompt)


@dataclass(frozen=True)
class Sample:
    """A response to a conversation: the unit every reward model scores."""

    prompt: Conversation
    response: str
    reference_answer: str | None = None
    """The correct final answer, for rewards that grade a response against one (implicit:rlpr, the answer rule)."""
    reference_responses: tuple[str, ...] = ()
    """Other responses to the same prompt (e.g. from the reference policy) that Preference-As-Reward shaping
    compares this one against (rewardkit.shaping.par)."""

    @classmethod
    def from_text(cls, prompt: str, response: str, reference_answer: str | None = None) -> "Sample":
        return cls(as_conversation(prompt), response, reference_answer)


@dataclass(frozen=True)
class PreferencePair:
    """Two responses to the same conversation, `chosen` preferred over `rejected`.

    Transcripts whose two sides diverge before their last turn keep the turns they share as `prompt`; each
    side's own earlier turns are `chosen_turns` / `rejected_turns`, context of its final response."""

    prompt: Conversation
    chosen: str
    rejected: str
    margin: float | None = None
    """How strongly chosen is preferred (e.g. HelpSteer2-Preference strength 1..3); None when unknown."""
    subset: str | None = None
    """Where the pair comes from (template family, benchmark subset)."""
    id: str | None = None
    chosen_turns: Conversation = ()
    """Turns after the shared prompt and before the chosen response (empty unless the sides diverge early)."""
    rejected_turns: Conversation = ()
    """Turns after the shared prompt and before the rejected response."""
    reference_answer: str | None = None
    """The prompt's correct final answer, when the data gives one (`reference_answer` / `answer` fields)."""

    @property
    def diverged(self) -> bool:
        """The two conversations differ before their final responses."""
        return bool(self.chosen_turns or self.rejected_turns)

    def samples(self) -> tuple[Sample, Sample]:
        return (Sample(self.prompt + self.chosen_turns, self.chosen, self.reference_answer),
                Sample(self.prompt + self.rejected_turns, self.rejected, self.reference_answer))


@dataclass(frozen=True)
class RatedResponse:
    """A response with per-attribute ratings (HelpSteer2 style). A missing rating is None."""

    prompt: Conversation
    response: str
    ratings: Mapping[str, float | None] = field(default_factory=dict)
    subset: str | None = None
    id: str | None = None

    def sample(self) -> Sample:
        return Sample(self.prompt, self.response)
