"""One-shot enrollment: one photo → a checked, encoded face → a person in the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from faceguard.store.people import Person
from faceguard.store.repository import Store
from faceguard.store.templates import ACCEPTED_BELOW, NewTemplate
from faceguard.vision.image_io import photo_source, read_image
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.quality import QualityReport, QualityThresholds
from faceguard.vision.thumbnail import face_thumbnail


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
