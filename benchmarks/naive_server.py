"""The peer of benchmarks/serve_load.py: the reward server people write by hand — FastAPI, one forward pass per
request, no batching across requests — on the same model folder, with the same request body as
`rewardkit serve`'s POST /v1/score and the same text pairs (rendered prompt, response) an encoder RM reads.

    python benchmarks/naive_server.py --model DIR --port 8123 [--max-length 512]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def create_app(model_dir: str, max_length: int):
    import torch
    from fastapi import FastAPI
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rewardkit.data.chat import render_plain
    from rewardkit.data.schemas import as_conversation

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    network = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.post("/v1/score")
    async def score(body: dict) -> dict:  # async and blocking: requests are served one at a time, as written
        items = body["items"]
        prompts = [render_plain(as_conversation(item["prompt"])) for item in items]
        encoded = tokenizer(prompts, [item["response"] for item in items], padding=True, truncation=True,
                            max_length=max_length, return_tensors="pt")
        with torch.inference_mode():
            rewards = network(**encoded).logits[:, 0]
        return {"rewards": rewards.tolist()}

    return app


if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-length", type=int, default=512)
    args = parser.parse_args()
    uvicorn.run(create_app(args.model, args.max_length), host="127.0.0.1", port=args.port, log_level="warning")
