"""The active challenge's rules on readings, and the face-plane measure on real and tilted photos."""

import random

import cv2
import numpy as np
import pytest

from faceguard.access.liveness import Challenge, ChallengeConfig, ChallengeState, Move, PoseReading, new_challenge
from faceguard.vision.face_plane import nose_offset, yaw_ratio

CONFIG = ChallengeConfig()


def readings(xs, ys=None, yaws=None, score=0.99, start=0.0, step=1 / 15):
    ys = ys if ys is not None else [0.0] * len(xs)
    yaws = yaws if yaws is not None else list(xs)
    return [PoseReading(start + i * step, x, y, yaw, score) for i, (x, y, yaw) in enumerate(zip(xs, ys, yaws))]


def run(challenge, sequence):
    for reading in sequence:
        challenge.feed(reading)
    return challenge.state


def test_a_turn_the_way_asked_passes_and_the_other_way_does_not():
    turn_to_image_right = [0.0, 0.0, 0.05, 0.12, 0.2, 0.25, 0.26]
    assert run(Challenge(Move.TURN_LEFT, 0.0), readings(turn_to_image_right)) is ChallengeState.PASSED
    assert run(Challenge(Move.TURN_RIGHT, 0.0), readings(turn_to_image_right)) is ChallengeState.WAITING
    mirrored = [-x for x in turn_to_image_right]
    assert run(Challenge(Move.TURN_RIGHT, 0.0), readings(mirrored)) is ChallengeState.PASSED


def test_a_tilted_photo_moves_the_yaw_ratio_but_not_the_nose_and_fails_at_the_timeout():
    flat = readings([0.01, -0.01, 0.02, 0.0] * 15, yaws=[0.0, 0.2, 0.4, 0.47] * 15)
    challenge = Challenge(Move.TURN_LEFT, 0.0)
    assert run(challenge, flat) is ChallengeState.WAITING
    assert challenge.expire(CONFIG.timeout + 0.1) is ChallengeState.FAILED
    assert challenge.motion < 0.05


def test_the_nose_alone_without_the_yaw_ratio_does_not_pass_a_turn():
    moved = readings([0.0, 0.0, 0.2, 0.25, 0.3], yaws=[0.0] * 5)
    assert run(Challenge(Move.TURN_LEFT, 0.0), moved) is ChallengeState.WAITING


def test_two_frames_beyond_the_limit_are_not_enough():
    blip = readings([0.0, 0.0, 0.25, 0.25, 0.0, 0.0])  # landmark jitter on a screen reaches this far
    assert run(Challenge(Move.TURN_LEFT, 0.0), blip) is ChallengeState.WAITING
    assert run(Challenge(Move.TURN_LEFT, 0.0), readings([0.0, 0.0, 0.25, 0.25, 0.25])) is ChallengeState.PASSED


def test_unusable_frames_neither_pass_nor_spoil_the_challenge():
    challenge = Challenge(Move.TURN_LEFT, 0.0)
    low_score = readings([0.0, 0.0, 0.3, 0.3], score=0.3)
    assert run(challenge, low_score) is ChallengeState.WAITING
    garbage = readings([0.0, 0.0, 2.0, 2.0], start=0.5)  # a hand over the face: impossible offsets
    assert run(challenge, garbage) is ChallengeState.WAITING
    assert challenge.progress == 0.0
    assert run(challenge, readings([0.0, 0.0, 0.1, 0.2, 0.25, 0.25], start=1.0)) is ChallengeState.PASSED


def test_a_photo_swapped_for_a_turned_one_is_measured_from_the_new_pose():
    swap = readings([0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5])  # faster than a head turns: a different picture
    challenge = Challenge(Move.TURN_LEFT, 0.0)
    assert run(challenge, swap) is ChallengeState.WAITING
    assert challenge.progress == 0.0
    turning = readings([0.0, 0.0, 0.1, 0.2, 0.3, 0.35, 0.35])  # the same distance, at a head's speed
    assert run(Challenge(Move.TURN_LEFT, 0.0), turning) is ChallengeState.PASSED


