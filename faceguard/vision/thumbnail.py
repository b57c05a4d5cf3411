"""Face thumbnails: an upright, margin-padded JPEG of one face, kept with its five landmarks.

Templates store one so the admin window can show who was enrolled and so a later model (with another
template or input size) can re-encode the face without the original photo: ``align_face`` on the
decoded thumbnail and its landmarks gives that model's chip. Access events keep a smaller one as a
snapshot.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceguard.core.errors import ImageError
from faceguard.core.types import Thumbnail
from faceguard.vision.align import DLIB_150_TEMPLATE, estimate_similarity, warp_chip

#: The dlib chip's landmark layout shrunk to 60% and centred: the face fills the middle of the
#: thumbnail with room for hair, chin and ears around it (a passport-like framing).
_FACE_FRACTION = 0.6
THUMBNAIL_SIZE = 256  # the face at the encoder chip's resolution (0.6 x 256 ≈ 150)
SNAPSHOT_SIZE = 96
JPEG_QUALITY = 95


def face_thumbnail(image: np.ndarray, landmarks: np.ndarray, size: int = THUMBNAIL_SIZE) -> Thumbnail:
    """Cut, rotate upright and JPEG-encode the face whose 5 ``landmarks`` lie in RGB ``image``."""
    template = _thumbnail_template(size)
    matrix = estimate_similarity(landmarks, template)
    crop = warp_chip(image, matrix, size)
    points = np.asarray(landmarks, np.float64) @ matrix[:, :2].T + matrix[:, 2]
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ImageError("The face thumbnail could not be encoded as JPEG.")
    return Thumbnail(encoded.tobytes(), points.astype(np.float32))


def decode_thumbnail(thumbnail: Thumbnail) -> np.ndarray:
    """RGB uint8 image of a stored thumbnail (ImageError if its bytes are not an image)."""
    return decode_jpeg(thumbnail.jpeg)


def decode_jpeg(data: bytes) -> np.ndarray:
    """RGB uint8 image of JPEG bytes (ImageError if the bytes are not an image)."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageError("A stored face thumbnail is not a readable image.")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _thumbnail_template(size: int) -> np.ndarray:
    template = DLIB_150_TEMPLATE.astype(np.float64) / 150.0
    centred = (template - 0.5) * _FACE_FRACTION + 0.5
    return centred * size
