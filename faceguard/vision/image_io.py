"""Decode photos into RGB uint8 arrays, turning every kind of bad input into a clear ImageError."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from faceguard.core.errors import ImageError

#: Largest decoded size we accept. JPEGs above it are decoded at a reduced scale instead (DCT draft
#: mode, fast; at 1/8 beyond Pillow's decompression-bomb limit); other formats above it are refused rather
#: than risking seconds of work and gigabytes.
MAX_PIXELS = 40_000_000
#: JPEGs are decoded at the smallest DCT scale that keeps the longer side at least this long.
DRAFT_SIDE = 4096
JPEG_MAGIC = b"\xff\xd8"
#: File name endings read as photos wherever a folder or a file dialog is searched for them.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def read_image(source: str | Path | bytes) -> np.ndarray:
    """Read a photo file (or its bytes) as an RGB uint8 array of shape (H, W, 3).

    Applies the EXIF orientation, flattens transparency onto white, scales 16-bit images to 8 bits
    and expands grayscale. Raises ImageError with a specific message for an empty, truncated,
    non-image or oversized file.
    """
    name = "The image" if isinstance(source, bytes) else f"'{Path(source).name}'"
    data = source if isinstance(source, bytes) else _read_bytes(Path(source), name)
    if not data:
        raise ImageError(f"{name} is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = _open(data)
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(
                    f"{name} is too large ({image.width}x{image.height} pixels); "
                    f"the limit is {MAX_PIXELS // 1_000_000} megapixels."
                )
            image.load()
            image = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise ImageError(f"{name} is too large to decode safely.") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image file (or is in a format FaceGuard cannot read).") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{name} could not be decoded; the file is damaged or truncated ({error}).") from None
    if image.width < 1 or image.height < 1:
        raise ImageError(f"{name} has no pixels.")
    return _to_rgb8(image)


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise ImageError(f"{name} is a folder, not an image file.") from None
    except PermissionError:
        raise ImageError(f"{name} cannot be read: permission denied.") from None
    except OSError as error:
        raise ImageError(f"{name} cannot be read ({error.strerror or error}).") from None


def _open(data: bytes) -> Image.Image:
    """Pillow's image of ``data``, not decoded yet; a JPEG above MAX_PIXELS in draft mode. A JPEG beyond
    Pillow's decompression-bomb limit, which Image.open refuses, is opened as a JPEG all the same and
    drafted at 1/8 scale, so a damaged or truncated one is refused like any other."""
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        if data[:2] != JPEG_MAGIC:
            raise
        image = JpegImagePlugin.JpegImageFile(io.BytesIO(data))
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        return image
    if image.format == "JPEG" and image.width * image.height > MAX_PIXELS:
        image.draft("RGB", (DRAFT_SIDE, DRAFT_SIDE))
    return image


def gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    """(H, W) grey levels as an (H, W, 3) RGB array with three equal channels."""
    return np.repeat(gray[:, :, None], 3, axis=2)


def _to_rgb8(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(image).astype(np.float32)
        peak = 65535.0 if image.mode.startswith("I;16") or wide.max() > 255 else 255.0
        gray = np.clip(wide * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
        return gray_to_rgb(gray)
    if image.mode == "F":
        gray = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
        return gray_to_rgb(gray)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def file_name(path: Path) -> str:
    """``path``'s name as text that can be stored and shown: bytes that are not UTF-8 (a name made on
    another system, which Python keeps as lone surrogates) become U+FFFD."""
    return os.fsencode(path.name).decode("utf-8", "replace")


def photo_source(path: Path) -> str:
    """How a template records the photo file it came from: ``photo:<file name>``."""
    return f"photo:{file_name(path)}"
