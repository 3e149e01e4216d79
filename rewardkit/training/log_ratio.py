"""What every implicit-reward training task shares: the log-ratio s = Σ_response (log πθ − log πref) of a
policy against a frozen reference, computed the way the implicit scorers compute it (same chat rendering,
prompt tokens masked; rewardkit.models.logprobs).

- `policy_and_reference` loads the two scorers: the reference is the backbone itself (read before any update)
  unless another model is named; LoRA (via peft) wraps the policy when asked and is merged by `merged_policy`.
- `ReferencedResponses` holds encoded samples with Σ log πref of each computed once, up front, so a training
  step runs the policy alone.
- `ResponseLogprobSum` is the trainable module the loop optimises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from rewardkit.data.batching import neighbour_prefixes, pad_batch
from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError
from rewardkit.models.logprobs import LogprobScorer, batch_logprobs, first_response_column, response_target_mask
from rewardkit.models.packed_causal_lm import packable_causal_lm, packed_response_logprobs, unwrapped
from rewardkit.models.seeding import seeded

EVAL_BATCH = 16
"""Sequences per forward when a whole split is scored without gradients."""


class ResponseLogprobSum(torch.nn.Module):
    """The trainable module: a causal LM → Σ of response-token log-probs per row of a right-padded batch, from
    column `firsts[b]` of `next_token_logprobs` on (models/logprobs.first_response_column). Llama-family LMs run
    packed (models/packed_causal_lm.py): the `shared[b]` leading tokens row b has in common with row b − 1 (a
    pair's prompt) are computed once."""

    def __init__(self, network):
        super().__init__()
        self.network = network
        self.packed = packable_causal_lm(unwrapped(network))

    def forward(self, input_ids, attention_mask, firsts, shared) -> torch.Tensor:
        if self.packed:
            rows = packed_response_logprobs(unwrapped(self.network), input_ids, attention_mask, firsts.tolist(),
                                            shared)
            return torch.stack([row.sum() for row in rows])
        target_mask = response_target_mask(attention_mask, (firsts + 1).tolist())
        return (batch_logprobs(self.network, input_ids, attention_mask) * target_mask).sum(-1)


def reference_sums(reference: LogprobScorer, items) -> torch.Tensor:
    """Σ log πref over the response tokens of each encoded item, shape [N]."""
    return torch.tensor([float(r.sum()) for r in reference.response_logprobs(items)]) if items else torch.zeros(0)


class ReferencedResponses:
    """Samples encoded for the policy, each with its reference log-prob sum precomputed (the reference is frozen)."""

    def __init__(self, policy: LogprobScorer, reference: LogprobScorer, samples: Sequence[Sample]):
        self.policy = policy
        self.items = policy.encode(samples)
        if self.items and reference.encode(samples[:1])[0].input_ids != self.items[0].input_ids:
            raise ConfigError("the reference model tokenizes differently from the policy; an implicit reward needs "
                              "one tokenizer for both")
        self.reference = reference_sums(reference, self.items)
        self.truncated = sum(e.truncated for e in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def lengths(self) -> list[int]:
        return [len(e.input_ids) for e in self.items]

    def log_ratio_sums(self, module: ResponseLogprobSum, index: Sequence[int]) -> torch.Tensor:
        """Σ_response (log πθ − log πref) of the items `index`, in one (differentiable) forward of `module`."""
        items = [self.items[i] for i in index]
        batch = pad_batch([e.input_ids for e in items], self.policy.tokenizer.pad_token_id, "right")
        device = self.policy.device
        firsts = torch.tensor([first_response_column(e) for e in items], device=device)
        shared = torch.tensor(neighbour_prefixes([e.input_ids for e in items]), device=device)
        sums = module(batch["input_ids"].to(device), batch["attention_mask"].to(device), firsts, shared)
        return sums - self.reference[list(index)].to(sums.device)

    @torch.no_grad()
    def all_log_ratio_sums(self, module: ResponseLogprobSum) -> torch.Tensor:
        """`log_ratio_sums` of every item, in eval mode and batches of EVAL_BATCH, on the CPU."""
        was_training = module.training
        module.eval()
        n = len(self.items)
        sums = [self.log_ratio_sums(module, range(i, min(i + EVAL_BATCH, n))) for i in range(0, n, EVAL_BATCH)]
        module.train(was_training)
        return torch.cat(sums).cpu() if sums else torch.zeros(0)


def with_lora(network, rank: int, alpha: float, seed: int = 0):
    """`network` with LoRA adapters of `rank` on every linear layer (peft); only the adapters train. Their
    initial weights depend on `seed` alone."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ConfigError("lora_rank > 0 needs the peft package: pip install peft") from None

    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules="all-linear",
                        task_type="CAUSAL_LM")
    with seeded(seed):
        return get_peft_model(network, config)


@dataclass
class PolicyOptions:
    """Keys of the objectives that train a causal LM against a frozen reference (implicit, implicit PRM)."""

    beta: float | None = None
    """β of the implicit reward r = β·Σ log(πθ/πref). Unset: the trained model's documented default
    (models.implicit.DEFAULT_BETA, 0.1 for DPO; models.process.ProcessOptions.beta, 0.05)."""
    reference: str = ""
    """Reference causal LM (folder, hub id, 'smollm2'); empty: the untrained backbone."""
    lora_rank: int = 0
    """LoRA rank via peft (merged into the saved policy); 0: full fine-tuning."""
    lora_alpha: float = 16.0
    """LoRA scaling α (the update is scaled by α / rank)."""


def merged_policy(network):
    """The plain causal LM to save: LoRA adapters (if any) folded into the weights."""
    return network.merge_and_unload() if hasattr(network, "merge_and_unload") else network


def causal_backbone(name: str) -> str:
    """The policy backbone a TrainConfig names: 'minilm' (the scalar family's default, an encoder) and
    'default' mean the shipped SmolLM2; anything else is a causal-LM folder or hub id."""
    return "smollm2" if name in ("minilm", "default") else name


def policy_and_reference(backbone: str, options: PolicyOptions, *, max_length: int, seed: int = 0):
    """(policy scorer, reference scorer, tokenizer). The policy starts from `backbone`; the reference is
    `reference` when named, else the backbone's own network, which is only read before training starts (the
    reference sums are precomputed), so no second copy is loaded."""
    from rewardkit.models.causal_lm import load_causal_lm_and_tokenizer

    network, tokenizer = load_causal_lm_and_tokenizer(backbone)
    reference_scorer = LogprobScorer(network, tokenizer, max_length)
    if options.reference:
        ref_network, ref_tokenizer = load_causal_lm_and_tokenizer(options.reference)
        reference_scorer = LogprobScorer(ref_network, ref_tokenizer, max_length)
    if options.lora_rank > 0:  # zero-initialised adapters: the shared network still computes the reference exactly
        network = with_lora(network, options.lora_rank, options.lora_alpha, seed)
    return LogprobScorer(network, tokenizer, max_length), reference_scorer, tokenizer
