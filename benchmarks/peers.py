"""The peers we measure against, set up the way their documentation shows."""

from __future__ import annotations

from typing import Sequence


def pipeline_inputs(samples, tokenizer=None) -> list[dict]:
    """The texts `rewardkit score` encodes: for an encoder, (rendered prompt, response) pairs; for a tokenizer with
    a chat template (instruct decoders), the conversation rendered by that template as one text."""
    from rewardkit.data.chat import ChatEncoder, render_plain

    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        encoder = ChatEncoder(tokenizer, max_length=8)  # only its texts(): the rendering rewardkit tokenizes
        return [{"text": "".join(encoder.texts(s))} for s in samples]
    return [{"text": render_plain(s.prompt), "text_pair": s.response} for s in samples]


class PipelinePeer:
    """`transformers.pipeline("text-classification")` on the same model folder, raw logits, batch_size as ours;
    inputs longer than `max_length` are truncated by the tokenizer (its default side)."""

    def __init__(self, model_dir: str, batch_size: int, max_length: int | None = None):
        from transformers import pipeline

        self.pipe = pipeline("text-classification", model=str(model_dir), device="cpu")
        self.batch_size = batch_size
        self.truncation = {"truncation": True, "max_length": max_length} if max_length else {}

    @property
    def tokenizer(self):
        return self.pipe.tokenizer

    def score(self, inputs: Sequence[dict]) -> list[float]:
        out = self.pipe(list(inputs), batch_size=self.batch_size, function_to_apply="none", top_k=1,
                        **self.truncation)
        return [row[0]["score"] if isinstance(row, list) else row["score"] for row in out]
