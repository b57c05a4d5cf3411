"""Passive liveness: how likely a detected face is a live person rather than a photo or a screen,
from one frame, with Minivision's two MiniFASNet models (:mod:`faceguard.vision.networks.minifasnet`).

FaceGuard ships no liveness weights and never downloads any: a site provides the two model files,
named as Minivision releases them, ``{scale}_{height}x{width}_MiniFASNet{V2|V1SE}.pth`` (e.g.
``2.7_80x80_MiniFASNetV2.pth`` and ``4_0_0_80x80_MiniFASNetV1SE.pth``; the first number is how
much the face box is grown for that model's crop). Each file is a torch state dict, its keys
prefixed ``module.``; it is read with ``weights_only=True`` and loaded strictly.

Each model sees the face box grown ``scale`` times around its centre (less if the frame is smaller),
shifted to lie inside the frame, cut out and resized to the model's input without keeping the aspect
ratio, as BGR float in [0, 255]. The live score is the average of the two models' softmax
probabilities of class 1 (live).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from faceguard.core.errors import ImageError, InvalidInputError, LivenessModelError
from faceguard.core.types import Face
from faceguard.vision.device import select_device
from faceguard.vision.image_io import gray_to_rgb
from faceguard.vision.networks.minifasnet import LIVE_CLASS, MiniFASNet, MiniFASNetV1SE, MiniFASNetV2

#: Minivision's file names: the crop scale (``2.7``, or ``4`` followed by ``_0_0``), the input size, the kind.
MODEL_NAME = re.compile(
    r"(?P<scale>\d+(?:\.\d+)?)(?:_\d+)*_(?P<height>\d+)x(?P<width>\d+)_MiniFASNet(?P<kind>\w+)\.pth"
)
NETWORKS: dict[str, Callable[[tuple[int, int]], MiniFASNet]] = {"V2": MiniFASNetV2, "V1SE": MiniFASNetV1SE}
EXAMPLE_NAMES = "2.7_80x80_MiniFASNetV2.pth and 4_0_0_80x80_MiniFASNetV1SE.pth"


@dataclass(frozen=True)
class ModelFile:
    """What a model file's name says: its network ``kind`` (V2 or V1SE), crop ``scale`` and input size."""

    path: Path
    kind: str
    scale: float
    height: int
    width: int

    @classmethod
    def parse(cls, path: Path) -> ModelFile | None:
        """The model ``path`` names, or None if its name does not follow the convention."""
        match = MODEL_NAME.fullmatch(path.name)
        if match is None:
            return None
        height, width = int(match["height"]), int(match["width"])
        if match["kind"] not in NETWORKS or float(match["scale"]) <= 0 or min(height, width) < 1:
            return None
        return cls(path, match["kind"], float(match["scale"]), height, width)


@dataclass(frozen=True)
class LivenessModel:
    """One loaded network and the crop it was trained on."""

    network: nn.Module
    scale: float
    height: int
    width: int


class PassiveLiveness:
    """The live probability of detected faces, from the MiniFASNetV2 and V1SE models on one device.
    Build it with :meth:`load`."""

    def __init__(self, models: Sequence[LivenessModel], device: torch.device) -> None:
        self.models = tuple(models)
        self.device = device

    @classmethod
    def load(cls, source: str | Path | Iterable[str | Path], device: str = "auto") -> PassiveLiveness:
        """Load the two models from a folder holding them, or from their two file paths, onto ``device``
        (auto = cuda > mps > cpu). Raises LivenessModelError naming the file that is missing, unreadable,
        wrongly named or not the model its name says."""
        files = _model_files(source)
        torch_device = select_device(device)
        models = []
        for file in files:
            network = _read_network(file).for_inference().to(torch_device)
            if torch_device.type == "cpu":  # the crops arrive channels-last; ~10 % faster on one thread
                network = network.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            models.append(LivenessModel(network, file.scale, file.height, file.width))
        return cls(models, torch_device)

    def score(self, image: np.ndarray, face: Face) -> float:
        """The live probability in [0, 1] of ``face``, detected in ``image`` (RGB uint8 (H, W, 3) as
        FaceGuard reads photos and frames; grayscale (H, W) also accepted)."""
        return self.score_many(image, [face])[0]

    def score_many(self, image: np.ndarray, faces: Sequence[Face]) -> list[float]:
        """The live probability of each of ``faces`` in ``image``, in order, one batch per model."""
        if not faces:
            return []
        bgr = _as_bgr(image)
        live = np.zeros(len(faces), np.float64)
        with torch.inference_mode():
            for model in self.models:
                crops = np.stack([crop_face(bgr, face.box, model.scale, model.height, model.width) for face in faces])
                batch = torch.from_numpy(crops).to(self.device).permute(0, 3, 1, 2).float()
                live += model.network(batch).softmax(1)[:, LIVE_CLASS].double().cpu().numpy()
        return [float(value) for value in live / len(self.models)]


def crop_box(box: np.ndarray, scale: float, image_height: int, image_width: int) -> tuple[int, int, int, int]:
    """Inclusive pixel corners (left, top, right, bottom) of ``box`` (x1, y1, x2, y2) grown ``scale`` times
    around its centre: the scale is capped so the crop fits in the image, and the crop shifted inside it."""
    box_width, box_height = float(box[2] - box[0]), float(box[3] - box[1])
    if box_width <= 0 or box_height <= 0:
        raise InvalidInputError(f"A face box must have a positive width and height; got {box_width} x {box_height}.")
    scale = min((image_height - 1) / box_height, (image_width - 1) / box_width, scale)
    centre_x, centre_y = float(box[0]) + box_width / 2, float(box[1]) + box_height / 2
    half_width, half_height = box_width * scale / 2, box_height * scale / 2
    left, right = _inside(centre_x - half_width, centre_x + half_width, image_width - 1)
    top, bottom = _inside(centre_y - half_height, centre_y + half_height, image_height - 1)
    return int(left), int(top), int(right), int(bottom)


