"""Embeddings of a frozen backbone, computed once and kept on disk.

A cache entry is one safetensors file holding an [N, d] float32 tensor, named by the SHA-256 of everything the
numbers depend on: the backbone's files (config, weights, tokenizer), the pooling, the max length and the exact
token ids fed to the backbone (which already reflect the data, the chat rendering and the truncation). Change
any of them and the name changes; nothing is ever read back under a stale key. Files are written atomically
(rewardkit.atomic), so a killed run leaves either a complete entry or none.

The folder is `cache_dir` when given, else $REWARDKIT_CACHE/embeddings, else
$XDG_CACHE_HOME/rewardkit/embeddings (~/.cache/rewardkit/embeddings).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

import torch

_FINGERPRINT_FILES = ("config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json")


def default_cache_dir() -> Path:
    if os.environ.get("REWARDKIT_CACHE"):
        return Path(os.environ["REWARDKIT_CACHE"]) / "embeddings"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rewardkit" / "embeddings"


def backbone_fingerprint(backbone: str) -> str:
    """SHA-256 of a local backbone folder's config, tokenizer and weight files (contents, in name order);
    a hub id is fingerprinted by its name."""
    folder = Path(backbone)
    digest = hashlib.sha256()
    if not folder.is_dir():
        digest.update(f"hub:{backbone}".encode())
        return digest.hexdigest()
    files = [folder / name for name in _FINGERPRINT_FILES] + sorted(folder.glob("*.safetensors"))
    for path in files:
        if path.is_file():
            digest.update(path.name.encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def cache_key(fingerprint: str, pooling: str, max_length: int, token_ids: Sequence[Sequence[int]]) -> str:
    """The entry name for these inputs: SHA-256 over the backbone fingerprint, pooling, max length and every
    sequence of token ids, in order.

    >>> key = cache_key("f", "mean", 8, [[1, 2]])
    >>> key == cache_key("f", "mean", 8, [[1, 2]]), key == cache_key("f", "mean", 8, [[2, 1]])
    (True, False)
    """
    digest = hashlib.sha256(f"{fingerprint}|{pooling}|{max_length}|{len(token_ids)}".encode())
    for ids in token_ids:
        digest.update(b"|" + ",".join(map(str, ids)).encode())
    return digest.hexdigest()


class EmbeddingCache:
    """get_or_compute(key, compute) → the tensor stored under `key`, computing and storing it the first time.
    `hits` and `misses` count what happened, for reports and tests."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder else default_cache_dir()
        self.hits = self.misses = 0

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.safetensors"

    def get_or_compute(self, key: str, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
        from safetensors.torch import load_file, save

        from rewardkit.atomic import atomic_file

        path = self.path(key)
        if path.is_file():
            self.hits += 1
            return load_file(str(path))["embeddings"]
        self.misses += 1
        embeddings = compute().float().contiguous()
        with atomic_file(path, "wb") as handle:
            handle.write(save({"embeddings": embeddings}))
        return embeddings
