"""Synthetic camera sequences to measure the liveness checks on (``faceguard bench-liveness``).

A sequence is what a 640x480 camera sees of one presentation at ``fps`` frames a second: each frame an
RGB uint8 image (FaceGuard's frame convention) with its monotonic time. The presenter answers the kiosk's
prompt: the bench calls ``answer(move, at)`` once the challenge starts, and every frame rendered after
that shows the response. Kinds (ISO/IEC 30107-3: two attack types and the bona fide presentation):

- ``print-plane``: one still photo printed on a sheet, held in front of a background. The sheet is a plane
  in 3-D, projected through a pinhole camera (``cv2.warpPerspective``); the attacker, seeing the prompt,
  turns it about the vertical axis towards the asked side (up to 40°, the way that moves the photo's yaw
  ratio as a real turn would), and all along tilts it about the horizontal axis (up to ±25°), rolls,
  brings it closer or farther and drifts it, smoothly, with some hand shake.
- ``screen-moire-glare``: the same motion, the photo shown on a phone: its pixel grid (RGB stripes and
  dark gaps) resampled by the camera at another pitch and angle gives moiré; a specular glare blob, a
  colour cast and another gamma.
- ``multi-pose``: a person turning their head: two photos of them at different head poses, a frontal and
  a turned one, morphed one into the other (a piecewise-affine warp on the five landmarks, the face box
  and the frame's corners, cross-dissolved), timed like a person answering (a reaction, a 0.6-1.0 s turn,
  then holding), with a small head drift. To turn the asked way, the frames are mirrored when the photos
  turn the other way (a mirrored head turns the other way).

Every frame also gets camera blur and noise. Each sequence draws its variations from its own seed, so a
sequence is the same on every run.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np

from faceguard.access.liveness import Move
from faceguard.core.errors import FaceGuardError
from faceguard.core.types import Face
from faceguard.vision.face_plane import yaw_ratio

FRAME_WIDTH, FRAME_HEIGHT = 640, 480
#: Every frame pixel's y and x coordinates.
_ROWS, _COLUMNS = np.mgrid[0:FRAME_HEIGHT, 0:FRAME_WIDTH].astype(np.float32)
#: The camera's focal length in pixels: a 60° horizontal field of view, as a common webcam.
FOCAL = 560.0
DEFAULT_FPS = 15.0
#: A sequence's default length: the kiosk's 5 s challenge and a second to spare.
DEFAULT_SECONDS = 6.0
#: The monotonic time of every sequence's first frame (any origin will do; not 0, as a real clock is not).
START = 100.0
#: A pair of photos shows a head turn when their yaw ratios (``face_plane.yaw_ratio``, not the nose
#: offset the challenge judges) differ by at least this much.
MIN_POSE_CHANGE = 0.15
#: The sheet's largest turn about the vertical axis and tilt about the horizontal one, in degrees.
MAX_TURN, MAX_TILT = 40.0, 25.0
#: Texels across a printed photo (its margin not counted).
PRINT_WIDTH = 480
#: The share of a phone screen's pixel grid contrast left in the camera's image (drawn per sequence).
MOIRE_CONTRAST = (0.15, 0.35)


class PresentationKind(StrEnum):
    PRINT_PLANE = "print-plane"
    SCREEN_MOIRE_GLARE = "screen-moire-glare"
    MULTI_POSE = "multi-pose"

    @property
    def attack(self) -> bool:
        return self is not PresentationKind.MULTI_POSE


ATTACK_KINDS = (PresentationKind.PRINT_PLANE, PresentationKind.SCREEN_MOIRE_GLARE)


@dataclass(frozen=True, eq=False)
class Portrait:
    """A photo (RGB uint8) and its subject's detected face; ``name`` says where it came from."""

    name: str
    image: np.ndarray
    face: Face

    @property
    def yaw(self) -> float:
        return yaw_ratio(self.face.landmarks)


def pose_pair(portraits: Sequence[Portrait]) -> tuple[Portrait, Portrait] | None:
    """Of one person's photos, the two whose yaw ratios differ most, the more frontal one first; None
    unless they differ by at least ``MIN_POSE_CHANGE``."""
    best = max(itertools.combinations(portraits, 2), key=lambda pair: abs(pair[0].yaw - pair[1].yaw), default=None)
    if best is None or abs(best[0].yaw - best[1].yaw) < MIN_POSE_CHANGE:
        return None
    frontal, turned = sorted(best, key=lambda portrait: abs(portrait.yaw))
    return frontal, turned


