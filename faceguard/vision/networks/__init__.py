"""The encoder networks and the registry that builds them by architecture name.

Every network maps float (N, 3, S, S) RGB in [0, 255] to (N, dim) encodings, normalising its input
itself, so :class:`faceguard.vision.encoder.Encoder` runs any of them the same way. Outputs are not
L2-normalised: a spec's ``normalize`` does that in the encoder, and the training loop does it too.
The builtin models and training both build their networks here (training imports vision, never the
reverse).
"""

from __future__ import annotations

from typing import NamedTuple

from torch import nn

from faceguard.vision.align import ARCFACE_112_TEMPLATE
from faceguard.vision.networks import dlib_resnet, sface
from faceguard.vision.networks.small_facenet import SmallFaceNet
from faceguard.vision.spec import DLIB_RESNET_V1, SFACE_V1


class Architecture(NamedTuple):
    """An architecture's default chip: its side in pixels and where the 5 landmarks go in it."""

    input_size: int
    template: tuple[tuple[float, float], ...]


ARCHITECTURES: dict[str, Architecture] = {
    "small-facenet": Architecture(112, tuple((float(x), float(y)) for x, y in ARCFACE_112_TEMPLATE)),
    "dlib-resnet": Architecture(DLIB_RESNET_V1.input_size, DLIB_RESNET_V1.template),
    "sface": Architecture(SFACE_V1.input_size, SFACE_V1.template),
}


def build_network(
    architecture: str, pretrained: bool = True, *, dim: int | None = None, input_size: int | None = None
) -> nn.Module:
    """A fresh network: ``small-facenet`` with random weights (from torch's current seed), or
    ``dlib-resnet`` / ``sface`` with their converted weights when ``pretrained`` (else uninitialised-as-built).

    ``dim``/``input_size`` size a small-facenet (defaults 128 and 112); dlib's ResNet and SFace have fixed ones.
    """
    if architecture == "small-facenet":
        return SmallFaceNet(dim or 128, input_size or ARCHITECTURES[architecture].input_size)
    if architecture == "dlib-resnet":
        if dim not in (None, dlib_resnet.EMBEDDING_SIZE) or input_size not in (None, dlib_resnet.INPUT_SIZE):
            raise ValueError(f"dlib-resnet takes 150x150 chips and gives 128 dimensions, not {input_size} and {dim}.")
        model: nn.Module = dlib_resnet.DlibResNet()
        if pretrained:
            model.load_state_dict(dlib_resnet.dlib_state_dict())
        return model
    if architecture == "sface":
        if dim not in (None, sface.EMBEDDING_SIZE) or input_size not in (None, sface.INPUT_SIZE):
            raise ValueError(f"sface takes 112x112 chips and gives 128 dimensions, not {input_size} and {dim}.")
        model = sface.SFaceNet()
        if pretrained:
            model.load_state_dict(sface.sface_state_dict())
        return model
    known = ", ".join(ARCHITECTURES)
    raise ValueError(f"Unknown architecture '{architecture}'. Known architectures: {known}.")
