"""The synthetic liveness sequences through the kiosk's real gate: a still photo moved as a sheet or shown on
a screen is refused in active mode; a person turning their head (two photos of Obama morphed) passes when
turning the asked way and fails when turning the other way. Few frames a second, to keep the tests short."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from faceguard.access.liveness import ChallengeConfig, LivenessMode, Move
from faceguard.app.liveness_bench import judge_again, run_presentation
from faceguard.evaluation.liveness_sequences import (
    FRAME_HEIGHT,
    FRAME_WIDTH,
    SHEET_TURN,
    MultiPose,
    PlaneAttack,
    Portrait,
    PresentationKind,
    pose_pair,
    sheet_homography,
)
from faceguard.vision.face_plane import TEMPLATE, nose_offset, yaw_ratio
from faceguard.vision.pipeline import central_face

FPS = 4.0
CONFIG = ChallengeConfig()
SECONDS = CONFIG.timeout + 1.0


def prompt_seed(move: Move) -> int:
    """A seed whose gate asks for ``move`` (the test checks it did)."""
    return next(seed for seed in range(100) if random.Random(seed).choice((Move.TURN_LEFT, Move.TURN_RIGHT)) is move)


@pytest.fixture(scope="module")
def portraits(pipeline, photo):
    def portrait(name: str) -> Portrait:
        image = photo(name)
        face = central_face(pipeline.detect(image), image.shape)
        assert face is not None
        return Portrait(name, image, face)

    return {name: portrait(name) for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")}


def active(pipeline, presentation, move: Move):
    run = run_presentation(pipeline, presentation, CONFIG, prompt_seed(move))
    assert run.move is move and run.acquired
    assert judge_again(run, CONFIG) is run.verdicts[LivenessMode.ACTIVE].passed  # the curve judges as the gate did
    return run, run.verdicts[LivenessMode.ACTIVE]


def test_a_plane_keeps_its_nose_offset_and_the_attacker_turns_it_like_a_head():
    frontal = (TEMPLATE * 3 + 100).astype(np.float32)
    for move, sign in ((Move.TURN_LEFT, 1), (Move.TURN_RIGHT, -1)):
        homography = sheet_homography((500, 500), 300, SHEET_TURN[move] * 35, 0.0, 5.0, np.array([300, 250]))
        held = cv2.perspectiveTransform(frontal[None], homography)[0]
        assert np.abs(nose_offset(held)).max() < 1e-3  # whatever the pose, a plane's nose stays in its plane
        assert (yaw_ratio(held) - yaw_ratio(frontal)) * sign > 0  # the photo's yaw ratio follows the asked turn


@pytest.mark.parametrize("move", [Move.TURN_LEFT, Move.TURN_RIGHT])
def test_a_printed_photo_turned_as_asked_is_refused(pipeline, portraits, move):
    attack = PlaneAttack(PresentationKind.PRINT_PLANE, portraits["obama.jpg"], seed=11, fps=FPS, seconds=SECONDS)
    run, verdict = active(pipeline, attack, move)
    assert not verdict.passed
    assert verdict.seconds == pytest.approx(CONFIG.timeout, abs=1.5 / FPS)  # refused when its time ran out
    assert verdict.motion is not None and verdict.motion < CONFIG.turn
    turns = [reading.offset_x for reading in run.readings]
    assert len(turns) >= 0.8 * FPS * CONFIG.timeout  # the sheet was followed all along
    frame = attack.frame(0)
    assert frame.shape == (FRAME_HEIGHT, FRAME_WIDTH, 3) and frame.dtype == np.uint8


def test_a_photo_on_a_phone_screen_is_refused(pipeline, portraits):
    attack = PlaneAttack(PresentationKind.SCREEN_MOIRE_GLARE, portraits["biden.jpg"], seed=5, fps=FPS, seconds=SECONDS)
    _, verdict = active(pipeline, attack, Move.TURN_RIGHT)
    assert not verdict.passed and verdict.motion is not None and verdict.motion < CONFIG.turn


def test_the_obama_photos_make_a_head_turn(portraits):
    pair = pose_pair([portraits["obama.jpg"], portraits["obama2.jpg"], portraits["obama3.jpg"]])
    assert pair is not None and [p.name for p in pair] == ["obama3.jpg", "obama2.jpg"]  # yaw ratios 0.14 and -0.20
    assert pose_pair([portraits["obama.jpg"], portraits["obama3.jpg"]]) is None  # 0.04 and 0.14: too alike


@pytest.mark.parametrize("move", [Move.TURN_RIGHT, Move.TURN_LEFT])
def test_a_person_turning_the_asked_way_passes(pipeline, portraits, move):
    person = MultiPose(portraits["obama3.jpg"], portraits["obama2.jpg"], seed=3, fps=FPS, seconds=SECONDS)
    assert person.natural is Move.TURN_RIGHT  # the nose offset goes from 0.10 to -0.25
    _, verdict = active(pipeline, person, move)
    assert person.mirrored is (move is Move.TURN_LEFT)
    assert verdict.passed and verdict.seconds is not None and verdict.seconds < 2.5
    assert verdict.motion is not None and verdict.motion >= CONFIG.turn


def test_a_person_turning_the_wrong_way_fails(pipeline, portraits):
    person = MultiPose(
        portraits["obama3.jpg"], portraits["obama2.jpg"], seed=3, fps=FPS, seconds=SECONDS, wrong_way=True
    )
    _, verdict = active(pipeline, person, Move.TURN_LEFT)
    assert not person.mirrored  # turns to its right, as the photos do
    assert not verdict.passed and verdict.motion is not None and verdict.motion < CONFIG.turn
