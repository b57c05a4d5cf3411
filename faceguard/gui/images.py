"""Numpy images and JPEG bytes as Qt images."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def rgb_to_qimage(image: np.ndarray) -> QImage:
    """An RGB uint8 (H, W, 3) array as a QImage that owns a copy of the pixels."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0], QImage.Format.Format_RGB888).copy()


def jpeg_to_pixmap(data: bytes, size: int | None = None) -> QPixmap:
    """A JPEG (a face thumbnail or snapshot) as a pixmap, scaled to fit ``size`` px when given."""
    pixmap = QPixmap()
    pixmap.loadFromData(data, "JPEG")
    if size is not None and not pixmap.isNull():
        pixmap = pixmap.scaled(
            size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return pixmap