def test_a_nod_answers_a_turn_only_where_the_site_offers_it():
    nod = readings([0.0] * 7, ys=[0.0, 0.0, 0.1, 0.2, 0.3, 0.32, 0.32], yaws=[0.0] * 7)
    assert run(Challenge(Move.TURN_LEFT, 0.0), nod) is ChallengeState.WAITING  # turns only by default
    offered = ChallengeConfig(allow_nod=True)
    assert run(Challenge(Move.TURN_LEFT, 0.0, offered), nod) is ChallengeState.PASSED
    shallow = readings([0.0] * 7, ys=[0.0, 0.0, 0.1, 0.2, 0.24, 0.24, 0.24], yaws=[0.0] * 7)
    assert run(Challenge(Move.TURN_LEFT, 0.0, offered), shallow) is ChallengeState.WAITING  # a tilted sheet's reach


def test_both_ways_needs_the_second_turn_too():
    config = ChallengeConfig(both_ways=True)
    there = [0.0, 0.0, 0.1, 0.2, 0.25, 0.25]
    back = [0.1, 0.0, -0.1, -0.2, -0.22, -0.22]
    challenge = Challenge(Move.TURN_LEFT, 0.0, config)
    assert run(challenge, readings(there)) is ChallengeState.WAITING
    assert challenge.asking is Move.TURN_RIGHT
    assert run(challenge, readings(back, start=0.5)) is ChallengeState.PASSED


def test_the_challenge_fails_after_its_time_even_if_the_head_turns_later():
    late = readings([0.0, 0.0, 0.3, 0.3], start=0.0, step=CONFIG.timeout / 2)
    assert run(Challenge(Move.TURN_LEFT, 0.0), late) is ChallengeState.FAILED


def test_the_prompt_is_drawn_at_random():
    rng = random.Random(7)
    moves = {new_challenge(0.0, CONFIG, rng).move for _ in range(40)}
    assert moves == {Move.TURN_LEFT, Move.TURN_RIGHT}


def test_limits_out_of_range_are_refused():
    with pytest.raises(ValueError, match="between 1 and 30 seconds"):
        ChallengeConfig(timeout=0.2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        ChallengeConfig(turn=1.5)


def _tilt(image, landmarks, yaw_deg, pitch_deg, roll_deg):
    """Render the photo as a plane rotated in 3-D and seen by a pinhole camera; returns the landmarks there."""
    h, w = image.shape[:2]
    f = 1.2 * w
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    rot = cv2.Rodrigues(np.radians([pitch_deg, yaw_deg, roll_deg]).astype(np.float64))[0]
    centred = np.c_[corners - [w / 2, h / 2], np.zeros(4)] @ rot.T + [0, 0, 1.2 * f]
    projected = (centred[:, :2] * f / centred[:, 2:] + [w / 2, h / 2]).astype(np.float32)
    homography = cv2.getPerspectiveTransform(corners, projected)
    return cv2.perspectiveTransform(landmarks[None].astype(np.float32), homography)[0]


@pytest.mark.parametrize("yaw, pitch, roll", [(35, 0, 0), (-35, 0, 0), (0, 30, 0), (25, -20, 15)])
def test_a_photo_held_at_an_angle_keeps_its_nose_offset(pipeline, photo, yaw, pitch, roll):
    image = photo("obama.jpg")
    face = pipeline.detect(image)[0]
    tilted = _tilt(image, face.landmarks, yaw, pitch, roll)
    assert np.abs(nose_offset(tilted) - nose_offset(face.landmarks)).max() < 0.02


def test_a_real_turn_of_the_head_moves_the_nose_offset(pipeline, photo):
    frontal = pipeline.detect(photo("obama3.jpg"))[0]
    turned = pipeline.detect(photo("obama2.jpg"))[0]  # he faces the image's left, his right
    shift = nose_offset(turned.landmarks)[0] - nose_offset(frontal.landmarks)[0]
    assert shift < -CONFIG.turn
    assert yaw_ratio(turned.landmarks) < yaw_ratio(frontal.landmarks) - CONFIG.min_yaw_change
