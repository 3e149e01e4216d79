"""Micro-batching: concurrent requests wait up to `max_wait_ms` for each other; what has gathered (at most
`GATHER_BATCHES` × `max_batch` samples; a request larger than that is scored alone) goes to one call of the
model's `score` with `batch_size=max_batch`, which sorts the samples by length into forward passes of at most
`max_batch`. Gathering several batches' worth lets requests of similar length share a forward pass (less
padding) when the server is busy; when it is not, a request waits `max_wait_ms` at most. Scores are the ones
offline scoring gives.

The model runs in a worker thread, so the event loop keeps accepting requests while a batch is scored; one
batch runs at a time (the model is not shared across threads). `stop()` scores what is queued before it
returns, so a server shutting down (SIGTERM) answers every request it accepted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from rewardkit.data.schemas import Sample
from rewardkit.models.base import Scores


@dataclass
class _Job:
    samples: list[Sample]
    done: asyncio.Future
    queued_at: float = field(default_factory=time.perf_counter)


GATHER_BATCHES = 4
"""Forward passes' worth of samples one model call may gather."""


class MicroBatcher:
    def __init__(self, score: Callable[[list[Sample], int], Scores], *, max_batch: int = 64,
                 max_wait_ms: float = 5.0, on_batch: Callable[[int, int], None] | None = None):
        """`score(samples, batch_size)` → Scores; `on_batch(samples, requests)` is told the size of every call."""
        self._score, self.max_batch, self.max_wait = score, max_batch, max_wait_ms / 1000.0
        self.max_gather = GATHER_BATCHES * max_batch
        self._on_batch = on_batch
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._worker: asyncio.Task | None = None
        self._waiting = 0

    @property
    def depth(self) -> int:
        """Requests accepted and not yet answered: queued, gathering into a batch, or being scored."""
        return self._waiting

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Score everything queued, then end the worker."""
        if self._worker is not None:
            await self._queue.put(None)
            await self._worker
            self._worker = None

    async def score(self, samples: Sequence[Sample]) -> Scores:
        """The Scores of `samples`, scored together with whatever other requests arrive meanwhile."""
        job = _Job(list(samples), asyncio.get_running_loop().create_future())
        self._waiting += 1
        try:
            await self._queue.put(job)
            return await job.done
        finally:
            self._waiting -= 1

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            jobs, size = [first], len(first.samples)
            deadline = time.perf_counter() + self.max_wait
            while size < self.max_gather:
                try:
                    job = await asyncio.wait_for(self._queue.get(), max(deadline - time.perf_counter(), 0))
                except asyncio.TimeoutError:
                    break
                if job is None:
                    stopping = True
                    break
                if size + len(job.samples) > self.max_gather:
                    await self._run_batch(jobs)
                    jobs, size = [], 0
                jobs.append(job)
                size += len(job.samples)
            await self._run_batch(jobs)
        while not self._queue.empty():  # accepted before stop: answered
            job = self._queue.get_nowait()
            if job is not None:
                await self._run_batch([job])

    async def _run_batch(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        samples = [s for job in jobs for s in job.samples]
        if self._on_batch:
            self._on_batch(len(samples), len(jobs))
        try:
            scores = await asyncio.to_thread(self._score, samples, self.max_batch)
        except Exception as err:  # noqa: BLE001 - each waiting request gets the error
            for job in jobs:
                if not job.done.done():
                    job.done.set_exception(err)
            return
        start = 0
        for job in jobs:
            if not job.done.done():
                job.done.set_result(scores.select(start, start + len(job.samples)))
            start += len(job.samples)
