"""`--policy`, `--reference` and `--beta`: what a model spec (implicit:dpo, judge:rubric, process:implicit...) is
built over, on eval, serve, score, rerank and annotate. A saved folder takes none of them (rewardkit.families
.from_name says so)."""

from __future__ import annotations

from typing import Optional

POLICY_HELP = "Policy LM for specs such as implicit:dpo (default smollm2)."
REFERENCE_HELP = "Reference LM for specs."
BETA_HELP = "β for specs (default: the kind's own)."


def model_from(model: str, load_options: Optional[dict] = None, *, policy: Optional[str] = None,
               reference: Optional[str] = None, beta: Optional[float] = None, max_length: Optional[int] = None):
    """The spec `model` built over policy / reference / β, else the saved folder or hub id loaded with
    `load_options`."""
    from rewardkit import families

    return families.from_name(model, max_length, load_options, policy=policy, reference=reference, beta=beta)