@dataclass(frozen=True)
class _Wave:
    """A smooth random signal in [-1, 1] of the time: a weighted sum of sinusoids."""

    hertz: np.ndarray
    phases: np.ndarray
    weights: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, low_hz: float, high_hz: float, parts: int = 3) -> _Wave:
        weights = rng.uniform(0.3, 1.0, parts)
        return cls(rng.uniform(low_hz, high_hz, parts), rng.uniform(0, 2 * np.pi, parts), weights / weights.sum())

    def __call__(self, seconds: float) -> float:
        return float(np.sum(self.weights * np.sin(2 * np.pi * self.hertz * seconds + self.phases)))


def _ease(share: float) -> float:
    """0 → 1 along a half cosine: a movement that starts and ends gently."""
    return float(0.5 - 0.5 * np.cos(np.pi * np.clip(share, 0.0, 1.0)))


class Presentation(ABC):
    """One sequence: ``frame_count`` frames at ``fps``; ``answer`` tells the presenter the prompt."""

    kind: PresentationKind

    def __init__(self, name: str, seed: int, fps: float, seconds: float) -> None:
        if fps <= 0 or seconds <= 0:
            raise ValueError(f"A sequence needs a positive frame rate and length, got {fps} fps and {seconds} s.")
        self.name, self.seed, self.fps, self.seconds = name, seed, fps, seconds
        self.move: Move | None = None
        self.asked: float | None = None
        rng = np.random.default_rng(seed)
        self._noise = rng.uniform(1.5, 4.0)
        self._blur = rng.uniform(0.4, 1.0)
        self._rng = rng

    @property
    def frame_count(self) -> int:
        return int(round(self.seconds * self.fps))

    def time(self, index: int) -> float:
        """The monotonic time of frame ``index``."""
        return START + index / self.fps

    def answer(self, move: Move, at: float) -> None:
        """The kiosk asks for ``move`` from the monotonic time ``at`` on."""
        if move is Move.NOD:
            raise ValueError("The synthetic presenters answer head turns; a nod-only challenge cannot be measured.")
        self.move, self.asked = move, at

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as the camera delivers it (RGB uint8, 480x640): the scene, blurred and noisy."""
        scene = self.render(self.time(index))
        noise = np.random.default_rng([self.seed, index]).standard_normal(scene.shape, np.float32)
        noisy = np.asarray(cv2.GaussianBlur(scene, (0, 0), self._blur), np.float32) + self._noise * noise
        return np.clip(noisy, 0, 255).astype(np.uint8)

    def responding(self, now: float, delay: float, duration: float) -> float:
        """How far (0..1) the answer to the prompt has gone at ``now``: it starts ``delay`` s after the
        prompt and takes ``duration`` s."""
        return 0.0 if self.asked is None else _ease((now - self.asked - delay) / duration)

    @abstractmethod
    def render(self, now: float) -> np.ndarray:
        """The scene before the camera at monotonic time ``now``, as float32 RGB (480, 640, 3) in 0..255."""


def background(rng: np.random.Generator) -> np.ndarray:
    """A room behind the presenter: soft colour regions, a few flat shapes (a door frame, a notice) and a
    fine texture; no faces. float32 RGB (480, 640, 3)."""
    colours = rng.uniform(40, 210, (3, 4, 3)).astype(np.float32)
    room = cv2.resize(colours, (FRAME_WIDTH, FRAME_HEIGHT), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(2, 6))):
        x, y = int(rng.integers(0, FRAME_WIDTH - 40)), int(rng.integers(0, FRAME_HEIGHT - 40))
        w, h = int(rng.integers(20, 200)), int(rng.integers(20, 300))
        cv2.rectangle(room, (x, y), (x + w, y + h), tuple(float(c) for c in rng.uniform(30, 230, 3)), -1)
    grain = rng.normal(0, 6, (FRAME_HEIGHT, FRAME_WIDTH, 3)).astype(np.float32)
    return np.clip(room + np.asarray(cv2.GaussianBlur(grain, (0, 0), 1.2)), 0, 255).astype(np.float32)


def face_crop(portrait: Portrait, extent: float = 2.5) -> np.ndarray:
    """The photo cut to a square ``extent`` times the face box around it (within the photo): what an
    attacker prints or shows."""
    box = portrait.face.box
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = extent * max(box[2] - box[0], box[3] - box[1]) / 2
    height, width = portrait.image.shape[:2]
    left, top = max(0, int(centre_x - half)), max(0, int(centre_y - half))
    right, bottom = min(width, int(centre_x + half)), min(height, int(centre_y + half))
    return portrait.image[top:bottom, left:right]


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    shrink = width < image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def print_texture(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo as printed on paper (``PRINT_WIDTH`` texels wide): a little less contrast and colour, a
    white margin."""
    width, height = PRINT_WIDTH, round(photo.shape[0] * PRINT_WIDTH / photo.shape[1])
    image = _resize(photo, width, height).astype(np.float32)
    grey = image.mean(axis=2, keepdims=True)
    image = grey + rng.uniform(0.75, 0.95) * (image - grey)
    image = rng.uniform(0.85, 0.95) * image + rng.uniform(8, 20)
    margin = round(width * rng.uniform(0.03, 0.08))
    paper = tuple(float(c) for c in rng.uniform(232, 250, 3))
    return np.asarray(cv2.copyMakeBorder(image, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=paper))


