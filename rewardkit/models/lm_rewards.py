"""CLI entry points for rewards that a language model defines: parse `family:kind` specs and build the model.
Importing this module is cheap (torch and transformers load only when a model is built).

    implicit:dpo | implicit:simpo | implicit:cdr | implicit:rlpr      rewardkit.models.implicit
    process:implicit                                                  rewardkit.models.process

The CLI should call, for `rewardkit eval --model implicit:dpo --policy P --reference R --beta B`:

    if is_lm_spec(model_arg):
        model = build_from_spec(model_arg, policy=P or "smollm2", reference=R, beta=B, criteria=C)
    else:
        model = rewardkit.load(model_arg)
"""

from __future__ import annotations

from rewardkit.errors import ConfigError

SPECS: dict[str, tuple[str, ...]] = {
    "implicit": ("dpo", "simpo", "cdr", "rlpr"),
    "process": ("implicit",),
}
"""Buildable kinds per family. A trained process model (implicit or explicit) is loaded from its folder."""


def is_lm_spec(text: str) -> bool:
    """True for strings such as 'implicit:dpo' (not for folder paths such as 'runs/model').

    >>> is_lm_spec("implicit:simpo"), is_lm_spec("runs/prm/model")
    (True, False)
    """
    return text.partition(":")[0] in SPECS and ":" in text


def parse_spec(spec: str) -> tuple[str, str]:
    """'implicit:dpo' → ('implicit', 'dpo'); a bare family takes its first kind.

    >>> parse_spec("process:implicit"), parse_spec("implicit")
    (('process', 'implicit'), ('implicit', 'dpo'))
    """
    family, _, kind = spec.strip().partition(":")
    if family not in SPECS:
        raise ConfigError(f"unknown model spec '{spec}'; use one of {', '.join(all_specs())}")
    kind = kind or SPECS[family][0]
    if kind not in SPECS[family]:
        raise ConfigError(f"unknown {family} kind '{kind}' in '{spec}'; use one of {', '.join(all_specs())}")
    return family, kind


def all_specs() -> list[str]:
    return [f"{family}:{kind}" for family, kinds in SPECS.items() for kind in kinds]


def build_from_spec(spec: str, policy: str = "smollm2", reference: str | None = None, beta: float | None = None,
                    *, criteria: str | None = None, separator: str = "newline", aggregation: str = "min",
                    max_length: int = 1024, batch_size: int = 8, trust_remote_code: bool = False):
    """The reward model a spec names, over causal LMs given by folder, hub id or 'smollm2' (the default).
    β defaults per kind (implicit: rewardkit.models.implicit.DEFAULT_BETA; process: 0.05)."""
    family, kind = parse_spec(spec)
    if family == "process":
        from rewardkit.models.process import ProcessOptions, build_process

        return build_process(policy, reference, ProcessOptions.beta if beta is None else beta, separator=separator,
                             aggregation=aggregation, max_length=max_length, batch_size=batch_size,
                             trust_remote_code=trust_remote_code)
    from rewardkit.models.implicit import build_implicit

    return build_implicit(kind, policy, reference, beta, criteria=criteria, max_length=max_length,
                          batch_size=batch_size, trust_remote_code=trust_remote_code)
