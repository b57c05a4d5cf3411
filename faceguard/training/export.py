"""Turn a training checkpoint into a model the kiosk can load: ``NAME.pt`` + ``NAME.json`` in
:func:`faceguard.vision.spec.models_dir`.

The exported weights are a plain state dict and the spec carries their sha256, so the model loads with
``torch.load(weights_only=True)`` and a swapped weights file is caught. Templates stored with a model
id must have been made by exactly those weights, so re-exporting an existing name with other weights
needs a new version (a new id); re-exporting the same weights (say, with a new threshold) may keep it.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import replace as replaced
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faceguard.core.errors import ConflictError, FaceGuardError, InvalidInputError
from faceguard.vision import weights
from faceguard.vision.networks import ARCHITECTURES, build_network
from faceguard.vision.spec import (
    BUILTIN_MODELS,
    ModelSpec,
    check_model_name,
    models_dir,
    read_registered,
    spec_to_json,
)

CHECKPOINT_FORMAT = "faceguard-checkpoint/1"
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """What export needs from a training checkpoint (optimiser, scheduler and head states are ignored)."""

    path: Path
    architecture: str
    state_dict: dict[str, torch.Tensor]
    input_size: int
    template: tuple[tuple[float, float], ...]
    dim: int
    normalize: bool
    epoch: int | None
    metrics: dict[str, Any]


def read_checkpoint(path: Path | str) -> Checkpoint:
    """What export needs from a ``faceguard-checkpoint/1`` file (see :func:`load_checkpoint`)."""
    path = Path(path)
    data = load_checkpoint(path)
    try:
        return _checkpoint_fields(path, data)
    except KeyError as error:
        raise FaceGuardError(f"The checkpoint {path} is incomplete: it has no {error.args[0]!r}.") from None
    except (TypeError, ValueError) as error:
        raise FaceGuardError(f"The checkpoint {path} is malformed: {error}.") from None


def load_checkpoint(path: Path | str, device: torch.device | str = "cpu") -> dict[str, Any]:
    """The whole checkpoint dict, unpickling nothing but plain data (tensors, numbers, strings,
    containers and numpy arrays); FaceGuardError for a missing, damaged or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise FaceGuardError(f"There is no checkpoint file at {path}.")
    damaged = f"{path} is not a readable checkpoint (damaged, or not a file written by faceguard train)"
    if not zipfile.is_zipfile(path):  # every torch.save since torch 1.6 writes a zip archive
        raise FaceGuardError(f"{damaged}.")
    try:
        with torch.serialization.safe_globals(_numpy_globals()):
            data = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)|but got <class '([^']+)'>", str(error))
        if found is None:
            raise FaceGuardError(f"{damaged}.") from None
        raise FaceGuardError(
            f"{path} holds Python objects other than tensors, numbers, strings and arrays (a "
            f"{found[1] or found[2]}); FaceGuard "
            "does not load those (unpickling them could run code). Export a checkpoint written by faceguard train."
        ) from None
    except Exception as error:  # noqa: BLE001 - torch raises many types for a damaged file
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise FaceGuardError(f"{damaged}: {first_line}") from None
    if not isinstance(data, Mapping) or data.get("format") != CHECKPOINT_FORMAT:
        kind = data.get("format") if isinstance(data, Mapping) else type(data).__name__
        raise FaceGuardError(
            f"{path} is not a FaceGuard training checkpoint (format {kind!r}, expected {CHECKPOINT_FORMAT!r})."
        )
    return dict(data)


def _checkpoint_fields(path: Path, data: Mapping[str, Any]) -> Checkpoint:
    architecture = data["architecture"]
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r} (known: {', '.join(ARCHITECTURES)})")
    state = data["state_dict"]
    if not isinstance(state, Mapping) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError("'state_dict' is not a state dict of tensors")
    input_size, dim = int(data["input_size"]), int(data["dim"])
    template = tuple((float(x), float(y)) for x, y in data["template"] or ())
    if not template and input_size == ARCHITECTURES[architecture].input_size:
        template = ARCHITECTURES[architecture].template  # a run on the architecture's default chip
    if len(template) != 5:
        raise ValueError("'template' must hold the 5 landmark positions of the training chips")
    epoch = data.get("epoch")
    metrics = data.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        raise ValueError("'metrics' is not a dict")
    return Checkpoint(
        path,
        architecture,
        dict(state),
        input_size,
        template,
        dim,
        bool(data["normalize"]),
        None if epoch is None else int(epoch),
        dict(metrics),
    )