def screen_texture(photo: np.ndarray, rng: np.random.Generator, screen_pixels: int) -> np.ndarray:
    """The photo on a phone screen ``screen_pixels`` wide: each screen pixel three texels wide (red, green
    and blue stripes, each leaking a little into the others) and three high (the last one a dark gap),
    with a colour cast and another gamma, in a dark bezel. The grid keeps ``MOIRE_CONTRAST`` of its
    contrast: what a camera's lens blur and pixel area leave of it (sampled at full contrast, the moiré
    is far stronger than in a real recapture and drowns the face)."""
    height = round(photo.shape[0] * screen_pixels / photo.shape[1])
    image = np.repeat(np.repeat(_resize(photo, screen_pixels, height).astype(np.float32), 3, 0), 3, 1)
    leak, gap = rng.uniform(0.15, 0.35), rng.uniform(0.3, 0.6)
    stripes = np.full((3, 3), leak, np.float32)
    np.fill_diagonal(stripes, 1.0)
    grid = np.tile(stripes[None, :, :], (3, screen_pixels, 1))  # (3, 3 * screen_pixels, 3): one row of pixels
    grid[2] *= gap
    contrast = rng.uniform(*MOIRE_CONTRAST)
    mask = np.tile(grid, (height, 1, 1))
    lit = image * ((1 - contrast) + contrast * mask / float(mask.mean()))
    gamma = rng.uniform(0.8, 1.25)
    cast = rng.uniform([0.88, 0.92, 0.98], [0.98, 1.02, 1.12]).astype(np.float32)
    shown = 255.0 * (np.clip(lit, 0, 255) / 255.0) ** gamma * cast
    side = round(image.shape[1] * rng.uniform(0.03, 0.06))
    end = round(image.shape[0] * rng.uniform(0.08, 0.14))
    bezel = tuple(float(c) for c in rng.uniform(10, 35, 3))
    return np.asarray(
        cv2.copyMakeBorder(shown.astype(np.float32), end, end, side, side, cv2.BORDER_CONSTANT, value=bezel)
    )


def sheet_homography(
    texture_size: tuple[int, int], apparent_width: float, turn: float, tilt: float, roll: float, centre: np.ndarray
) -> np.ndarray:
    """The homography from a flat texture (width, height) to the frame, for the texture held as a plane
    whose width would look ``apparent_width`` pixels facing the camera, centred on the frame pixel
    ``centre``, turned about its vertical axis by ``turn`` (> 0: its right side comes nearer), tilted
    about its horizontal axis by ``tilt`` and rolled by ``roll`` (degrees)."""
    width, height = texture_size
    yaw, pitch, spin = np.radians([turn, tilt, roll])
    turn_matrix = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    tilt_matrix = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    roll_matrix = np.array([[np.cos(spin), -np.sin(spin), 0], [np.sin(spin), np.cos(spin), 0], [0, 0, 1]])
    rotation = roll_matrix @ tilt_matrix @ turn_matrix
    distance = FOCAL / apparent_width  # the sheet is 1 unit wide
    principal = np.array([FRAME_WIDTH / 2, FRAME_HEIGHT / 2])
    position = np.append((np.asarray(centre, np.float64) - principal) * distance / FOCAL, distance)
    camera = np.array([[FOCAL, 0, principal[0]], [0, FOCAL, principal[1]], [0, 0, 1]])
    unit = 1.0 / width
    to_sheet = np.array([[unit, 0, -0.5], [0, unit, -height * unit / 2], [0, 0, 1]])
    return np.asarray(camera @ np.column_stack([rotation[:, 0], rotation[:, 1], position]) @ to_sheet)


