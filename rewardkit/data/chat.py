"""Turn a (conversation, response) sample into token ids, the same way in training, evaluation and serving.

Two renderings:
- **chat template** (the tokenizer has one, as instruct decoders do): the conversation plus the response as an
  assistant turn, rendered by the tokenizer's own template. The prompt part is the template rendered with
  `add_generation_prompt=True`; the response part is the rest of the full rendering.
- **plain pair** (no chat template, as BERT-style encoders): the conversation becomes lines `role: content`
  and is encoded as the first text of a pair, the response as the second, so an encoder sees
  `[CLS] user: … [SEP] response [SEP]`. Plain transformers reproduces it with
  `tokenizer(render_plain(prompt), response)`.

Inputs longer than `max_length` lose tokens from the **left of the prompt**; if the response alone does not
fit, its end is cut too. Every cut sets `Encoded.truncated`, so callers can report how many were cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewardkit.data.schemas import Conversation, Message, Sample


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    response_start: int
    """Index of the first response token (everything before it belongs to the prompt)."""
    truncated: bool
    token_type_ids: list[int] | None = None


def render_plain(conversation: Conversation) -> str:
    """The documented plain template for tokenizers without a chat template.

    >>> render_plain((Message("system", "Be brief."), Message("user", "2+2?")))
    'system: Be brief.\\nuser: 2+2?'
    """
    return "\n".join(f"{m.role}: {m.content}" for m in conversation)


def _messages(conversation: Conversation) -> list[dict]:
    return [{"role": m.role, "content": m.content} for m in conversation]


class ChatEncoder:
    """Encodes samples for one tokenizer and one max length."""

    def __init__(self, tokenizer, max_length: int):
        if max_length < 8:
            raise ValueError(f"max_length must be at least 8, got {max_length}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.uses_chat_template = bool(getattr(tokenizer, "chat_template", None))

    def encode(self, sample: Sample) -> Encoded:
        if self.uses_chat_template:
            return self._encode_chat(sample)
        return self._encode_pair(sample)

    def encode_many(self, samples) -> list[Encoded]:
        """`encode` of each sample; text pairs go through the tokenizer in one batch call. Samples too long to
        fit are encoded again one by one, with truncation, and so are empty responses (a tokenizer called on
        one pair treats an empty second text as no pair; in a batch it adds a second [SEP])."""
        samples = list(samples)
        if self.uses_chat_template or not samples:
            return [self.encode(s) for s in samples]
        texts = [self.texts(s) for s in samples]
        batch = self.tokenizer([p for p, _ in texts], [r for _, r in texts])
        encoded = []
        for row, (prompt_text, response_text) in enumerate(texts):
            ids = batch["input_ids"][row]
            if len(ids) > self.max_length or not response_text:
                encoded.append(self._encode_pair(samples[row]))
                continue
            types = batch["token_type_ids"][row] if "token_type_ids" in batch else None
            sequences = batch.sequence_ids(row) if batch.encodings else types
            encoded.append(self._pair_encoded(ids, types, sequences, prompt_text, truncated=False))
        return encoded

    def texts(self, sample: Sample) -> tuple[str, str]:
        """(prompt text, response text) exactly as they are tokenized."""
        if not self.uses_chat_template:
            return render_plain(sample.prompt), sample.response
        tok = self.tokenizer
        prompt_text = tok.apply_chat_template(_messages(sample.prompt), add_generation_prompt=True, tokenize=False)
        full = tok.apply_chat_template(
            _messages(sample.prompt + (Message("assistant", sample.response),)), tokenize=False
        )
        if full.startswith(prompt_text):
            return prompt_text, full[len(prompt_text):]
        return prompt_text, sample.response  # templates that rewrite earlier turns: keep the raw response

    def _encode_chat(self, sample: Sample) -> Encoded:
        prompt_text, response_text = self.texts(sample)
        tok = self.tokenizer
        prompt = tok(prompt_text, add_special_tokens=False)["input_ids"]
        response = tok(response_text, add_special_tokens=False)["input_ids"]
        over = len(prompt) + len(response) - self.max_length
        if over <= 0:
            return Encoded(prompt + response, len(prompt), False)
        keep_prompt = max(len(prompt) - over, min(len(prompt), self.max_length // 4))
        prompt = prompt[len(prompt) - keep_prompt:]
        response = response[: self.max_length - len(prompt)]
        return Encoded(prompt + response, len(prompt), True)

    def _encode_pair(self, sample: Sample) -> Encoded:
        prompt_text, response_text = self.texts(sample)
        tok = self.tokenizer
        enc = tok(prompt_text, response_text)
        truncated = len(enc["input_ids"]) > self.max_length
        if truncated:
            enc = self._truncated_pair(prompt_text, response_text)
        types = enc.get("token_type_ids")
        sequences = enc.sequence_ids() if enc.encodings else types
        return self._pair_encoded(enc["input_ids"], types, sequences, prompt_text, truncated)

    def _pair_encoded(self, ids, types, sequences, prompt_text: str, truncated: bool) -> Encoded:
        """An encoded (prompt, response) pair, its response start found from `sequences` (per-token sequence
        ids, or the token types)."""
        return Encoded(list(ids), _pair_response_start(sequences, self.tokenizer, prompt_text), truncated,
                       list(types) if types else None)

    def _truncated_pair(self, prompt_text: str, response_text: str):
        tok = self.tokenizer
        side = tok.truncation_side
        tok.truncation_side = "left"  # cut the oldest prompt tokens first
        try:
            n_prompt = len(tok(prompt_text, add_special_tokens=False)["input_ids"])
            n_response = len(tok(response_text, add_special_tokens=False)["input_ids"])
            special = tok.num_special_tokens_to_add(pair=True)
            fits = n_response + special + min(n_prompt, 1) <= self.max_length
            strategy = "only_first" if fits else "longest_first"
            return tok(prompt_text, response_text, truncation=strategy, max_length=self.max_length)
        finally:
            tok.truncation_side = side


def _pair_response_start(sequences, tokenizer, prompt_text: str) -> int:
    """Index of the first response token of an encoded (prompt, response) pair, truncated or not, from its
    sequence ids (a fast tokenizer's, else the token types); failing those (or for an empty response), the
    length of the prompt encoded with its special tokens."""
    if sequences and 1 in sequences:
        return sequences.index(1)
    return len(tokenizer(prompt_text)["input_ids"])
