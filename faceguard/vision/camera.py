"""Frame sources for the kiosk: a webcam, a video file, an RTSP/HTTP stream, or a folder of photos.

``open_source(spec)`` picks the kind from the text an administrator types: digits are a webcam index,
an existing folder is played as a slide show (the demo and test source), anything else is a video file
or stream URL for OpenCV. ``read()`` returns the next RGB frame, paced to the source's frame rate, and
raises ``CameraError`` with a specific message when the source fails; the caller reconnects.
"""

from __future__ import annotations

import codecs
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from faceguard.core.clock import SYSTEM_CLOCK, Clock
from faceguard.core.errors import CameraError, ImageError
from faceguard.vision.image_io import IMAGE_SUFFIXES, read_image

#: Frames larger than this (longer side, pixels) are scaled down: detection needs no more.
MAX_SIDE = 960


@dataclass(frozen=True, eq=False)
class Frame:
    """One captured frame: RGB uint8 image, running number, and when it was captured on both clocks
    (``faceguard.core.clock``): ``monotonic`` seconds for tracking, voting and cooldown, ``wall`` (UTC)
    for validity and the access log."""

    image: np.ndarray
    index: int
    monotonic: float
    wall: datetime

    @classmethod
    def capture(cls, image: np.ndarray, index: int, clock: Clock = SYSTEM_CLOCK) -> Frame:
        """``image`` as frame number ``index``, captured now by ``clock``."""
        return cls(image, index, clock.monotonic(), clock.wall())


class FrameSource(Protocol):
    description: str

    def read(self) -> np.ndarray: ...

    def close(self) -> None: ...


def open_source(spec: str, fps: float = 15.0, hold: float = 3.0, gap: float = 1.0) -> FrameSource:
    """Open the source ``spec`` names; raises CameraError when it cannot be opened.

    ``fps`` paces folder slide shows (each photo held ``hold`` s, then ``gap`` s of empty frame, as a
    person steps up to the door and leaves) and video files without a frame rate of their own."""
    spec = spec.strip()
    if spec.isdigit():
        return VideoSource(
            int(spec),
            f"camera {spec}",
            fps,
            loop=False,
            why="it is unplugged, in use by another program, or not a camera OpenCV can use",
        )
    path = Path(spec).expanduser()
    if path.is_dir():
        return FolderSource(path, fps, hold, gap)
    if "://" in spec:
        return VideoSource(
            spec, spec, fps, loop=False, why="the stream does not answer, or does not send video OpenCV can read"
        )
    if not path.exists():
        kind = "video file" if path.suffix else "folder of photos"  # video files have a suffix, folders seldom
        raise CameraError(f"The {kind} '{path}' does not exist.")
    if _is_text(path):  # FFmpeg would play it as a video of rendered text (its "tty" demuxer)
        raise CameraError(f"'{path.name}' is a text file, not a video.")
    return VideoSource(str(path), f"video '{path.name}'", fps, loop=True, why="it is not a video OpenCV can read")


class _Pacer:
    """Sleeps so that frames come at most ``fps`` per second."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self.next = time.monotonic()

    def wait(self) -> None:
        delay = self.next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next = max(self.next + self.period, time.monotonic())


class VideoSource:
    """A webcam index, video file (looped) or stream URL read with OpenCV's VideoCapture."""

    def __init__(self, target: int | str, description: str, fps: float, loop: bool, why: str) -> None:
        """``why``: the likely reason, for the message when ``target`` cannot be opened."""
        self.description, self.loop = description, loop
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # our CameraError says it better
        self.capture = cv2.VideoCapture(target)
        if not self.capture.isOpened():
            self.capture.release()
            raise CameraError(f"Cannot open {description}: {why}.")
        own_fps = self.capture.get(cv2.CAP_PROP_FPS)
        # a webcam blocks until its next frame; files are paced to their own rate
        self.pacer = _Pacer(own_fps if 1 <= own_fps <= 120 else fps) if loop else None

    def read(self) -> np.ndarray:
        ok, bgr = self.capture.read()
        if not ok and self.loop:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = self.capture.read()
        if not ok or bgr is None:
            raise CameraError(f"{self.description.capitalize()} stopped sending pictures.")
        if self.pacer is not None:
            self.pacer.wait()
        return _fit(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def close(self) -> None:
        self.capture.release()


class FolderSource:
    """The photos of a folder as a looping slide show, read from disk at each change of photo (so a
    folder that disappears fails like an unplugged camera, and recovers when it returns)."""

    def __init__(self, folder: Path, fps: float, hold: float, gap: float) -> None:
        self.folder, self.description = folder, f"image folder '{folder}'"
        self.frames_per_photo, self.gap_frames = max(1, round(hold * fps)), round(gap * fps)
        self.pacer = _Pacer(fps)
        self.position = 0  # frames since the slide show started
        self.photos = self._list()
        self.current: np.ndarray | None = None

    def read(self) -> np.ndarray:
        self.pacer.wait()
        cycle = self.frames_per_photo + self.gap_frames
        slot, offset = divmod(self.position, cycle)
        if offset == 0 or self.current is None:
            self.photos = self._list()
            self.current = self._load(self.photos[slot % len(self.photos)])
        self.position += 1
        if offset >= self.frames_per_photo:  # nobody at the door
            return np.full_like(self.current, 24)
        return self.current

    def close(self) -> None:
        self.current = None

    def _list(self) -> list[Path]:
        try:
            photos = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        except OSError as error:
            raise CameraError(f"The image folder '{self.folder}' cannot be read ({error.strerror}).") from None
        if not photos:
            raise CameraError(f"The image folder '{self.folder}' has no photos (.jpg, .png, …).")
        return photos

    def _load(self, path: Path) -> np.ndarray:
        try:
            return _fit(read_image(path))
        except ImageError as error:
            raise CameraError(f"Cannot show '{path.name}' from the image folder: {error}") from None


def _is_text(path: Path) -> bool:
    """Whether the file starts with text (UTF-8 without NUL bytes); video containers are binary."""
    try:
        with path.open("rb") as file:
            head = file.read(4096)
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except (OSError, UnicodeDecodeError):
        return False  # unreadable or binary: OpenCV will tell whether it is a video
    return bool(head) and b"\0" not in head


def _fit(image: np.ndarray) -> np.ndarray:
    scale = MAX_SIDE / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def can_open(spec: str) -> bool:
    """Whether ``spec`` opens now (e.g. is there a webcam at all?)."""
    try:
        open_source(spec).close()
    except CameraError:
        return False
    return True
