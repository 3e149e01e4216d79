"""A Python client of the scoring server (`rewardkit serve`), with timeouts and retries.

    >>> from rewardkit.client import RewardClient
    >>> client = RewardClient("http://127.0.0.1:8000", api_key="...")                    # doctest: +SKIP
    >>> client.score([{"prompt": "2+2?", "response": "4"}])                             # doctest: +SKIP
    [1.83]

Connection errors, timeouts, 429 and 5xx are retried with exponential back-off (`retries` times); other
answers (401, 413, 422, 400) are raised at once as a ServerError carrying the server's reason.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from rewardkit.errors import RewardkitError

RETRIED_STATUS = (429, 500, 502, 503, 504)


class ServerError(RewardkitError):
    """The server refused a request, or could not be reached after the retries."""


class RewardClient:
    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = 60.0, retries: int = 3,
                 backoff: float = 0.5, transport=None):
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url, self.retries, self.backoff = url.rstrip("/"), retries, backoff
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    def score(self, items: Sequence[dict], normalize: str | None = None, shaping: str | None = None) -> list[float]:
        """Rewards of {"prompt", "response"} items (prompt: a string or a list of {role, content}); `shaping`
        ("par": items carry "reference_responses") as rewardkit.shaping."""
        body: dict[str, Any] = {"items": list(items)}
        if normalize is not None:
            body["normalize"] = normalize
        if shaping is not None:
            body["shaping"] = shaping
        return self.post("/v1/score", body)["rewards"]

    def compare(self, pairs: Sequence[dict]) -> list[float]:
        """P(chosen ≻ rejected) of {"prompt", "chosen", "rejected"} pairs."""
        return self.post("/v1/compare", {"pairs": list(pairs)})["probabilities"]

    def health(self) -> dict:
        return self._request("GET", "/health", None)

    def post(self, path: str, body: dict) -> dict:
        return self._request("POST", path, body)

    def _request(self, method: str, path: str, body: dict | None) -> dict:
        import httpx

        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.request(method, path, json=body)
            except (httpx.TimeoutException, httpx.TransportError) as err:
                if last:
                    raise ServerError(f"{self.url}{path}: {type(err).__name__} after {self.retries + 1} attempts "
                                      f"({err})") from None
            else:
                if response.status_code < 400:
                    try:
                        return response.json()
                    except ValueError:
                        raise ServerError(f"{self.url}{path}: the answer is not JSON: {response.text[:200]!r}"
                                          ) from None
                if response.status_code not in RETRIED_STATUS or last:
                    raise ServerError(f"{self.url}{path}: HTTP {response.status_code}: {_reason(response)}")
            time.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RewardClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _reason(response) -> str:
    try:
        return str(response.json().get("detail", response.text))[:500]
    except ValueError:
        return response.text[:500]


class RemoteRewardModel:
    """A RewardModel whose scores come from a rewardkit server (so rules can be combined with it locally)."""

    def __init__(self, client: RewardClient, normalize: str | None = None, family: str = "remote"):
        self.client, self.normalize, self.family = client, normalize, family

    def score(self, batch, batch_size: int | None = None):
        from rewardkit.models.base import Scores

        items = [{"prompt": [{"role": m.role, "content": m.content} for m in s.prompt], "response": s.response,
                  **({"reference_answer": s.reference_answer} if s.reference_answer is not None else {})}
                 for s in batch]
        answer = self.client.post("/v1/score", {"items": items, **({"normalize": self.normalize}
                                                                     if self.normalize else {})})
        flags = answer.get("truncated")
        return Scores(answer["rewards"], attributes=answer.get("attributes"), steps=answer.get("steps"),
                      texts=answer.get("texts"), truncated=sum(flags) if flags else 0, truncated_items=flags)

    def parameter_count(self) -> int | None:
        return None