#: Which way the attacker turns the sheet for each prompt: a real head turned to its left (the image's
#: right) brings the nose nearer the image's right eye; a sheet whose right side moves away shrinks that
#: side, so the photo's yaw ratio moves the same way (``turn`` < 0 in ``sheet_homography``).
SHEET_TURN = {Move.TURN_LEFT: -1.0, Move.TURN_RIGHT: 1.0}


class PlaneAttack(Presentation):
    """A still photo of a face presented as a moving flat sheet: printed, or on a phone screen."""

    def __init__(
        self,
        kind: PresentationKind,
        portrait: Portrait,
        seed: int,
        fps: float = DEFAULT_FPS,
        seconds: float = DEFAULT_SECONDS,
    ) -> None:
        if not kind.attack:
            raise ValueError(f"{kind} is not an attack.")
        super().__init__(portrait.name, seed, fps, seconds)
        self.kind = kind
        rng = self._rng
        photo = face_crop(portrait)
        face_share = float(portrait.face.box[2] - portrait.face.box[0]) / photo.shape[1]
        face_width = rng.uniform(110, 170)  # pixels, when the sheet faces the camera
        if kind is PresentationKind.PRINT_PLANE:
            self.texture = print_texture(photo, rng)
            content_width = PRINT_WIDTH
        else:
            pitch = rng.uniform(0.7, 1.4)  # camera pixels per screen pixel: near 1, the grid aliases
            screen_pixels = round(face_width / face_share / pitch)
            self.texture = screen_texture(photo, rng, screen_pixels)
            content_width = 3 * screen_pixels
            self._glare = (rng.uniform(0.2, 0.8, 2), rng.uniform(0.1, 0.25), rng.uniform(90, 200))
        #: the texture's width in pixels when it faces the camera (the face then ``face_width`` wide)
        self.apparent_width = face_width / face_share * self.texture.shape[1] / content_width
        self.background = background(rng)
        self._turn_wave, self._tilt_wave, self._roll_wave = (_Wave.draw(rng, 0.1, 0.5) for _ in range(3))
        self._turn_range = rng.uniform(3, 10)
        # a sum of sinusoids seldom reaches its peak: tilts drawn up to 1.4 times the limit reach it, and stop there
        self._tilt_range, self._roll_range = rng.uniform(10, 1.4 * MAX_TILT), rng.uniform(3, 15)
        self._distance_wave, self._distance_range = _Wave.draw(rng, 0.1, 0.4), rng.uniform(0.05, 0.2)
        self._drift = (_Wave.draw(rng, 0.1, 0.4), _Wave.draw(rng, 0.1, 0.4))
        self._drift_range = rng.uniform([10, 8], [60, 40])
        self._shake = [_Wave.draw(rng, 3.0, 7.0) for _ in range(4)]
        self._shake_degrees, self._shake_pixels = rng.uniform(0.3, 1.2), rng.uniform(0.5, 2.5)
        self._answer_turn = rng.uniform(20, MAX_TURN)
        self._delay, self._duration = rng.uniform(0.3, 0.9), rng.uniform(0.5, 1.5)
        self._centre = np.array([FRAME_WIDTH / 2, FRAME_HEIGHT / 2]) + rng.uniform([-40, -30], [40, 20])

    def pose(self, now: float) -> tuple[float, float, float, float, np.ndarray]:
        """The sheet at ``now``: turn, tilt, roll (degrees), apparent width and centre (pixels)."""
        t = now - START
        shake = [wave(t) for wave in self._shake]
        answer = 0.0
        if self.move is not None:
            answer = SHEET_TURN[self.move] * self._answer_turn * self.responding(now, self._delay, self._duration)
        turn = self._turn_range * self._turn_wave(t) + answer + self._shake_degrees * shake[0]
        tilt = self._tilt_range * self._tilt_wave(t) + self._shake_degrees * shake[1]
        roll = self._roll_range * self._roll_wave(t)
        width = self.apparent_width * (1 + self._distance_range * self._distance_wave(t))
        drift = self._drift_range * [wave(t) for wave in self._drift] + self._shake_pixels * np.array(shake[2:])
        return (
            float(np.clip(turn, -MAX_TURN, MAX_TURN)),
            float(np.clip(tilt, -MAX_TILT, MAX_TILT)),
            roll,
            width,
            self._centre + drift,
        )

    def render(self, now: float) -> np.ndarray:
        turn, tilt, roll, width, centre = self.pose(now)
        size = (self.texture.shape[1], self.texture.shape[0])
        homography = sheet_homography(size, width, turn, tilt, roll, centre)
        scene = self.background.copy()
        cv2.warpPerspective(
            self.texture,
            homography,
            (FRAME_WIDTH, FRAME_HEIGHT),
            dst=scene,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_TRANSPARENT,
        )
        if self.kind is PresentationKind.SCREEN_MOIRE_GLARE:
            scene = self._add_glare(scene, homography, size, width, (turn, tilt))
        return scene

    def _add_glare(
        self,
        scene: np.ndarray,
        homography: np.ndarray,
        size: tuple[int, int],
        width: float,
        angles: tuple[float, float],
    ) -> np.ndarray:
        """A specular highlight on the screen's glass: a soft blob that slides as the phone turns and tilts."""
        place, spread, strength = self._glare
        where = np.array([place[0] - angles[0] / 80, place[1] + angles[1] / 50]) * size
        centre = cv2.perspectiveTransform(where.reshape(1, 1, 2), homography)[0, 0]
        radius = spread * width
        blob = strength * np.exp(-((_COLUMNS - centre[0]) ** 2 + (_ROWS - centre[1]) ** 2) / (2 * radius**2))
        glass = np.asarray(
            cv2.warpPerspective(np.ones(size[::-1], np.float32), homography, (FRAME_WIDTH, FRAME_HEIGHT))
        )
        return np.asarray(np.clip(scene + (blob * glass)[:, :, None], 0, 255), np.float32)


