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


PEER_BATCH_SIZES = (1, 4, 8, 16, 32)
"""Batch sizes tried for the pipeline. Its documentation advises against batching on CPU, and on long texts
batch 1 was twice batch 32 (MiniLM, long workload, Xeon: 31.9 vs 15.4 samples/s; it pads each batch, unsorted,
to its longest text); on short texts batch 4 was fastest (108 vs 73 at 1 and 92 at 32)."""


class PipelinePeer:
    """`transformers.pipeline("text-classification")` on the same model folder, raw logits; inputs longer than
    `max_length` are truncated by the tokenizer (its default side). `batch_size="best"`: the fastest of
    PEER_BATCH_SIZES on a spread of the inputs (`choose_batch_size`), so the peer is not slowed by a batch size
    chosen for rewardkit."""

    def __init__(self, model_dir: str, batch_size: int | str, max_length: int | None = None):
        from transformers import pipeline

        self.pipe = pipeline("text-classification", model=str(model_dir), device="cpu")
        self.batch_size = batch_size
        self.sweep: dict[int, float] = {}
        self.truncation = {"truncation": True, "max_length": max_length} if max_length else {}

    @property
    def tokenizer(self):
        return self.pipe.tokenizer

    def choose_batch_size(self, inputs: Sequence[dict], n: int = 64) -> int:
        """With batch_size "best": time each of PEER_BATCH_SIZES on `n` inputs spread over `inputs` (after one
        warm-up call) and keep the fastest; the samples/s of each are kept in `sweep`. Returns the batch size."""
        import time

        if self.batch_size != "best":
            return self.batch_size
        spread = list(inputs[:: max(1, len(inputs) // n)])[:n]
        self.score(spread[:8], batch_size=1)
        for size in PEER_BATCH_SIZES:
            start = time.perf_counter()
            self.score(spread, batch_size=size)
            self.sweep[size] = len(spread) / (time.perf_counter() - start)
        self.batch_size = max(self.sweep, key=self.sweep.get)
        return self.batch_size

    def describe(self) -> str:
        tried = ", ".join(f"{size}: {rate:.1f}" for size, rate in self.sweep.items())
        return (f"transformers.pipeline('text-classification', function_to_apply='none', batch_size={self.batch_size}"
                f"){f' (fastest of samples/s by batch size {tried})' if tried else ''}")

    def score(self, inputs: Sequence[dict], batch_size: int | None = None) -> list[float]:
        out = self.pipe(list(inputs), batch_size=batch_size or self.batch_size, function_to_apply="none", top_k=1,
                        **self.truncation)
        return [row[0]["score"] if isinstance(row, list) else row["score"] for row in out]


class ConcatenatedDPOPeer:
    """The DPO implicit reward β · Σ_response (log πθ − log πref) computed the way DPO trainers and RewardBench's
    DPO script compute it: each pair's chosen and rejected sequences concatenated into one right-padded batch
    (`pairs_per_batch` pairs), one plain `transformers` forward of the policy and one of the reference over it,
    log-softmax over the vocabulary at every position, prompt and padding masked out. It gets rewardkit's token ids
    (same chat rendering and truncation), so the two must agree; its tokenisation is not timed."""

    def __init__(self, policy, reference, pad_id: int, beta: float, pairs_per_batch: int):
        self.policy, self.reference, self.pad_id = policy.eval(), reference.eval(), pad_id
        self.beta, self.pairs_per_batch = beta, pairs_per_batch

    def rewards(self, encoded_pairs) -> list[float]:
        """encoded_pairs: (chosen, rejected) `Encoded` per pair → [chosen reward, rejected reward, ...]."""
        import torch

        out: list[float] = []
        with torch.no_grad():
            for start in range(0, len(encoded_pairs), self.pairs_per_batch):
                items = [e for pair in encoded_pairs[start: start + self.pairs_per_batch] for e in pair]
                width = max(len(e.input_ids) for e in items)
                ids = torch.tensor([e.input_ids + [self.pad_id] * (width - len(e.input_ids)) for e in items])
                mask = (torch.arange(width)[None] < torch.tensor([len(e.input_ids) for e in items])[:, None]).long()
                starts = torch.tensor([max(e.response_start, 1) for e in items])[:, None]
                labels = (torch.arange(1, width)[None] >= starts) & mask[:, 1:].bool()
                sums = [self._sums(network, ids, mask, labels) for network in (self.policy, self.reference)]
                out += (self.beta * (sums[0] - sums[1])).tolist()
        return out

    @staticmethod
    def _sums(network, ids, mask, labels):
        import torch

        logps = torch.log_softmax(network(input_ids=ids, attention_mask=mask).logits[:, :-1].float(), dim=-1)
        return (logps.gather(-1, ids[:, 1:, None]).squeeze(-1) * labels).sum(-1)
