"""Generation through an OpenAI-compatible chat-completions server (vLLM, llama.cpp's server, `transformers
serve`), with the official `openai` client.

- the API key is read from an environment variable (`api_key_env`, default OPENAI_API_KEY); local servers
  that want none get the placeholder "none";
- at most `concurrency` requests are in flight; each has a `timeout` in seconds;
- a 429, a 5xx, a timeout, a dropped connection or an answer that is not a chat completion is retried up to
  `max_retries` times, waiting backoff · 2^attempt seconds (plus jitter), a 429's Retry-After when it is
  longer; other errors (401, 404, 400) are not retried;
- every error that reaches the user is a GenerationError naming the endpoint and what went wrong.

`n` samples of one prompt are `n` requests with seeds seed, seed+1, … (servers differ in their support of the
`n` field; one request per sample works everywhere).
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from rewardkit.errors import ConfigError, RewardkitError
from rewardkit.models.backends.base import Usage, as_messages, check_sampling


class GenerationError(RewardkitError):
    """A generation request that failed for good (after its retries)."""


class _Retryable(Exception):
    """A failure worth another attempt: (reason, seconds the server asked us to wait or None)."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


class OpenAIBackend:
    """`generate` through an OpenAI-compatible `base_url` (e.g. http://127.0.0.1:8000/v1)."""

    name = "openai"

    def __init__(self, base_url: str, model: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 4, timeout: float = 60.0, max_retries: int = 3, backoff: float = 0.5):
        try:
            import openai
        except ImportError:
            raise ConfigError("the openai backend needs the package: pip install openai") from None
        if concurrency < 1 or timeout <= 0 or max_retries < 0:
            raise ConfigError("concurrency >= 1, timeout > 0 and max_retries >= 0 are required")
        self.base_url = base_url.rstrip("/")
        self.endpoint = f"{self.base_url}/chat/completions"
        self.concurrency, self.max_retries, self.backoff, self.timeout = concurrency, max_retries, backoff, timeout
        self.client = openai.OpenAI(base_url=self.base_url, api_key=os.environ.get(api_key_env) or "none",
                                    timeout=timeout, max_retries=0)  # retries are ours, so they are counted
        self._errors = openai
        self.model = model or self._first_served_model()
        self.usage = Usage()
        self.last_logprobs: list[list[list[float]]] | None = None

    def _first_served_model(self) -> str:
        try:
            served = [m.id for m in self.client.models.list()]
        except Exception as err:  # noqa: BLE001 - any failure here means "name the model yourself"
            raise GenerationError(f"{self.base_url}/models: cannot list the served models ({_describe(err)}); "
                                  "name the model (--policy NAME)") from None
        if not served:
            raise GenerationError(f"{self.base_url}/models lists no model; name one (--policy NAME)")
        return served[0]

    def generate(self, prompts: Sequence, *, max_tokens: int, temperature: float = 0.0, n: int = 1,
                 seed: int = 0, logprobs: bool = False) -> list[list[str]]:
        check_sampling(max_tokens, temperature, n)
        start = time.perf_counter()
        jobs = [(i, k) for i in range(len(prompts)) for k in range(n)]

        def run(job):
            i, k = job
            return self._request(as_messages(prompts[i]), max_tokens, temperature, seed + k, logprobs)

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            answers = list(pool.map(run, jobs))
        texts = [[answers[i * n + k][0] for k in range(n)] for i in range(len(prompts))]
        self.last_logprobs = ([[answers[i * n + k][1] for k in range(n)] for i in range(len(prompts))]
                              if logprobs else None)
        self.usage.add(seconds=time.perf_counter() - start)
        return texts

    def _request(self, messages, max_tokens, temperature, seed, logprobs) -> tuple[str, list[float]]:
        """One completion, retried on 429 / 5xx / timeouts / malformed answers with exponential back-off."""
        for attempt in range(self.max_retries + 1):
            try:
                return self._once(messages, max_tokens, temperature, seed, logprobs)
            except _Retryable as failure:
                if attempt == self.max_retries:
                    raise GenerationError(f"{self.endpoint}: {failure.reason}; gave up after "
                                          f"{self.max_retries + 1} attempts") from None
                self.usage.add(retries=1)
                pause = self.backoff * 2 ** attempt * (1 + 0.25 * random.random())
                time.sleep(max(pause, failure.wait or 0.0))
        raise AssertionError("unreachable")

    def _once(self, messages, max_tokens, temperature, seed, logprobs) -> tuple[str, list[float]]:
        errors = self._errors
        extra = {"logprobs": True} if logprobs else {}
        try:
            answer = self.client.chat.completions.create(model=self.model, messages=messages, max_tokens=max_tokens,
                                                         temperature=temperature, seed=seed, **extra)
        except errors.APITimeoutError:
            raise _Retryable(f"no answer within the {self.timeout:g} s timeout") from None
        except errors.APIConnectionError as err:
            raise _Retryable(f"connection failed ({_describe(err)})") from None
        except errors.APIStatusError as err:
            status = err.status_code
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status} ({_describe(err)})", _retry_after(err.response)) from None
            raise GenerationError(f"{self.endpoint}: HTTP {status} for model '{self.model}' ({_describe(err)})"
                                  + (" — check the API key variable" if status in (401, 403) else "")) from None
        except (errors.APIResponseValidationError, ValueError) as err:
            raise _Retryable(f"the answer is not valid JSON ({_describe(err)})") from None
        return self._read(answer)

    def _read(self, answer) -> tuple[str, list[float]]:
        """(text, token log-probs) of a chat completion, or _Retryable when it is not one."""
        choices = getattr(answer, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise _Retryable(f"the answer has no choices[0].message: {str(answer)[:120]!r}")
        text = choices[0].message.content or ""
        usage = getattr(answer, "usage", None)
        tokens = getattr(usage, "completion_tokens", None)
        self.usage.add(requests=1, generated_tokens=tokens if tokens is not None else len(text.split()),
                       prompt_tokens=getattr(usage, "prompt_tokens", None) or 0)
        content = getattr(getattr(choices[0], "logprobs", None), "content", None) or []
        return text.strip(), [float(t.logprob) for t in content]


def _describe(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text[:200] if text else type(err).__name__


def _retry_after(response) -> float | None:
    try:
        return min(float(response.headers.get("retry-after")), 30.0)
    except (TypeError, ValueError, AttributeError):
        return None