#: The morph's control points: the five landmarks (0-4), the face box's corners (5-8: top left, top right,
#: bottom right, bottom left) and the frame's corners (9-12, same order); the triangles between them.
MORPH_TRIANGLES = np.array(
    [
        [5, 6, 1], [5, 1, 0], [5, 0, 3], [5, 3, 8], [6, 1, 4], [6, 4, 7], [8, 3, 4], [8, 4, 7],
        [0, 1, 2], [0, 2, 3], [1, 4, 2], [3, 2, 4],
        [9, 10, 6], [9, 6, 5], [10, 11, 7], [10, 7, 6], [11, 12, 8], [11, 8, 7], [12, 9, 5], [12, 5, 8],
    ]
)  # fmt: skip
FRAME_CORNERS = np.array(
    [[0, 0], [FRAME_WIDTH - 1, 0], [FRAME_WIDTH - 1, FRAME_HEIGHT - 1], [0, FRAME_HEIGHT - 1]], np.float64
)
_FACE_POINTS, _BOX = 9, slice(5, 9)


def morph_warp(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``image`` warped piecewise-affinely so that its control points ``source`` land on ``target``
    (both (13, 2), see ``MORPH_TRIANGLES``)."""
    label = np.zeros((FRAME_HEIGHT, FRAME_WIDTH), np.uint8)
    affines = np.zeros((len(MORPH_TRIANGLES) + 1, 2, 3))
    affines[0] = [[1, 0, 0], [0, 1, 0]]
    for number, triangle in enumerate(MORPH_TRIANGLES, start=1):
        cv2.fillConvexPoly(label, np.round(target[triangle]).astype(np.int32), number)
        affines[number] = cv2.getAffineTransform(
            target[triangle].astype(np.float32), source[triangle].astype(np.float32)
        )
    pixel = affines.astype(np.float32)[label]
    map_x = pixel[..., 0, 0] * _COLUMNS + pixel[..., 0, 1] * _ROWS + pixel[..., 0, 2]
    map_y = pixel[..., 1, 0] * _COLUMNS + pixel[..., 1, 1] * _ROWS + pixel[..., 1, 2]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class MultiPose(Presentation):
    """A person who looks at the camera, then turns their head as asked: a morph from a frontal photo of
    them to a turned one (``wrong_way``: a person who turns the other way)."""

    kind = PresentationKind.MULTI_POSE

    def __init__(
        self,
        frontal: Portrait,
        turned: Portrait,
        seed: int,
        fps: float = DEFAULT_FPS,
        seconds: float = DEFAULT_SECONDS,
        wrong_way: bool = False,
    ) -> None:
        super().__init__(f"{frontal.name} -> {turned.name}", seed, fps, seconds)
        rng = self._rng
        self.wrong_way = wrong_way
        self.mirrored = False
        #: the way the photos turn unmirrored (a larger yaw ratio: towards the image's right, the person's left)
        self.natural = Move.TURN_LEFT if turned.yaw > frontal.yaw else Move.TURN_RIGHT
        scenery = background(rng)
        face_height = rng.uniform(170, 240)
        centre = np.array([FRAME_WIDTH / 2, FRAME_HEIGHT / 2 - 10]) + rng.uniform([-30, -20], [30, 20])
        placed = [_place(portrait, scenery, face_height, centre) for portrait in (frontal, turned)]
        self.scenes = [scene for scene, _ in placed]
        self.points = [points for _, points in placed]
        self._delay, self._duration = rng.uniform(0.35, 0.7), rng.uniform(0.6, 1.0)
        self._drift = [_Wave.draw(rng, 0.1, 0.5) for _ in range(4)]
        self._drift_range = rng.uniform([3, 3, 0.01, 0.5], [10, 8, 0.03, 2.5])  # x, y pixels; scale; roll degrees

    def answer(self, move: Move, at: float) -> None:
        super().answer(move, at)
        turning = move.opposite if self.wrong_way else move
        self.mirrored = turning is not self.natural

    def render(self, now: float) -> np.ndarray:
        share = self.responding(now, self._delay, self._duration)
        target = (1 - share) * self.points[0] + share * self.points[1]
        target[:_FACE_POINTS] = self._drifted(target[:_FACE_POINTS], now - START)
        scene = np.zeros((FRAME_HEIGHT, FRAME_WIDTH, 3), np.float32)
        for weight, image, points in zip((1 - share, share), self.scenes, self.points):
            if weight > 0:
                scene += weight * morph_warp(image, points, target)
        return np.ascontiguousarray(scene[:, ::-1]) if self.mirrored else scene

    def _drifted(self, points: np.ndarray, t: float) -> np.ndarray:
        """The face's points moved as a head drifts: a little shift, scale and roll about the box's centre."""
        dx, dy, scale, roll = self._drift_range * [wave(t) for wave in self._drift]
        centre = points[_BOX].mean(axis=0)
        angle = np.radians(roll)
        rotation = (1 + scale) * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        return np.asarray((points - centre) @ rotation.T + centre + [dx, dy])


def _place(
    portrait: Portrait, scenery: np.ndarray, face_height: float, centre: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The photo scaled so its face box is ``face_height`` pixels high and centred on ``centre``, over the
    scenery; and its 13 control points in the frame."""
    box = portrait.face.box.astype(np.float64)
    scale = face_height / (box[3] - box[1])
    height, width = portrait.image.shape[:2]
    image = _resize(portrait.image, max(1, round(width * scale)), max(1, round(height * scale))).astype(np.float32)
    scale_x, scale_y = image.shape[1] / width, image.shape[0] / height
    box_centre = np.array([(box[0] + box[2]) / 2 * scale_x, (box[1] + box[3]) / 2 * scale_y])
    shift = centre - box_centre
    scene = scenery.copy()
    move = np.array([[1, 0, shift[0]], [0, 1, shift[1]]], np.float64)
    cv2.warpAffine(
        image, move, (FRAME_WIDTH, FRAME_HEIGHT), dst=scene, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
    )
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
    face_points = np.vstack([portrait.face.landmarks, corners]) * [scale_x, scale_y] + shift
    return scene, np.vstack([face_points, FRAME_CORNERS])


def write_video(presentation: Presentation, path: Path) -> Path:
    """Every frame of ``presentation`` (as answered so far) as a video file the kiosk can use as its camera:
    .avi (Motion JPEG) or .mp4 (MPEG-4 part 2)."""
    codes = {".avi": "MJPG", ".mp4": "mp4v"}
    if path.suffix.lower() not in codes:
        raise FaceGuardError(f"A sequence video must be an .avi or .mp4 file, not '{path.name}'.")
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*codes[path.suffix.lower()]), presentation.fps, (FRAME_WIDTH, FRAME_HEIGHT)
    )
    if not writer.isOpened():
        raise FaceGuardError(f"Cannot write the video {path}.")
    try:
        for index in range(presentation.frame_count):
            writer.write(np.ascontiguousarray(presentation.frame(index)[:, :, ::-1]))
    finally:
        writer.release()
    return path
