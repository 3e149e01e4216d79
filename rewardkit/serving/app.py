"""The scoring server: a FastAPI app over any RewardModel.

    POST /v1/score      {"items": [{"prompt", "response", "reference_responses"?}], "normalize"?, "shaping"?,
                        "combine"?}  → rewards (+ truncated, attributes, steps, texts when the family has them).
                        The model's reward is normalised, then shaped (rewardkit.shaping: "par" compares each
                        item with its reference_responses), then combined with rule rewards; attributes hold
                        the unshaped reward and each combined part
    POST /v1/compare    {"pairs": [{"prompt", "chosen", "rejected"}]}   → P(chosen ≻ rejected), margins
    POST /get_reward    OpenRLHF's remote reward model protocol {"query": [...]} → {"rewards": [...]}
    GET  /health        no key needed
    GET  /metrics       Prometheus text

Every request is scored through one MicroBatcher, so concurrent requests share batches and the scores are the
ones `rewardkit score` gives for the same inputs. Bad input never gives a 500: a body that does not match is a
422 naming the field, a rewardkit error (e.g. implicit:rlpr without a reference answer) a 400, a body over
`max_body_bytes` or with more than `max_items` items a 413, a missing or wrong API key a 401.
"""

from __future__ import annotations

import hmac
import math
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers

from rewardkit.errors import ConfigError, RewardkitError
from rewardkit.models.base import RewardModel, Scores, reward_statistics
from rewardkit.models.combined import combine, parse_combination
from rewardkit.models.shaped import expand_with_references, shape_scores
from rewardkit.shaping import ShapingStep, parse_shaping
from rewardkit.serving.batcher import MicroBatcher
from rewardkit.serving.metrics import ServerMetrics
from rewardkit.serving.schemas import (
    CompareRequest, CompareResponse, OpenRLHFRequest, OpenRLHFResponse, ScoreRequest, ScoreResponse,
)


@dataclass
class ServerSettings:
    max_batch: int = 64
    """Samples per forward pass at most (serving/batcher.py: a model call gathers up to 4 passes' worth)."""
    max_wait_ms: float = 5.0
    """How long the first request of a batch waits for others."""
    max_items: int = 1024
    """Items (pairs, queries) per request; more is a 413."""
    max_body_bytes: int = 8 * 1024 * 1024
    """Request body size; more is a 413."""
    api_key: str | None = None
    """When set, every request but /health needs `Authorization: Bearer KEY` (or `X-API-Key: KEY`)."""
    normalize: str = "raw"
    """Default of a request's `normalize`: raw | z."""
    combine: str | None = None
    """Default of a request's `combine` (rule rewards added to the model's reward), e.g. "0.8*rm + 0.2*format"."""
    shaping: str | None = None
    """Default of a request's `shaping` (rewardkit.shaping), e.g. "par" or "z; clip=-3,3"."""


def shaping_plan(spec: str | None, normalize: str) -> list[ShapingStep]:
    """The shaping steps of a request: `normalize: z` is a z step, placed after any step kinds of `spec`."""
    plan = parse_shaping(spec) if spec else []
    if normalize == "z":
        steps = [s for s in plan if s.on_steps]  # parse_shaping keeps them first
        plan = steps + [ShapingStep("z")] + plan[len(steps):]
    return plan


