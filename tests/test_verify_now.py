"""Verify now on real photos: the door's quality gate and k-of-n voting decide whether the camera
recognises the person just enrolled, and the verdict says why when it does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from faceguard.access.policy import PersonStatus, PolicyConfig
from faceguard.app.verify_now import NotRecognised, Recognised, VerifyNow, read_frame
from faceguard.vision.camera import Frame
from faceguard.vision.faces import CheckedFace, RefusedFace

CONFIG = PolicyConfig(k=3, n=5, window=2.0)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OBAMA = PersonStatus(7, "Barack Obama", True, None, None)


@pytest.fixture(scope="module")
def frames(pipeline, photo):
    """The faces read from one frame of each scene."""
    obama = photo("obama3.jpg")
    return {
        "obama": read_frame(pipeline, obama),
        "stranger": read_frame(pipeline, photo("biden.jpg")),
        "blurred": read_frame(pipeline, cv2.GaussianBlur(obama, (0, 0), 12)),
        "nobody": read_frame(pipeline, photo("coffee.jpg")),
    }


@pytest.fixture(scope="module")
def verifier_for(pipeline, photo):
    reference = pipeline.enroll(photo("obama.jpg"))[0].encoding[None]

    def make(person: PersonStatus = OBAMA) -> VerifyNow:
        return VerifyNow(person, reference, pipeline.threshold, CONFIG)

    return make


def show(verifier: VerifyNow, faces, times: list[float]) -> list[Recognised | None]:
    """The faces seen in a frame at each of ``times`` (seconds since START)."""
    image = np.zeros((1, 1, 3), np.uint8)
    return [verifier.observe(Frame(image, i, t, START + timedelta(seconds=t)), faces) for i, t in enumerate(times)]


def test_the_frames_are_read_through_the_doors_quality_gate(frames):
    assert [type(face) for face in frames["obama"]] == [CheckedFace]
    assert [type(face) for face in frames["blurred"]] == [RefusedFace]
    assert frames["nobody"] == []


def test_the_person_is_recognised_on_the_kth_matching_frame(verifier_for, frames, pipeline):
    results = show(verifier_for(), frames["obama"], [0.0, 0.3, 0.6])
    assert results[:2] == [None, None]
    recognised = results[2]
    assert isinstance(recognised, Recognised) and recognised.distance <= pipeline.threshold
    assert str(recognised) == (
        f"Recognised Barack Obama (distance {recognised.distance:.2f}, threshold {pipeline.threshold:.2f})."
    )


def test_a_person_the_door_would_refuse_is_still_recognised(verifier_for, frames):
    """Verify now asks whether the camera recognises them, not whether the door opens today."""
    refused = PersonStatus(7, "Barack Obama", False, None, START.timestamp() - 1)  # deactivated and expired
    assert isinstance(show(verifier_for(refused), frames["obama"], [0.0, 0.3, 0.6])[2], Recognised)


def test_a_stranger_is_not_recognised_and_the_verdict_names_the_closest_distance(verifier_for, frames, pipeline):
    verifier = verifier_for()
    assert show(verifier, frames["stranger"], [0.3 * i for i in range(8)]) == [None] * 8
    verdict = verifier.not_recognised(3)
    assert isinstance(verdict, NotRecognised) and verdict.nearest > pipeline.threshold
    assert str(verdict).startswith(
        f"Not recognised as Barack Obama: the closest face was at distance {verdict.nearest:.2f}, above the "
        f"threshold {pipeline.threshold:.2f}. "
    )


def test_matching_frames_too_far_apart_do_not_outvote_the_window(verifier_for, frames):
    verifier = verifier_for()
    assert show(verifier, frames["obama"], [0.0, 2.5, 5.0]) == [None] * 3
    assert str(verifier.not_recognised(6)) == (
        "Not recognised as Barack Obama: the face matched in 3 frames, but the door needs 3 of 5 frames "
        "within 2 s. Look at the camera and hold still, then try again."
    )


def test_without_a_usable_face_the_verdict_says_what_was_wrong(verifier_for, frames):
    nobody = verifier_for()
    show(nobody, frames["nobody"], [0.0, 0.3, 0.6])
    assert str(nobody.not_recognised(10)) == (
        "No face was seen in 10 s. Check the camera and the light, then try again."
    )
    blurred = verifier_for()
    assert show(blurred, frames["blurred"], [0.0, 0.3, 0.6]) == [None] * 3
    [refused] = frames["blurred"]
    assert str(blurred.not_recognised(10)) == f"No face clear enough to recognise was seen in 10 s. {refused.problem}"


def test_a_blurred_approach_then_a_clear_face_is_recognised(verifier_for, frames):
    """As at the door: low-quality frames first, then k clear ones."""
    verifier = verifier_for()
    assert show(verifier, frames["blurred"], [0.0, 0.3, 0.6]) == [None] * 3
    assert isinstance(show(verifier, frames["obama"], [0.9, 1.2, 1.5])[2], Recognised)
