"""Frame sources on real files: a folder slide show, a video file written here, and sources that fail."""

from __future__ import annotations

import shutil
import time

import cv2
import numpy as np
import pytest

from faceguard.core.errors import CameraError
from faceguard.vision.camera import MAX_SIDE, FolderSource, VideoSource, open_source
from faceguard.vision.image_io import read_image
from tests.conftest import DATA

GAP_GREY = 24  # the level of the empty frames between photos


@pytest.fixture
def folder(tmp_path):
    """Three photos (listed in name order, whatever their suffix's case) and a file that is no photo."""
    folder = tmp_path / "door"
    folder.mkdir()
    shutil.copy(DATA / "collins.png", folder / "c_collins.png")  # 512 px: below MAX_SIDE, shown as is
    for source, name in (("biden.jpg", "a_biden.JPG"), ("obama2.jpg", "b_obama2.jpg")):
        small = cv2.resize(cv2.imread(str(DATA / source)), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / name), small)
    (folder / "notes.txt").write_text("not a photo")
    return folder


def read(source, count: int) -> list[np.ndarray]:
    return [source.read() for _ in range(count)]


def test_a_folder_is_a_slide_show_in_name_order_with_hold_and_gap(folder):
    source = open_source(str(folder), fps=100, hold=0.03, gap=0.02)  # 3 frames per photo, then 2 empty
    assert isinstance(source, FolderSource) and source.description == f"image folder '{folder}'"
    photos = [read_image(folder / name) for name in ("a_biden.JPG", "b_obama2.jpg", "c_collins.png")]
    expected = []
    for photo in [*photos, photos[0]]:  # RGB, as read_image reads it
        expected += [photo] * 3 + [np.full_like(photo, GAP_GREY)] * 2
    frames = read(source, len(expected))
    assert all(np.array_equal(frame, want) for frame, want in zip(frames, expected, strict=True))
    source.close()


def test_a_folder_is_paced_to_its_frame_rate(folder):
    source = open_source(str(folder), fps=50, hold=1, gap=0)
    started = time.monotonic()
    read(source, 11)
    assert time.monotonic() - started >= 10 / 50 * 0.95


def test_frames_are_rgb(tmp_path):
    (tmp_path / "red").mkdir()
    cv2.imwrite(str(tmp_path / "red" / "red.png"), np.full((40, 60, 3), (0, 0, 255), np.uint8))  # BGR red
    frame = open_source(str(tmp_path / "red"), fps=100).read()
    assert frame.shape == (40, 60, 3) and frame.dtype == np.uint8
    assert np.all(frame == (255, 0, 0))


def test_large_photos_are_scaled_to_max_side(tmp_path):
    (tmp_path / "big").mkdir()
    shutil.copy(DATA / "biden.jpg", tmp_path / "big")
    large = read_image(DATA / "biden.jpg")
    frame = open_source(str(tmp_path / "big"), fps=100).read()
    assert large.shape[:2] == (2204, 970)
    assert frame.shape == (MAX_SIDE, round(970 * MAX_SIDE / 2204), 3)
    expected = cv2.resize(large, frame.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(frame.astype(int) - expected).max() <= 1


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(CameraError) as raised:
        open_source(str(tmp_path / "no such folder"))
    assert str(raised.value) == f"The folder of photos '{tmp_path / 'no such folder'}' does not exist."


def test_an_empty_folder_has_no_photos(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no photos here")
    with pytest.raises(CameraError) as raised:
        open_source(str(tmp_path / "empty"))
    assert str(raised.value) == f"The image folder '{tmp_path / 'empty'}' has no photos (.jpg, .png, …)."


def test_an_unreadable_photo_is_named_when_its_turn_comes(folder):
    (folder / "b_obama2.jpg").write_bytes(b"this is no JPEG")
    source = open_source(str(folder), fps=100, hold=0.01, gap=0)
    assert np.array_equal(source.read(), read_image(folder / "a_biden.JPG"))
    with pytest.raises(CameraError, match=r"^Cannot show 'b_obama2.jpg' from the image folder: .*b_obama2.jpg"):
        source.read()


def test_a_folder_that_disappears_fails_at_the_next_photo_and_recovers(folder):
    source = open_source(str(folder), fps=100, hold=0.02, gap=0)  # 2 frames per photo
    first = read(source, 2)
    moved = folder.rename(folder.parent / "unplugged")
    with pytest.raises(CameraError) as raised:
        source.read()
    assert str(raised.value) == f"The image folder '{folder}' cannot be read (No such file or directory)."
    with pytest.raises(CameraError, match="does not exist"):
        open_source(str(folder))
    moved.rename(folder)
    assert np.array_equal(source.read(), read_image(folder / "b_obama2.jpg"))  # the slide show goes on
    assert np.array_equal(open_source(str(folder), fps=100).read(), first[0])  # and a new source starts


@pytest.fixture
def video(tmp_path):
    """An MJPG .avi of 5 frames at 100 fps whose red level rises 40, 80, … 200, frame by frame."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 100, (64, 48))
    assert writer.isOpened()
    for level in (40, 80, 120, 160, 200):
        writer.write(np.full((48, 64, 3), (0, 0, level), np.uint8))  # BGR
    writer.release()
    return path


def test_a_video_file_is_read_in_rgb_and_loops(video):
    source = open_source(str(video), fps=5)
    assert isinstance(source, VideoSource) and source.description == "video 'clip.avi'"
    assert source.pacer.period == pytest.approx(1 / 100)  # paced to the file's own 100 fps, not to fps=5
    frames = read(source, 12)
    assert all(frame.shape == (48, 64, 3) for frame in frames)
    red = [float(frame[..., 0].mean()) for frame in frames]
    assert red == pytest.approx([40, 80, 120, 160, 200] * 2 + [40, 80], abs=4)  # MJPG is lossy
    assert all(frame[..., 1:].mean() < 4 for frame in frames)
    source.close()


def test_a_video_file_that_does_not_exist_is_named(tmp_path):
    with pytest.raises(CameraError) as raised:
        open_source(str(tmp_path / "door.mp4"))
    assert str(raised.value) == f"The video file '{tmp_path / 'door.mp4'}' does not exist."


def test_a_file_that_is_not_a_video_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("these are notes, not a video\n" * 100)
    with pytest.raises(CameraError) as raised:
        open_source(str(tmp_path / "notes.txt"))
    assert str(raised.value) == "'notes.txt' is a text file, not a video."


def test_a_binary_file_that_is_not_a_video_is_refused(tmp_path):
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 64)
    with pytest.raises(CameraError) as raised:
        open_source(str(tmp_path / "data.bin"))
    assert str(raised.value) == "Cannot open video 'data.bin': it is not a video OpenCV can read."


def test_a_webcam_that_does_not_exist_is_refused():
    with pytest.raises(CameraError) as raised:
        open_source(" 9 ")
    assert str(raised.value) == (
        "Cannot open camera 9: it is unplugged, in use by another program, or not a camera OpenCV can use."
    )


def test_a_stream_that_does_not_answer_is_refused():
    with pytest.raises(CameraError) as raised:
        open_source("http://127.0.0.1:9/door.mjpg")  # the discard port: nothing listens
    assert str(raised.value) == (
        "Cannot open http://127.0.0.1:9/door.mjpg: the stream does not answer, or does not send video OpenCV can read."
    )
