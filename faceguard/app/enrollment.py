"""One-shot enrollment: one photo → a checked, encoded face → a person in the store.

Imports no neural network library: the pipeline is passed in, so the admin window can use this module
in its GUI thread and run only the work itself in the background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from faceguard.store.people import Person
from faceguard.store.repository import Store
from faceguard.store.templates import ACCEPTED_BELOW, NewTemplate
from faceguard.vision.image_io import photo_source, read_image
from faceguard.vision.quality import QualityReport, QualityThresholds
from faceguard.vision.thumbnail import face_thumbnail

if TYPE_CHECKING:
    from faceguard.vision.pipeline import FacePipeline


@dataclass(frozen=True, eq=False)
class Photo:
    """The photo to enroll from: a file still to read, or a frame the camera captured."""

    source: str  # stored with the template, e.g. "photo:alice.jpg" or "camera:0"
    path: Path | None = None
    image: np.ndarray | None = None

    def read(self) -> np.ndarray:
        """The photo's RGB pixels, read from its file when it is one (ImageError when that fails)."""
        if self.image is not None:
            return self.image
        assert self.path is not None, "a Photo is a file or a captured image"
        return read_image(self.path)


def prepare_template(
    pipeline: FacePipeline,
    image: np.ndarray,
    source: str,
    limits: QualityThresholds = QualityThresholds(),
    accept_low_quality: bool = False,
) -> tuple[NewTemplate, QualityReport]:
    """Find the one face in ``image``, check its quality and encode it, ready to store.

    Raises NoFaceError, MultipleFacesError or a QualityError subclass whose message says what to change.
    With ``accept_low_quality`` a usable face below the recommended quality is prepared anyway, and the
    template records that warning (``template.accepted_below``).
    """
    encoded, report = pipeline.enroll(image, limits, accept_low_quality)
    quality: dict[str, float | str] = dict(report.as_dict())
    if encoded.accepted_below is not None:
        quality[ACCEPTED_BELOW] = encoded.accepted_below
    template = NewTemplate(
        model_id=encoded.model_id,
        encoding=encoded.encoding,
        thumbnail=face_thumbnail(image, encoded.face.landmarks),
        quality=quality,
        source=source,
    )
    return template, report


def prepare_photo(pipeline: FacePipeline, photo: Photo) -> tuple[NewTemplate, QualityReport]:
    """``prepare_template`` for the wizard's photo (a background task). A face below the recommended
    quality is prepared too, its template carrying the warning the admin must accept."""
    return prepare_template(pipeline, photo.read(), photo.source, accept_low_quality=True)


def template_from_file(
    pipeline: FacePipeline, path: Path, accept_low_quality: bool = False
) -> tuple[NewTemplate, QualityReport]:
    """``prepare_template`` for the photo file at ``path`` (ImageError when it cannot be read)."""
    return prepare_template(pipeline, read_image(path), photo_source(path), accept_low_quality=accept_low_quality)


def enroll_photo(
    store: Store, pipeline: FacePipeline, image: np.ndarray, name: str, source: str, **details: Any
) -> Person:
    """Enroll a new person from one photo (details: badge, group, active, valid_from, valid_until, notes)."""
    template, _ = prepare_template(pipeline, image, source)
    return store.enroll(name, template, **details)


def quality_text(report: QualityReport, limits: QualityThresholds = QualityThresholds()) -> str:
    """The measured figures beside the limits they passed; a limit that is switched off is not shown."""
    return " · ".join(
        [
            figure_text(f"Face {report.face_size:.0f} px wide", "≥", limits.min_face_size),
            figure_text(f"sharpness {report.sharpness:.0f}", "≥", limits.min_sharpness),
            f"brightness {report.brightness:.0f} ({limits.min_brightness:.0f}–{limits.max_brightness:.0f})",
            figure_text(f"turned {abs(report.yaw):.2f}", "≤", limits.max_yaw, digits=2),
        ]
    )


def figure_text(figure: str, relation: str, limit: float, digits: int = 0) -> str:
    """``figure`` followed by its limit, e.g. "(≥ 60)", unless the limit is off (infinite)."""
    return f"{figure} ({relation} {limit:.{digits}f})" if math.isfinite(limit) else figure
