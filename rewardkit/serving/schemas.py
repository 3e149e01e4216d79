"""Request and response bodies of the scoring server. A body that does not match is a 422 naming the field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rewardkit.data.content_parts import content_text
from rewardkit.data.schemas import Message, Sample, as_conversation
from rewardkit.data.templated import split_rendered

Normalize = Literal["raw", "z"]
"""raw: the model's reward; z: (reward − mean) / std with the statistics stored in the model at training."""


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    """A string, or (OpenAI's format) a list of text parts, read as their texts (rewardkit.data.content_parts)."""

    @field_validator("content", mode="before")
    @classmethod
    def _text_of_parts(cls, value):
        return content_text(value) if isinstance(value, list) else value


class Item(BaseModel):
    """A response to a conversation: `prompt` is a string (one user turn) or a list of turns."""

    model_config = ConfigDict(extra="forbid")
    prompt: str | list[Turn] = Field(min_length=1)
    response: str
    reference_answer: str | None = None
    """For rewards that grade against a correct answer (implicit:rlpr, the answer rule)."""
    reference_responses: list[str] | None = Field(default=None, min_length=1)
    """Other responses to the same prompt (e.g. the reference policy's) that shaping "par" compares with."""

    def sample(self) -> Sample:
        prompt = self.prompt if isinstance(self.prompt, str) else [Message(t.role, t.content) for t in self.prompt]
        return Sample(as_conversation(prompt), self.response, self.reference_answer,
                      tuple(self.reference_responses or ()))


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item] = Field(min_length=1)
    normalize: Normalize | None = None
    """None: the server's default (`rewardkit serve --normalize`)."""
    combine: str | None = Field(default=None, max_length=200)
    """Rule rewards added to the model's (normalised) reward, e.g. "0.8*rm + 0.2*format" (models/combined.py);
    None: the server's default (`rewardkit serve --combine`), else the model's reward alone."""
    shaping: str | None = Field(default=None, max_length=200)
    """Shaping of the model's reward before any combination, e.g. "par" or "z; clip=-3,3" (rewardkit.shaping);
    None: the server's default (`rewardkit serve --shaping`), else none."""


class ScoreResponse(BaseModel):
    rewards: list[float]
    truncated: list[bool] | None = None
    """Per item: cut to the model's max_length (from the left of the prompt, as in training)."""
    attributes: dict[str, list[float]] | None = None
    steps: list[list[float]] | None = None
    texts: list[str] | None = None
    normalize: Normalize


class Pair(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str | list[Turn] = Field(min_length=1)
    chosen: str
    rejected: str

    def samples(self) -> tuple[Sample, Sample]:
        return (Item(prompt=self.prompt, response=self.chosen).sample(),
                Item(prompt=self.prompt, response=self.rejected).sample())


class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pairs: list[Pair] = Field(min_length=1)


class CompareResponse(BaseModel):
    probabilities: list[float]
    """P(chosen ≻ rejected) = σ(r_chosen − r_rejected) (Bradley-Terry), raw rewards."""
    margins: list[float]


class OpenRLHFRequest(BaseModel):
    """OpenRLHF's remote reward model protocol (`--remote_rm_url …/get_reward`): `query` holds whole sequences
    as the trainer decoded them (its chat template, special tokens and padding included); `prompts`, when sent,
    the rendered prompt of each, which is split off its query; `labels`, when sent, each prompt's label (the
    reference answer for rewards that grade against one). The rendered turns are read back into messages
    (rewardkit.data.templated), so the reward model scores the conversation in its own template."""

    query: list[str] = Field(min_length=1)
    prompts: list[str] | None = None
    labels: list | None = None

    def samples(self) -> list[Sample]:
        prompts = self.prompts if self.prompts is not None and len(self.prompts) == len(self.query) else None
        labels = self.labels if self.labels is not None and len(self.labels) == len(self.query) else None
        out = []
        for i, text in enumerate(self.query):
            conversation, response = split_rendered(text, prompts[i] if prompts else None)
            label = labels[i] if labels else None
            out.append(Sample(conversation, response, label if isinstance(label, str) and label else None))
        return out


class OpenRLHFResponse(BaseModel):
    rewards: list[float]
