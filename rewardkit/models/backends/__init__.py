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

from rewardkit.errors import ConfigError
from rewardkit.models.backends.base import BACKENDS, Generator, Usage, as_messages, check_sampling

__all__ = ["BACKENDS", "Generator", "Usage", "as_messages", "check_sampling", "make_backend"]


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
