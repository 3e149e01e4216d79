"""What a model spec (implicit:dpo, judge:rubric, process:implicit...) is built over, on eval, serve, score, rerank
and annotate: `--policy`, `--reference` and `--beta`, and for judge specs `--backend`, `--base-url`, `--template`
and `--judge-option`. A saved folder takes none of them (rewardkit.families.from_name says so)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

MODEL_HELP = ("Saved rewardkit model folder, any HF sequence-classification RM, or a spec such as implicit:simpo or "
              "judge:rubric (built over --policy / --reference / --beta and the judge options).")
POLICY_HELP = "Policy LM for specs such as implicit:dpo (default smollm2)."
REFERENCE_HELP = "Reference LM for specs."
BETA_HELP = "β for specs (default: the kind's own)."
BACKEND_HELP = "judge specs: transformers (local LM, default) | openai (an OpenAI-compatible server at --base-url)."
BASE_URL_HELP = ("judge specs, openai backend: the server URL up to /v1; --policy names the served model (default: "
                 "the first).")
TEMPLATE_HELP = "judge specs: a prompt template file replacing the kind's default (rewardkit/models/judge_templates)."
JUDGE_OPTION_HELP = ("judge specs: KEY=VALUE of rewardkit.models.judge.JudgeOptions (samples, temperature, max_tokens, "
                     "rubric, timeout, ...); repeatable.")


# The options themselves, one definition each, for the signatures of the commands above (`policy: Policy = None`).
Policy = Annotated[Optional[str], typer.Option(help=POLICY_HELP)]
Reference = Annotated[Optional[str], typer.Option(help=REFERENCE_HELP)]
Beta = Annotated[Optional[float], typer.Option(help=BETA_HELP)]
Backend = Annotated[Optional[str], typer.Option(help=BACKEND_HELP)]
BaseUrl = Annotated[Optional[str], typer.Option("--base-url", help=BASE_URL_HELP)]
Template = Annotated[Optional[Path], typer.Option("--template", help=TEMPLATE_HELP)]
JudgeOption = Annotated[Optional[List[str]], typer.Option("--judge-option", help=JUDGE_OPTION_HELP)]


def judge_options(backend: Optional[str], base_url: Optional[str], template: Optional[Path],
                  pairs: List[str]) -> dict:
    """The judge options given on the command line (typed by JudgeOptions' annotations)."""
    from rewardkit.errors import ConfigError
    from rewardkit.models.judge import JudgeOptions
    from rewardkit.training.config import parse_overrides, typed_values

    values = parse_overrides(pairs)
    values.update({k: v for k, v in (("backend", backend), ("base_url", base_url),
                                     ("template", str(template) if template else None)) if v is not None})
    known = set(JudgeOptions.__dataclass_fields__) - {"kind"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown judge option(s) {unknown}; known: {', '.join(sorted(known))}")
    return typed_values(JudgeOptions, values)


def check_judge_options(models: List[str], judge: dict) -> None:
    """Judge options given for models none of which is a judge spec are an error (before anything loads)."""
    if judge and not any(name.startswith("judge:") for name in models):
        from rewardkit.errors import ConfigError

        raise ConfigError("--backend, --base-url, --template and --judge-option apply to judge specs (judge:KIND)")


def model_from(model: str, load_options: Optional[dict] = None, *, policy: Optional[str] = None,
               reference: Optional[str] = None, beta: Optional[float] = None, judge: Optional[dict] = None,
               max_length: Optional[int] = None):
    """The spec `model` built over policy / reference / β (and, for a judge spec, the judge options), else the
    saved folder or hub id loaded with `load_options`."""
    from rewardkit import families

    return families.from_name(model, max_length, load_options, policy=policy, reference=reference, beta=beta,
                              **_judge_only(model, judge))


def load_arguments(model: str, load_options: Optional[dict] = None, *, policy: Optional[str] = None,
                   reference: Optional[str] = None, beta: Optional[float] = None,
                   judge: Optional[dict] = None) -> dict:
    """What `rewardkit.load(model, **arguments)` takes to give `model_from`'s model (Ray actors load with it)."""
    from rewardkit import families

    return families.load_arguments(model, None, load_options, policy=policy, reference=reference, beta=beta,
                                   **_judge_only(model, judge))


def _judge_only(model: str, judge: Optional[dict]) -> dict:
    """The judge options, for a judge spec; other models take none."""
    return (judge or {}) if model.startswith("judge:") else {}