def crop_face(bgr: np.ndarray, box: np.ndarray, scale: float, height: int, width: int) -> np.ndarray:
    """The model input for ``box``: its grown crop (:func:`crop_box`) of ``bgr`` resized to ``height`` x
    ``width`` (bilinear, aspect ratio not kept), uint8 BGR."""
    left, top, right, bottom = crop_box(box, scale, *bgr.shape[:2])
    return cv2.resize(bgr[top : bottom + 1, left : right + 1], (width, height))


def _inside(low: float, high: float, last: int) -> tuple[float, float]:
    """The span [low, high] moved to start at 0 or end at ``last`` if it sticks out of [0, last]."""
    if low < 0:
        low, high = 0.0, high - low
    if high > last:
        low, high = low - (high - last), float(last)
    return low, high


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ImageError("The image must be an 8-bit picture (a uint8 array).")
    if image.ndim == 2:
        image = gray_to_rgb(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
        raise ImageError("The image must be a non-empty RGB or grayscale picture.")
    return np.ascontiguousarray(image[:, :, ::-1])


def _model_files(source: str | Path | Iterable[str | Path]) -> list[ModelFile]:
    """The V2 and V1SE model files in a folder or a list of paths, in that order."""
    if isinstance(source, str | Path) and Path(source).is_dir():
        folder = Path(source)
        paths = sorted(path for path in folder.glob("*.pth") if path.is_file())
        files = [file for file in map(ModelFile.parse, paths) if file is not None]
        where = f"in the folder '{folder}'"
    elif isinstance(source, str | Path) and not Path(source).exists():
        raise LivenessModelError(f"The liveness model folder or file '{source}' does not exist.")
    else:
        paths = [Path(source)] if isinstance(source, str | Path) else [Path(path) for path in source]
        files = [_named_model(path) for path in paths]
        where = "among the liveness model files given"
    chosen = []
    for kind in NETWORKS:
        found = [file for file in files if file.kind == kind]
        if len(found) != 1:
            named = ", ".join(f"'{file.path.name}'" for file in found)
            problem = f"Several MiniFASNet{kind} models ({named}) are" if found else f"No MiniFASNet{kind} model is"
            raise LivenessModelError(
                f"{problem} {where}; passive liveness needs exactly one MiniFASNetV2 and one MiniFASNetV1SE "
                f"file, named as Minivision releases them ({EXAMPLE_NAMES})."
            )
        chosen.append(found[0])
    return chosen


def _named_model(path: Path) -> ModelFile:
    if not path.is_file():
        what = "is a folder, not a model file" if path.is_dir() else "does not exist"
        raise LivenessModelError(f"The liveness model file '{path}' {what}.")
    file = ModelFile.parse(path)
    if file is None:
        raise LivenessModelError(
            f"The liveness model file '{path}' is not named as Minivision releases its models "
            f"({{scale}}_{{height}}x{{width}}_MiniFASNetV2.pth or ..._MiniFASNetV1SE.pth, e.g. {EXAMPLE_NAMES}); "
            "the name says which network it holds and how its face crop is made."
        )
    return file


def _read_network(file: ModelFile) -> MiniFASNet:
    """The network ``file`` names, with its weights loaded strictly (every tensor used, none missing)."""
    name = f"The liveness model file '{file.path}'"
    try:
        data = file.path.read_bytes()
    except FileNotFoundError:
        raise LivenessModelError(f"{name} does not exist.") from None
    except PermissionError:
        raise LivenessModelError(f"{name} cannot be read: permission denied.") from None
    except OSError as error:
        raise LivenessModelError(f"{name} cannot be read ({error.strerror or error}).") from None
    if not data:
        raise LivenessModelError(f"{name} is empty (0 bytes).")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception:  # a damaged file fails in the unpickler or the archive reader with any of a dozen errors
        raise LivenessModelError(f"{name} is damaged or is not a torch model file.") from None
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise LivenessModelError(f"{name} does not hold a state dict of tensors.")
    network = NETWORKS[file.kind]((file.height, file.width))
    weights = {str(key).removeprefix("module."): value for key, value in state.items()}
    problem = _state_mismatch(network.state_dict(), weights)
    if problem:
        raise LivenessModelError(
            f"{name} does not hold MiniFASNet{file.kind} weights for {file.height}x{file.width}: {problem}."
        )
    network.load_state_dict(weights, strict=True)
    return network


def _state_mismatch(expected: dict[str, torch.Tensor], given: dict[str, torch.Tensor]) -> str:
    """What keeps ``given`` from loading strictly where ``expected`` is: missing, unexpected or
    differently shaped tensors (the first of each), or '' if nothing."""
    problems = []
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    reshaped = [key for key in expected if key in given and given[key].shape != expected[key].shape]
    if missing:
        problems.append(f"tensors missing: {len(missing)}, the first '{missing[0]}'")
    if unexpected:
        problems.append(f"unexpected tensors: {len(unexpected)}, the first '{unexpected[0]}'")
    if reshaped:
        key = reshaped[0]
        problems.append(
            f"tensors of another shape: {len(reshaped)}, the first '{key}' "
            f"{tuple(given[key].shape)} instead of {tuple(expected[key].shape)}"
        )
    return "; ".join(problems)
