"""Verify now: right after enrolling someone, does the camera recognise them the way the door would?

Each camera frame takes the door's road: ``read_frame`` reads its faces with the kiosk's quality limits
(``LIVE_LIMITS``), the face nearest the person's stored templates is compared with them 1:1 at the
kiosk's 1:1 threshold, and the door's voting decides (``AccessPolicy``: k of the last n frames within
its window). Qt-free: the wizard drives the camera, runs ``read_frame`` in a background task, feeds
``VerifyNow.observe`` and shows the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from faceguard.access.policy import AccessPolicy, Observation, PersonStatus, PolicyConfig
from faceguard.app.kiosk.session import LIVE_LIMITS
from faceguard.app.settings import KioskSettings
from faceguard.core.errors import QualityError
from faceguard.matching.gallery import Match, verify
from faceguard.store.people import Person
from faceguard.store.repository import Store
from faceguard.vision.camera import Frame
from faceguard.vision.faces import CheckedFace, RefusedFace

if TYPE_CHECKING:  # the engine (torch) is passed in
    from faceguard.vision.pipeline import FacePipeline

#: The one appearance the votes follow: whoever stands in front of the camera.
TRACK_ID = 0


def read_frame(pipeline: FacePipeline, image: np.ndarray) -> list[CheckedFace | RefusedFace]:
    """Every face in a camera frame, read as the door reads it (runs in a background task)."""
    return pipeline.read_faces(image, pipeline.detect(image), LIVE_LIMITS)


@dataclass(frozen=True)
class Recognised:
    """The door's votes recognised the person; ``distance`` is the median of the winning frames'."""

    name: str
    distance: float
    threshold: float

    def __str__(self) -> str:
        return f"Recognised {self.name} (distance {self.distance:.2f}, threshold {self.threshold:.2f})."


@dataclass(frozen=True)
class NotRecognised:
    """Time ran out. ``nearest``: the closest distance of any face read (None when none was read);
    ``problem``: the last quality refusal; ``matched_frames``: frames whose face matched the person."""

    name: str
    seconds: float
    threshold: float
    nearest: float | None
    problem: QualityError | None
    matched_frames: int
    config: PolicyConfig

    def __str__(self) -> str:
        name = self.name
        if self.nearest is None and self.problem is None:
            return f"No face was seen in {self.seconds:g} s. Check the camera and the light, then try again."
        if self.nearest is None:
            return f"No face clear enough to recognise was seen in {self.seconds:g} s. {self.problem}"
        if self.nearest > self.threshold:
            return (
                f"Not recognised as {name}: the closest face was at distance {self.nearest:.2f}, above the "
                f"threshold {self.threshold:.2f}. Try again in better light, or add another photo of {name}."
            )
        config = self.config
        return (
            f"Not recognised as {name}: the face matched in {self.matched_frames} frames, but the door needs "
            f"{config.k} of {config.n} frames within {config.window:g} s. Look at the camera and hold still, "
            "then try again."
        )


class VerifyNow:
    """One Verify-now attempt: the faces read from successive frames vote until the person is recognised."""

    def __init__(self, person: PersonStatus, reference: np.ndarray, threshold: float, config: PolicyConfig) -> None:
        """``reference``: the person's stored encodings (N, D); ``threshold``: the 1:1 distance threshold."""
        self.person, self.reference, self.threshold, self.config = person, reference, threshold, config
        self._policy = AccessPolicy(lambda _person_id: person, config)
        self._nearest: float | None = None
        self._problem: QualityError | None = None
        self._matched_frames = 0

    @classmethod
    def start(cls, store: Store, person: Person, pipeline: FacePipeline, settings: KioskSettings) -> VerifyNow:
        """Verify ``person`` against the templates stored for the pipeline's model (what the kiosk will
        compare with), at the kiosk's 1:1 threshold and with its voting rules."""
        spec = pipeline.spec
        reference = np.stack([t.encoding for t in store.templates(person.id) if t.model_id == spec.id])
        return cls(person.status(), reference, spec.threshold_or(settings.threshold), settings.policy())

    def observe(self, frame: Frame, faces: Sequence[CheckedFace | RefusedFace]) -> Recognised | None:
        """Vote with the faces ``read_frame`` found in ``frame``; Recognised once the votes decide about
        the person. A frame without a face casts no vote; one with only refused faces votes "low quality"."""
        self._problem = next((f.problem for f in reversed(faces) if isinstance(f, RefusedFace)), self._problem)
        encodings = [face.encoding for face in faces if isinstance(face, CheckedFace)]
        if not faces:
            return None
        match = self._match(np.stack(encodings)) if encodings else None
        decision = self._policy.observe(Observation(frame.monotonic, frame.wall, TRACK_ID, match))
        if decision is None or decision.person is None:
            return None
        assert decision.distance is not None  # the winning votes are matches
        return Recognised(self.person.name, decision.distance, self.threshold)

    def not_recognised(self, seconds: float) -> NotRecognised:
        """The result when ``seconds`` passed without the votes recognising the person."""
        return NotRecognised(
            self.person.name,
            seconds,
            self.threshold,
            self._nearest,
            self._problem,
            self._matched_frames,
            self.config,
        )

    def _match(self, encodings: np.ndarray) -> Match[int]:
        """The 1:1 match of the frame's face nearest the person, as the door's votes count it."""
        same, distance = verify(encodings, self.reference, self.threshold)
        self._nearest = distance if self._nearest is None else min(self._nearest, distance)
        self._matched_frames += same
        person_id = self.person.person_id
        return Match(person_id if same else None, person_id, distance, math.inf, self.threshold)
