"""Face thumbnails: upright, framed, JPEG, and their landmarks really point at the face."""

from __future__ import annotations

import numpy as np
import pytest

from faceguard.core.errors import ImageError
from faceguard.vision.thumbnail import (
    SNAPSHOT_SIZE,
    THUMBNAIL_SIZE,
    decode_jpeg,
    decode_thumbnail,
    face_thumbnail,
)


def test_thumbnail_is_a_jpeg_of_the_requested_size_with_the_face_centred(pipeline, photo):
    image = photo("obama.jpg")
    face = pipeline.single_face(image)
    thumbnail = face_thumbnail(image, face.landmarks)
    decoded = decode_thumbnail(thumbnail)
    assert thumbnail.jpeg[:2] == b"\xff\xd8" and decoded.shape == (THUMBNAIL_SIZE, THUMBNAIL_SIZE, 3)
    eyes = thumbnail.landmarks[:2]
    assert abs(eyes[0, 1] - eyes[1, 1]) < 2  # upright: the eyes are level
    assert abs(thumbnail.landmarks[:, 0].mean() - THUMBNAIL_SIZE / 2) < THUMBNAIL_SIZE * 0.05


def test_landmarks_in_the_thumbnail_are_where_the_detector_finds_them_again(pipeline, photo):
    image = photo("biden.jpg")
    thumbnail = face_thumbnail(image, pipeline.single_face(image).landmarks)
    redetected = pipeline.single_face(decode_thumbnail(thumbnail)).landmarks
    assert np.abs(redetected - thumbnail.landmarks).max() < 6


def test_snapshot_size(pipeline, photo):
    image = photo("obama2.jpg")
    snapshot = face_thumbnail(image, pipeline.single_face(image).landmarks, size=SNAPSHOT_SIZE)
    assert decode_thumbnail(snapshot).shape == (SNAPSHOT_SIZE, SNAPSHOT_SIZE, 3) and len(snapshot.jpeg) < 8000


def test_stored_bytes_that_are_not_an_image_raise_a_clear_error():
    with pytest.raises(ImageError, match="not a readable image"):
        decode_jpeg(b"not a jpeg")
