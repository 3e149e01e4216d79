"""Generation with a causal LM in this process (transformers), batched with left padding.

Prompts are rendered with the tokenizer's chat template (`add_generation_prompt=True`), as an OpenAI-compatible
server renders a chat request, so a greedy run here and one through `transformers serve` on the same folder
give the same texts. A tokenizer without a chat template gets the plain rendering `role: content` lines plus
`assistant:`. Prompts longer than `max_prompt_tokens` lose their left end (counted in `truncated`).
"""

from __future__ import annotations

import time
from typing import Sequence

import torch

from rewardkit.data.chat import render_plain
from rewardkit.data.schemas import as_conversation
from rewardkit.models.backends.base import Usage, as_messages, check_sampling
from rewardkit.models.seeding import seeded


class TransformersBackend:
    """`generate` over a local causal LM: 'smollm2' (default), a folder, or a hub id; or a loaded network."""

    name = "transformers"

    def __init__(self, model: str = "smollm2", *, batch_size: int = 8, max_prompt_tokens: int = 1536,
                 trust_remote_code: bool = False, network=None, tokenizer=None):
        if network is None or tokenizer is None:
            from rewardkit.models.causal_lm import load_causal_lm_and_tokenizer

            network, tokenizer = load_causal_lm_and_tokenizer(model, trust_remote_code=trust_remote_code)
        self.model, self.network, self.tokenizer = model, network, tokenizer
        self.batch_size, self.max_prompt_tokens = batch_size, max_prompt_tokens
        self.usage, self.truncated = Usage(), 0
        self.last_logprobs: list[list[list[float]]] | None = None

    def render(self, prompt) -> str:
        """The text the model continues: the chat template with its generation prompt, or plain lines."""
        messages = as_messages(prompt)
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return render_plain(as_conversation(messages)) + "\nassistant:"

    def _encode(self, prompt) -> list[int]:
        ids = self.tokenizer(self.render(prompt), add_special_tokens=False)["input_ids"]
        if len(ids) > self.max_prompt_tokens:
            self.truncated += 1
            ids = ids[-self.max_prompt_tokens:]
        return ids

    def generate(self, prompts: Sequence, *, max_tokens: int, temperature: float = 0.0, n: int = 1,
                 seed: int = 0, logprobs: bool = False) -> list[list[str]]:
        """n texts per prompt; temperature 0 is greedy (the n texts are then the same one, generated once)."""
        check_sampling(max_tokens, temperature, n)
        start = time.perf_counter()
        texts: list[list[str]] = []
        scores: list[list[list[float]]] = []
        for at in range(0, len(prompts), self.batch_size):
            chunk_texts, chunk_scores = self._batch(prompts[at: at + self.batch_size], max_tokens, temperature,
                                                    n, seed + at, logprobs)
            texts += chunk_texts
            scores += chunk_scores
        self.last_logprobs = scores if logprobs else None
        self.usage.add(seconds=time.perf_counter() - start)
        return texts

    @torch.no_grad()
    def _batch(self, prompts, max_tokens, temperature, n, seed, logprobs):
        encoded = [self._encode(p) for p in prompts]
        width = max(len(ids) for ids in encoded)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in encoded])
        attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded])
        greedy = temperature == 0
        draws = 1 if greedy else n
        options = dict(do_sample=False) if greedy else dict(do_sample=True, temperature=temperature, top_p=1.0,
                                                            top_k=0)
        device = next(self.network.parameters()).device
        with seeded(seed):
            out = self.network.generate(
                input_ids=input_ids.to(device), attention_mask=attention.to(device), max_new_tokens=max_tokens,
                num_return_sequences=draws, pad_token_id=pad, eos_token_id=self._stop_ids() or None,
                return_dict_in_generate=True, output_scores=logprobs, **options)
        new = out.sequences[:, width:].cpu()
        token_logprobs = None
        if logprobs:
            token_logprobs = self.network.compute_transition_scores(out.sequences, out.scores,
                                                                    normalize_logits=True).cpu()
        texts, scores = [], []
        for row in range(len(prompts)):
            row_texts, row_scores = [], []
            for draw in range(draws):
                index = row * draws + draw
                length = self._generated_length(new[index])
                row_texts.append(self.tokenizer.decode(new[index, :length], skip_special_tokens=True).strip())
                if token_logprobs is not None:
                    row_scores.append(token_logprobs[index, :length].tolist())
                self.usage.add(generated_tokens=length, requests=1, prompt_tokens=len(encoded[row]))
            texts.append(row_texts * (n if greedy else 1))
            scores.append(row_scores * (n if greedy else 1))
        return texts, scores

    def _stop_ids(self) -> list[int]:
        ids = {self.tokenizer.eos_token_id, getattr(self.network.generation_config, "eos_token_id", None)}
        flat = set()
        for value in ids:
            flat.update(value if isinstance(value, (list, tuple)) else [value])
        return sorted(i for i in flat if i is not None)

    def _generated_length(self, tokens: torch.Tensor) -> int:
        """Tokens up to and including the first stop token (the rest is padding)."""
        stops = set(self._stop_ids())
        for i, token in enumerate(tokens.tolist()):
            if token in stops:
                return i + 1
        return len(tokens)
