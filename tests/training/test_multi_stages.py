"""The two stages of the multi-objective recipe on embeddings drawn from a known model: ridge heads recover the
attribute weights with missing ratings masked, the gate recovers a known prompt-dependent weighting, and
decorrelation brings |corr(attribute, verbosity)| under its target on held-out data."""

from __future__ import annotations

import torch

from rewardkit.models.multi import MultiHeads
from rewardkit.training.attribute_heads import decorrelation, gradient_heads, pearson, ridge_heads
from rewardkit.training.multi_tasks import GateModule, gate_loss


def known_ratings(n: int, seed: int, missing: float = 0.3):
    """Embeddings X [n, 6], a known W [3, 6], b [3], ratings Y = X Wᵀ + b + noise, and a mask hiding a
    `missing` share of them (the hidden ones replaced by garbage, which a correct fit never reads)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.tensor([[1.0, -2.0, 0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0, -1.0, 0.0], [0.2, 0.2, 0.2, 0.2, 0.2, 1.0]])
    b = torch.tensor([2.0, -1.0, 0.5])
    X = torch.randn(n, 6, generator=g)
    Y = X @ W.T + b + 0.05 * torch.randn(n, 3, generator=g)
    M = (torch.rand(n, 3, generator=g) > missing).float()
    return X, torch.where(M > 0, Y, torch.full_like(Y, 1e6)), M, W, b


def test_ridge_recovers_known_heads_reading_only_rated_rows():
    X, Y, M, W, b = known_ratings(2000, seed=0)
    fitted_W, fitted_b = ridge_heads(X, Y, M, alpha=1e-3)
    assert (fitted_W - W).abs().max() < 0.02 and (fitted_b - b).abs().max() < 0.02  # tolerance: 0.02 per weight
    imputed_W, _ = ridge_heads(X, Y, torch.ones_like(M), alpha=1e-3)  # reading the hidden garbage would ruin it
    assert (imputed_W - W).abs().max() > 1.0


def test_ridge_matches_a_hand_solved_case_and_gradient_heads_agree():
    X = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    Y = torch.tensor([[1.0], [3.0], [5.0], [100.0]])
    M = torch.tensor([[1.0], [1.0], [1.0], [0.0]])
    W, b = ridge_heads(X, Y, M, alpha=2.0)  # centred x = (−1, 0, 1), y − ȳ = (−2, 0, 2): w = 4 / (2 + 2) = 1
    assert torch.allclose(W, torch.tensor([[1.0]])) and torch.allclose(b, torch.tensor([2.0]))
    X, Y, M, W_true, b_true = known_ratings(1000, seed=1)
    W_grad, b_grad = gradient_heads(X, Y, M, alpha=1e-3, steps=400, lr=0.05)
    assert (W_grad - W_true).abs().max() < 0.05 and (b_grad - b_true).abs().max() < 0.05


def test_decorrelation_drives_held_out_correlation_with_verbosity_under_the_target():
    g = torch.Generator().manual_seed(2)

    def sample(n):  # a helpfulness head that leaks length: corr ≈ 0.6 with the verbosity head
        verbosity = torch.randn(n, generator=g)
        return torch.randn(n, generator=g) + 0.75 * verbosity, verbosity

    reference, held = sample(20_000), sample(20_000)
    chosen = decorrelation(*reference, target=0.03)
    after = pearson(held[0] - chosen["lambda"] * held[1], held[1])
    assert abs(pearson(*held)) > 0.5 and abs(chosen["corr_before"]) > 0.5
    assert abs(chosen["corr_after"]) < 1e-6 and abs(after) < 0.03
    assert decorrelation(torch.randn(5000, generator=g), torch.randn(5000, generator=g), 0.03)["lambda"] == 0.0


def test_the_gate_recovers_a_known_prompt_dependent_weighting():
    """Four prompt clusters, each with its own true weights over three attributes; labels drawn from
    σ(3 · Σ g*·(v_c − v_r)). Tolerance: every recovered weight within 0.1 of the truth."""
    g = torch.Generator().manual_seed(0)
    n, d = 4000, 8
    centres = torch.randn(4, d, generator=g) * 2
    truth = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [1 / 3, 1 / 3, 1 / 3]])
    cluster = torch.randint(0, 4, (n,), generator=g)
    prompts = centres[cluster] + 0.1 * torch.randn(n, d, generator=g)
    first, second = torch.randn(n, 3, generator=g) * 2, torch.randn(n, 3, generator=g) * 2
    first_wins = torch.rand(n, generator=g) < torch.sigmoid(3.0 * (truth[cluster] * (first - second)).sum(-1))
    chosen = torch.where(first_wins[:, None], first, second)
    rejected = torch.where(first_wins[:, None], second, first)
    torch.manual_seed(0)
    module = GateModule(MultiHeads(d, 3, hidden=32, temperature=10.0))
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-2)
    for _ in range(500):
        index = torch.randint(0, n, (256,), generator=g)
        loss, _ = gate_loss(module, prompts[index], chosen[index], rejected[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        recovered = module(centres)
    assert (recovered - truth).abs().max() < 0.1, recovered
    assert 2.0 < float(module.log_scale.detach().exp()) < 4.0  # β near the true 3
