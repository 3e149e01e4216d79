"""Stage 1 of the multi-objective recipe on fixed embeddings: one linear head per attribute, fitted in closed
form (ridge) or by gradient descent, with missing ratings masked; and the verbosity decorrelation.

Everything here is a pure function of tensors: X [N, d] embeddings, Y [N, A] ratings, M [N, A] mask (1 where a
rating exists). Missing ratings are never imputed: attribute a is fitted on the rows where M[:, a] = 1 only.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rewardkit.errors import DataError


def ridge_heads(X: Tensor, Y: Tensor, M: Tensor, alpha: float = 1.0) -> tuple[Tensor, Tensor]:
    """Per attribute a, on its rated rows R_a, with the intercept unpenalised:

        w_a = (X̃ᵀX̃ + α I)⁻¹ X̃ᵀ(y − ȳ),   b_a = ȳ − x̄ᵀ w_a,   X̃ = X_{R_a} − x̄ (centred on R_a)

    Returns (W [A, d], b [A]), solved in float64.

    >>> X = torch.tensor([[0.0], [1.0], [2.0]]); Y = torch.tensor([[1.0], [3.0], [5.0]])
    >>> W, b = ridge_heads(X, Y, torch.ones(3, 1), alpha=0.0); round(W.item(), 4), round(b.item(), 4)
    (2.0, 1.0)
    """
    X64, Y64 = X.double(), Y.double()
    d, A = X.shape[1], Y.shape[1]
    W, b = torch.zeros(A, d, dtype=torch.float64), torch.zeros(A, dtype=torch.float64)
    for a in range(A):
        rows = M[:, a] > 0
        if not rows.any():
            raise DataError(f"attribute {a} has no ratings to fit its head on")
        x, y = X64[rows], Y64[rows, a]
        x_mean, y_mean = x.mean(0), y.mean()
        xc = x - x_mean
        gram = xc.T @ xc + alpha * torch.eye(d, dtype=torch.float64)
        W[a] = torch.linalg.solve(gram, xc.T @ (y - y_mean))
        b[a] = y_mean - x_mean @ W[a]
    return W.float(), b.float()


def gradient_heads(X: Tensor, Y: Tensor, M: Tensor, alpha: float = 1.0, steps: int = 500, lr: float = 0.05,
                   seed: int = 0) -> tuple[Tensor, Tensor]:
    """The same heads by full-batch Adam on the masked squared error plus α/N_a·‖w_a‖² (the ridge objective
    divided by N_a): slower than `ridge_heads` and approximate, for data too large to solve at once."""
    from rewardkit.training.losses import masked_mse

    generator = torch.Generator().manual_seed(seed)
    mean, std = X.mean(0), X.std(0).clamp(min=1e-6)
    Xs = (X - mean) / std  # standardised features: one learning rate suits every dimension
    W = (torch.randn(Y.shape[1], X.shape[1], generator=generator) * 0.01).requires_grad_()
    b = (Y * M).sum(0).div(M.sum(0).clamp(min=1)).clone().requires_grad_()
    optimizer = torch.optim.Adam([W, b], lr=lr)
    counts = M.sum(0).clamp(min=1)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = masked_mse(Xs @ W.T + b, Y, M) + alpha * ((W * std) ** 2).sum(1).div(counts).sum() / Y.shape[1]
        loss.backward()
        optimizer.step()
    W_raw = (W / std).detach()
    return W_raw, (b - W_raw @ mean).detach()


def pearson(a: Tensor, b: Tensor) -> float:
    """Pearson correlation of two 1-D tensors (0 when either is constant)."""
    a, b = a.double() - a.double().mean(), b.double() - b.double().mean()
    denominator = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator > 0 else 0.0


def decorrelation(values: Tensor, verbosity: Tensor, target: float) -> dict[str, float]:
    """λ for one attribute on a reference set: 0 when |corr(v, verbosity)| ≤ target already, else the least-
    squares coefficient λ = cov(v, verbosity) / var(verbosity), which makes corr(v − λ·verbosity, verbosity)
    exactly 0 on the reference set (the full margin below the target is left for new data).

    >>> d = decorrelation(torch.tensor([1.0, 2.0, 3.0, 5.0]), torch.tensor([1.0, 2.0, 3.0, 4.0]), 0.03)
    >>> round(d["lambda"], 4), round(d["corr_before"], 3), abs(d["corr_after"]) < 1e-6
    (1.3, 0.983, True)
    """
    before = pearson(values, verbosity)
    centred = verbosity.double() - verbosity.double().mean()
    variance = float((centred * centred).sum())
    lam = 0.0
    if abs(before) > target and variance > 0:
        lam = float(((values.double() - values.double().mean()) * centred).sum()) / variance
    return {"lambda": lam, "corr_before": before, "corr_after": pearson(values - lam * verbosity, verbosity)}
