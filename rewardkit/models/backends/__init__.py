"""Text generation for generative reward models (judges), behind one small interface.

    backend.generate(prompts, max_tokens=64, temperature=0.0, n=1, seed=0) -> list[list[str]]

`prompts` are chat conversations (lists of {"role", "content"} dicts; a plain string is one user turn); the
answer holds, per prompt, `n` generated texts. Each backend counts what it spent in `usage` (generated tokens,
requests, seconds), which the evaluation reports as the judge's cost per pair. With `logprobs=True` a backend
also fills `last_logprobs`: per prompt, per text, the log-probability of each generated token.

- `local.TransformersBackend`: a causal LM in this process (default: the shipped SmolLM2-135M-Instruct),
  batched generation with left padding.
- `openai_http.OpenAIBackend`: any OpenAI-compatible server (vLLM, llama.cpp's server, `transformers serve`)
  through the official `openai` client, with bounded concurrency, a timeout and retries with back-off.
"""

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


def make_backend(name: str, model: str | None = None, *, base_url: str | None = None, **options) -> Generator:
    """`transformers` (model: folder, hub id or 'smollm2') or `openai` (base_url required; model: the served
    name, None: the first the server lists)."""
    if name == "transformers":
        if base_url:
            raise ConfigError("base_url applies to the openai backend, not to transformers")
        from rewardkit.models.backends.local import TransformersBackend

        return TransformersBackend(model or "smollm2", **options)
    if name == "openai":
        if not base_url:
            raise ConfigError("the openai backend needs base_url (e.g. --base-url http://127.0.0.1:8000/v1)")
        from rewardkit.models.backends.openai_http import OpenAIBackend

        return OpenAIBackend(base_url, model, **options)
    raise ConfigError(f"unknown generation backend '{name}'; known: {', '.join(BACKENDS)}")
