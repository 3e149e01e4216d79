"""The generation interface and what every backend shares: usage counters, prompt messages, checks."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Protocol, Sequence

from rewardkit.errors import ConfigError

BACKENDS = ("transformers", "openai")


@dataclass
class Usage:
    """What a backend has spent since it was made (or `reset`)."""

    generated_tokens: int = 0
    """Tokens generated (the server's `usage.completion_tokens`, or counted locally)."""
    prompt_tokens: int = 0
    requests: int = 0
    """Generated texts (one per prompt and sample)."""
    retries: int = 0
    """Requests repeated after a 429, a 5xx, a timeout or a malformed answer (HTTP backend)."""
    seconds: float = 0.0
    """Wall-clock seconds spent inside `generate`."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts) -> None:
        with self._lock:
            for key, value in amounts.items():
                setattr(self, key, getattr(self, key) + value)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


class Generator(Protocol):
    """What a judge needs from a generation backend."""

    name: str
    model: str
    """The generating model (folder, hub id, or the served model's name)."""
    usage: Usage

    def generate(self, prompts: Sequence, *, max_tokens: int, temperature: float = 0.0, n: int = 1,
                 seed: int = 0, logprobs: bool = False) -> list[list[str]]: ...


def as_messages(prompt) -> list[dict]:
    """A prompt as chat messages: a string is one user turn.

    >>> as_messages("Hi")
    [{'role': 'user', 'content': 'Hi'}]
    """
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in prompt]


def check_sampling(max_tokens: int, temperature: float, n: int) -> None:
    if max_tokens < 1 or n < 1 or temperature < 0:
        raise ConfigError(f"generation needs max_tokens >= 1, n >= 1 and temperature >= 0; got max_tokens="
                          f"{max_tokens}, n={n}, temperature={temperature}")