def create_app(model: RewardModel, settings: ServerSettings | None = None) -> FastAPI:
    from rewardkit.models.judge import PairwiseJudge

    if isinstance(model, PairwiseJudge):  # every request would fail
        raise ConfigError(f"judge:{model.options.kind} compares two responses, and the server scores one response "
                          "at a time: serve a pointwise judge (judge:rubric, judge:reasoning)")
    settings = settings or ServerSettings()
    if settings.combine:
        parse_combination(settings.combine)  # a bad default fails at start, not on every request
    if settings.shaping:
        parse_shaping(settings.shaping)
    metrics = ServerMetrics()
    batcher = MicroBatcher(lambda samples, batch_size: model.score(samples, batch_size=batch_size),
                           max_batch=settings.max_batch,
                           max_wait_ms=settings.max_wait_ms, on_batch=metrics.on_batch)
    statistics = reward_statistics(model)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await batcher.start()
        yield
        await batcher.stop()  # requests already accepted are answered before the process exits

    app = FastAPI(title="rewardkit", lifespan=lifespan, docs_url=None, redoc_url=None)

    app.add_middleware(RequestGuard, settings=settings, metrics=metrics, queue_depth=lambda: batcher.depth)

    @app.exception_handler(RewardkitError)
    async def rewardkit_error(request: Request, err: RewardkitError):
        return JSONResponse({"detail": str(err)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, err: RequestValidationError):
        """422 naming each field and what is wrong with it; the offending input is not echoed back (it may be
        large, or a number JSON cannot write, such as Infinity)."""
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in err.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    async def scored(samples) -> Scores:
        if len(samples) > settings.max_items:
            raise _TooLarge(f"{len(samples)} items; this server takes at most {settings.max_items} per request")
        return await batcher.score(samples)

    @app.exception_handler(_TooLarge)
    async def too_large(request: Request, err: _TooLarge):
        return JSONResponse({"detail": str(err)}, status_code=413)

    @app.post("/v1/score", response_model=ScoreResponse, response_model_exclude_none=True)
    async def score(body: ScoreRequest) -> ScoreResponse:
        mode = body.normalize or settings.normalize
        samples = [item.sample() for item in body.items]
        if mode == "z" and statistics is None:
            raise ConfigError(f"normalize 'z' needs the reward mean and std a {model.family} model stores when "
                              "trained by rewardkit; this model has none (use 'raw')")
        plan = shaping_plan(body.shaping or settings.shaping, mode)
        scores = await scored(expand_with_references(samples, plan))
        if plan:
            scores = shape_scores(plan, samples, scores, statistics, model.family)
        rewards = scores.rewards
        attributes, spec = scores.attributes, body.combine or settings.combine
        if spec:
            rewards, parts = combine(parse_combination(spec), samples, rewards)
            attributes = {**(attributes or {}), **parts}
        return ScoreResponse(rewards=rewards, truncated=scores.truncated_items, attributes=attributes,
                             steps=scores.steps, texts=scores.texts, normalize=mode)

    @app.post("/v1/compare", response_model=CompareResponse)
    async def compare(body: CompareRequest) -> CompareResponse:
        rewards = (await scored([s for pair in body.pairs for s in pair.samples()])).rewards
        margins = [rewards[2 * i] - rewards[2 * i + 1] for i in range(len(body.pairs))]
        return CompareResponse(probabilities=[1.0 / (1.0 + math.exp(-m)) for m in margins], margins=margins)

    @app.post("/get_reward", response_model=OpenRLHFResponse)
    async def get_reward(body: OpenRLHFRequest) -> OpenRLHFResponse:
        return OpenRLHFResponse(rewards=(await scored(body.samples())).rewards)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "family": model.family, "queue_depth": batcher.depth}

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.text(), media_type="text/plain; version=0.0.4")

    return app


class _TooLarge(Exception):
    """A request over the server's item limit (413)."""


class RequestGuard:
    """Plain ASGI middleware (cheaper per request than Starlette's BaseHTTPMiddleware): 401 without the API key,
    413 for a body over the limit (declared, or streamed without a Content-Length), else the app; then counts
    the request by endpoint and status, its latency, and the queue depth."""

    def __init__(self, app, settings: ServerSettings, metrics: ServerMetrics, queue_depth):
        self.app, self.settings, self.metrics, self.queue_depth = app, settings, metrics, queue_depth

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_recording(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            rejection, receive = await self._check(scope, receive)
            await (rejection or self.app)(scope, receive, send_recording)
        finally:
            endpoint = scope["path"]
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
            self.metrics.queue_depth.set(self.queue_depth())

    async def _check(self, scope, receive):
        """(a response to send instead of the app's, or None; the receive channel the app reads)."""
        settings = self.settings
        headers = Headers(scope=scope)
        if settings.api_key and scope["path"] != "/health" and not _authorised(headers, settings.api_key):
            return JSONResponse({"detail": "missing or wrong API key (Authorization: Bearer KEY)"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"}), receive
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            return JSONResponse({"detail": f"body of {declared} bytes; the limit is {settings.max_body_bytes}"},
                                status_code=413), receive
        if scope["method"] == "POST" and declared is None:  # streamed: read it here, within the limit
            body, more = b"", True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None, _replay_disconnect
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > settings.max_body_bytes:
                    return JSONResponse({"detail": f"body over the limit of {settings.max_body_bytes} bytes"},
                                        status_code=413), receive
            return None, _replay(body, receive)
        return None, receive


def _replay(body: bytes, then):
    """A receive channel that gives `body` as one message, then passes on to `then` (the client's own)."""
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _replay_disconnect():
    return {"type": "http.disconnect"}


def _authorised(headers: Headers, key: str) -> bool:
    given = headers.get("x-api-key") or ""
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    return hmac.compare_digest(given.encode(), key.encode())
