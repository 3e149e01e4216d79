"""What `GET /metrics` reports, in Prometheus text format: requests by endpoint and status, the size of every
batch the model ran, the queue depth and request latency. One registry per app, so apps do not share counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


@dataclass
class ServerMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("rewardkit_requests", "HTTP requests by endpoint and status", ["endpoint", "status"],
                                registry=r)
        self.latency = Histogram("rewardkit_request_seconds", "Request latency by endpoint", ["endpoint"], registry=r,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.batch_samples = Histogram("rewardkit_batch_samples", "Samples per model call", registry=r,
                                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024))
        self.batch_requests = Histogram("rewardkit_batch_requests", "Requests merged into one model call",
                                        registry=r, buckets=(1, 2, 4, 8, 16, 32, 64))
        self.queue_depth = Gauge("rewardkit_queue_depth", "Requests waiting for the model", registry=r)
        self.samples = Counter("rewardkit_samples_scored", "Samples scored", registry=r)

    def on_batch(self, samples: int, requests: int) -> None:
        self.batch_samples.observe(samples)
        self.batch_requests.observe(requests)
        self.samples.inc(samples)

    def text(self) -> bytes:
        return generate_latest(self.registry)
