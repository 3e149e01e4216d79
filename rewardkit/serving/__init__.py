"""Rewards over HTTP: a FastAPI app over any RewardModel (app.py), the micro-batching queue that merges
concurrent requests into batches (batcher.py), request and response bodies (schemas.py) and Prometheus
metrics (metrics.py). `rewardkit serve` runs it with uvicorn; `rewardkit.client` calls it."""
