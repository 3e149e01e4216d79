"""Training objectives as short pure functions of tensors. Rewards are shape [B] unless stated."""

from __future__ import annotations

from typing import Sequence

import torch  # noqa: F401  (the doctests use it)
import torch.nn.functional as F
from torch import Tensor


def bradley_terry(r_chosen: Tensor, r_rejected: Tensor) -> Tensor:
    """−log σ(r_c − r_r), averaged over the batch.

    >>> round(bradley_terry(torch.tensor([1.0]), torch.tensor([0.0])).item(), 4)   # −log σ(1)
    0.3133
    """
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def bradley_terry_margin(r_chosen: Tensor, r_rejected: Tensor, margin: Tensor | float) -> Tensor:
    """−log σ(r_c − r_r − m), averaged (Llama-2's margin loss): a larger gap is demanded for clearer pairs."""
    return -F.logsigmoid(r_chosen - r_rejected - margin).mean()


def scaled_bradley_terry(r_chosen: Tensor, r_rejected: Tensor, strength: Tensor) -> Tensor:
    """mean(−|s| · log σ(r_c − r_r)): HelpSteer2-Preference's Scaled BT, each pair weighted by the magnitude
    |s| ∈ {1, 2, 3} of its preference strength, so strongly preferred pairs move the model more."""
    return -(strength.abs() * F.logsigmoid(r_chosen - r_rejected)).mean()


def masked_mse(predicted: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Σ mask·(ŷ − y)² / Σ mask over [B, A] attribute ratings; missing ratings (mask 0) add nothing.

    >>> masked_mse(torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 0.0]]), torch.tensor([[1.0, 0.0]])).item()
    4.0
    """
    mask = mask.to(predicted.dtype)
    total = mask.sum()
    if total == 0:
        return predicted.sum() * 0.0  # keeps the graph; a batch with no ratings contributes nothing
    return (mask * (predicted - target) ** 2).sum() / total


def centering_penalty(r_chosen: Tensor, r_rejected: Tensor) -> Tensor:
    """mean((r_c + r_r)²): the auxiliary term of Eisenstein et al. (2023) that keeps rewards centred on 0.
    Added to a pairwise loss with a small weight (e.g. 0.01)."""
    return ((r_chosen + r_rejected) ** 2).mean()


def implicit_outcome_ce(log_ratio: Tensor, labels: Tensor, beta: float) -> Tensor:
    """Implicit-PRM cross-entropy on outcome labels: with r = β·Σ_t log(πθ/πref) over the response tokens
    (`log_ratio` = Σ_t log πθ − log πref, shape [B]) and l ∈ {0, 1},
        −[l·log σ(r) + (1 − l)·log(1 − σ(r))], averaged.

    >>> round(implicit_outcome_ce(torch.tensor([2.0]), torch.tensor([1.0]), 0.5).item(), 4)   # −log σ(1)
    0.3133
    """
    return F.binary_cross_entropy_with_logits(beta * log_ratio, labels.to(log_ratio.dtype))


def implicit_dpo(log_ratio_chosen: Tensor, log_ratio_rejected: Tensor, beta: float) -> Tensor:
    """DPO on implicit rewards: −log σ(β·(Σ log πθ/πref (chosen) − Σ log πθ/πref (rejected))), averaged.

    >>> round(implicit_dpo(torch.tensor([3.0]), torch.tensor([1.0]), 0.5).item(), 4)           # −log σ(1)
    0.3133
    """
    return -F.logsigmoid(beta * (log_ratio_chosen - log_ratio_rejected)).mean()


def masked_step_bce(logits: Tensor, labels: Tensor) -> Tensor:
    """BCE of step logits [B, S] against step labels in {0, 1}; label −1 (unlabelled, or padding) is skipped:
        Σ_{l ≥ 0} BCE(z, l) / #{l ≥ 0}.

    >>> round(masked_step_bce(torch.tensor([[0.0, 5.0]]), torch.tensor([[1.0, -1.0]])).item(), 4)  # log 2
    0.6931
    """
    mask = (labels >= 0).to(logits.dtype)
    if mask.sum() == 0:
        return logits.sum() * 0.0
    per_step = F.binary_cross_entropy_with_logits(logits, labels.clamp(min=0).to(logits.dtype), reduction="none")
    return (per_step * mask).sum() / mask.sum()


def mean_token_nll(logprobs: Sequence[Tensor], counted: Tensor) -> Tensor:
    """Mean −log p over the tokens of the rows that count: −Σ_b c_b Σ_t lp_bt / Σ_b c_b n_b, where row b holds the
    log-probabilities lp_bt of its n_b tokens and c_b (`counted`) is 1 or 0; 0 (keeping the graph) when no token
    counts.

    >>> rows = [torch.log(torch.tensor([0.5, 0.25])), torch.log(torch.tensor([0.1]))]
    >>> round(mean_token_nll(rows, torch.tensor([1.0, 0.0])).item(), 4)   # (log 2 + log 4) / 2
    1.0397
    """
    total = sum(weight * row.sum() for row, weight in zip(logprobs, counted))
    tokens = sum(float(weight) * len(row) for row, weight in zip(logprobs, counted))
    return -total / tokens if tokens else total * 0.0


def cloud_loss(r_chosen: Tensor, r_rejected: Tensor, critique_nll: Tensor, critique_weight: float) -> Tensor:
    """Critique-out-Loud: −log σ(r_c − r_r) averaged, plus λ × the critique tokens' NLL.

    >>> round(cloud_loss(torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor(2.0), 0.5).item(), 4)  # 0.3133 + 1
    1.3133
    """
    return bradley_terry(r_chosen, r_rejected) + critique_weight * critique_nll
