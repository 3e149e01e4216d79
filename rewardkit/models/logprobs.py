"""Per-token log-probabilities of responses under a causal LM, the raw material of every LM-defined reward.

For a sequence x_0 … x_{L−1} whose response starts at index s (`Encoded.response_start`):

    lp_t = log softmax(logits_{t−1})[x_t]      for t = s … L−1      (prompt tokens t < s are masked out)

Llama-family LMs run packed (models/packed_causal_lm.py): real tokens only, sequences that begin alike batched
together with their shared prefix computed once, the LM head on response positions only. Others run one plain
forward per batch of similar-length sequences, padded on the right so positions stay 0, 1, 2, … and the causal
mask keeps pads from touching real tokens. Either way a sequence's values do not depend on what it is batched
with (beyond float rounding). A frozen model (a DPO reference) keeps an LRU cache keyed by the token ids, so the
same text is never run twice.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from torch import Tensor

from rewardkit.data.batching import inference_batches, pad_batch
from rewardkit.data.chat import ChatEncoder, Encoded
from rewardkit.data.schemas import Sample
from rewardkit.models.packed_causal_lm import packable_causal_lm, packed_response_logprobs, unwrapped


def next_token_logprobs(logits: Tensor, input_ids: Tensor) -> Tensor:
    """lp[b, t] = log softmax(logits[b, t])[input_ids[b, t+1]], shape [B, T−1]: the log-probability of each
    token given everything before it (position 0 has no prediction).

    >>> next_token_logprobs(torch.zeros(1, 2, 4), torch.tensor([[0, 3]])).exp().tolist()   # uniform over 4
    [[0.25]]
    """
    targets = input_ids[:, 1:].unsqueeze(-1)
    logits = logits[:, :-1].float()
    return logits.gather(-1, targets).squeeze(-1) - torch.logsumexp(logits, dim=-1)


def response_target_mask(attention_mask: Tensor, response_starts: Sequence[int]) -> Tensor:
    """[B, T−1] mask over `next_token_logprobs` columns: column t predicts token t+1, which counts when it is a
    real (attended) token at or after the row's response start.

    >>> response_target_mask(torch.tensor([[1, 1, 1, 1, 0]]), [2]).tolist()
    [[0.0, 1.0, 1.0, 0.0]]
    """
    width = attention_mask.shape[1]
    positions = torch.arange(1, width, device=attention_mask.device)
    starts = torch.tensor(list(response_starts), device=attention_mask.device).unsqueeze(1)
    return ((positions >= starts) & attention_mask[:, 1:].bool()).float()


def batch_logprobs(network, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """`next_token_logprobs` of a right-padded batch in one forward; differentiable (used by training)."""
    logits = network(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
    return next_token_logprobs(logits, input_ids)


class LogprobCache:
    """LRU map from (token-id sequence, first column) to the `next_token_logprobs` values from that column on
    (float32, CPU)."""

    def __init__(self, max_entries: int = 20_000):
        self.max_entries = max_entries
        self._rows: OrderedDict[tuple[tuple[int, ...], int], Tensor] = OrderedDict()
        self.hits = 0

    def get(self, ids: Sequence[int], first: int = 0) -> Tensor | None:
        key = (tuple(ids), first)
        row = self._rows.get(key)
        if row is not None:
            self._rows.move_to_end(key)
            self.hits += 1
        return row

    def put(self, ids: Sequence[int], row: Tensor, first: int = 0) -> None:
        key = (tuple(ids), first)
        self._rows[key] = row
        self._rows.move_to_end(key)
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)


def first_response_column(encoded: Encoded) -> int:
    """The `next_token_logprobs` column that predicts the first response token (column t predicts token t + 1;
    a response starting at token 0 has no prediction for that token and starts at column 0).

    >>> first_response_column(Encoded([5, 6, 7, 8], response_start=2, truncated=False))
    1
    """
    return max(encoded.response_start, 1) - 1


class LogprobScorer:
    """A causal LM with its tokenizer and chat rendering: samples → per-response-token log-probabilities.

    Llama-family LMs (Llama, Qwen2, Mistral, SmolLM2) run the packed forward (models/packed_causal_lm.py) unless
    `packed=False`: real tokens only, a shared prompt computed once, the LM head on response positions only."""

    def __init__(self, network, tokenizer, max_length: int, batch_size: int = 8, cache: bool = False,
                 packed: bool = True):
        self.network, self.tokenizer, self.batch_size = network, tokenizer, batch_size
        self.encoder = ChatEncoder(tokenizer, max_length)
        self.cache = LogprobCache() if cache else None
        self.packed = packed and packable_causal_lm(unwrapped(network))

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def encode(self, samples: Sequence[Sample]) -> list[Encoded]:
        return self.encoder.encode_many(samples)

    def response_logprobs(self, encoded: Sequence[Encoded]) -> list[Tensor]:
        """For each sequence, [lp_s … lp_{L−1}]: the log-probability of every response token (from the cache
        where possible; a sequence that appears more than once is computed once)."""
        keys = [(tuple(e.input_ids), first_response_column(e)) for e in encoded]
        rows: list[Tensor | None] = [self.cache.get(*key) if self.cache else None for key in keys]
        todo = list(dict.fromkeys(key for key, row in zip(keys, rows) if row is None))
        computed: dict[tuple[tuple[int, ...], int], Tensor] = {}
        for chunk, shared in inference_batches([ids for ids, _ in todo], self.batch_size, self.packed):
            values = self._forward([todo[j][0] for j in chunk], [todo[j][1] for j in chunk], shared)
            for j, row in zip(chunk, values):
                computed[todo[j]] = row
                if self.cache is not None:
                    self.cache.put(todo[j][0], row, todo[j][1])
        return [row if row is not None else computed[key] for key, row in zip(keys, rows)]

    @torch.no_grad()
    def _forward(self, sequences: Sequence[Sequence[int]], firsts: Sequence[int],
                 shared: Sequence[int] | None) -> list[Tensor]:
        was_training = self.network.training
        self.network.eval()
        batch = pad_batch(sequences, self.tokenizer.pad_token_id, "right")
        ids, mask = batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device)
        if self.packed:
            shared_prefix = torch.tensor(shared, device=self.device) if shared is not None else None
            values = [v.cpu() for v in packed_response_logprobs(unwrapped(self.network), ids, mask, list(firsts),
                                                                shared_prefix)]
        else:
            grid = batch_logprobs(self.network, ids, mask).cpu()
            values = [grid[row, first: len(seq) - 1].clone() for row, (seq, first) in enumerate(zip(sequences, firsts))]
        self.network.train(was_training)
        return values