def export_checkpoint(
    checkpoint: Path | str,
    name: str,
    version: str = "1",
    threshold: float | None = None,
    *,
    replace: bool = False,
    flip: bool = False,
    calibrate: tuple[Path, Path] | None = None,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> ModelSpec:
    """Register the checkpoint's network as model ``name`` and return its spec.

    threshold: the spec's distance threshold; by default the one the training run calibrated on its
    validation pairs (``metrics["threshold"]``). ``calibrate=(pairs_file, root)`` calibrates it instead
    on an LFW-format pairs file (see :func:`calibrate_threshold`). flip: average each encoding with its
    mirror image's (only if the threshold was found that way). An existing name is refused unless
    ``replace``; builtin names always are.
    """
    check_model_name(name)
    if not VERSION.fullmatch(version):
        raise InvalidInputError(f"'{version}' cannot be a model version: use letters, digits, '.', '_' or '-'.")
    if name.casefold() in {builtin.casefold() for builtin in BUILTIN_MODELS}:
        raise ConflictError(f"'{name}' is a builtin model; choose another name for the exported model.")
    folder = models_dir()
    json_path, weights_path = folder / f"{name}.json", folder / f"{name}.pt"
    if json_path.exists() and not replace:
        raise ConflictError(
            f"A model called '{name}' is already exported ({json_path}); choose another "
            "name, or replace it (--replace) with a new --version."
        )
    if threshold is not None and calibrate is not None:
        raise InvalidInputError("Give either a threshold or pairs to calibrate it on, not both.")
    source = read_checkpoint(checkpoint)
    if threshold is None and calibrate is None:
        threshold = source.metrics.get("threshold")
        if threshold is None:
            raise FaceGuardError(
                f"The checkpoint {source.path} holds no calibrated threshold; give one "
                "(--threshold) or calibrate it on verification pairs (--calibrate PAIRS --root DIR)."
            )
    state = _fitted_state(source)
    epoch = f", epoch {source.epoch}" if source.epoch is not None else ""
    spec = ModelSpec(
        name=name,
        version=version,
        input_size=source.input_size,
        template=source.template,
        dim=source.dim,
        distance="euclidean",
        threshold=math.nan,
        weights_source=f"trained: {source.path.name}{epoch}",
        flip=flip,
        architecture=source.architecture,
        normalize=source.normalize,
    )
    folder.mkdir(parents=True, exist_ok=True)
    partial = _save_partial(state, folder)
    try:
        digest = weights.sha256_of(partial)
        if replace:
            _check_replacement(name, version, digest)
        if calibrate is not None:
            provisional = replaced(spec, threshold=1.0, weights_path=str(partial))
            threshold = calibrate_threshold(provisional, *calibrate, device=device, progress=progress)
        assert threshold is not None  # given, read from the checkpoint or calibrated above
        threshold = float(threshold)
        if not (math.isfinite(threshold) and threshold > 0):
            raise FaceGuardError(f"The threshold must be a positive distance, not {threshold}.")
        spec = replaced(spec, threshold=threshold, weights_path=str(weights_path), weights_sha256=digest)
        os.replace(partial, weights_path)
    finally:
        partial.unlink(missing_ok=True)
    _write_json(json_path, spec)
    return spec


def calibrate_threshold(
    spec: ModelSpec,
    pairs_file: Path | str,
    root: Path | str,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> float:
    """The accuracy-maximising distance threshold of ``spec``'s model on an LFW-format pairs file
    (images under ``root``), through the normal detect-align-encode path. ``progress(done, total)``
    is called after each image."""
    from faceguard.evaluation.encode import encode_images, pair_distances, unique_images
    from faceguard.evaluation.metrics import best_threshold
    from faceguard.evaluation.pairs import read_pairs
    from faceguard.vision.pipeline import FacePipeline

    pairs = read_pairs(pairs_file, root)
    pipeline = FacePipeline.load(device=device, model=spec)
    paths = unique_images(pairs)
    encodings = {}
    for done, (path, encoding) in enumerate(encode_images(pipeline, paths), start=1):
        encodings[path] = encoding
        if progress is not None:
            progress(done, len(paths))
    distances = pair_distances(pairs, encodings)
    same = np.array([pair.same for pair in pairs])
    if not (same.any() and (~same).any()) or not np.isfinite(distances).any():
        raise FaceGuardError(
            f"{pairs_file} cannot calibrate a threshold: it needs same-person and "
            "different-person pairs whose photos show a face."
        )
    threshold = best_threshold(distances, same)
    if not threshold > 0:
        raise FaceGuardError(f"No positive threshold separates the pairs of {pairs_file}; use more pairs.")
    return float(threshold)


def _fitted_state(source: Checkpoint) -> dict[str, torch.Tensor]:
    """The checkpoint's weights, loaded into a fresh network of its architecture (so they are known to
    fit) and read back: exactly the network's keys, on the CPU, in their own storage."""
    try:
        model = build_network(source.architecture, pretrained=False, dim=source.dim, input_size=source.input_size)
        model.load_state_dict(source.state_dict)
    except (RuntimeError, ValueError) as error:
        raise FaceGuardError(
            f"The weights in {source.path} do not fit a {source.architecture} network of dimension {source.dim} "
            f"at {source.input_size}x{source.input_size}: {str(error).strip().splitlines()[0]}"
        ) from None
    return {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}


def _check_replacement(name: str, version: str, digest: str) -> None:
    """Replacing a model keeps its id only if the weights are the same (stored templates stay valid)."""
    try:
        current = read_registered(name)
    except FaceGuardError:
        return  # an unreadable model file: nothing to protect
    if current is not None and current.version == version and current.weights_sha256 != digest:
        raise ConflictError(
            f"Model {current.id} is exported with other weights, and templates stored with that id must all "
            f"come from one network. Give the new export another version (e.g. --version "
            f"{_next_version(version)}); then run faceguard people reencode --model {name}."
        )


def _next_version(version: str) -> str:
    return str(int(version) + 1) if version.isdigit() else f"{version}.1"


def _save_partial(state: dict[str, torch.Tensor], folder: Path) -> Path:
    """Write the weights beside their final place. Saved through a buffer: torch.save names the archive
    after the file, and the same weights must give the same bytes (and sha256) whatever the file name."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = folder / f".export-{os.getpid()}.pt.partial"
    path.write_bytes(buffer.getvalue())
    return path


def _write_json(path: Path, spec: ModelSpec) -> None:
    import json

    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(spec_to_json(spec), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)  # the model appears (or changes) only once both files are complete


def _numpy_globals() -> list[Any]:
    """What numpy arrays and scalars in a checkpoint (e.g. numpy's random state) unpickle through."""
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar  # type: ignore[no-redef]
    dtypes = [kind for kind in vars(np.dtypes).values() if isinstance(kind, type) and issubclass(kind, np.dtype)]
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtypes]
