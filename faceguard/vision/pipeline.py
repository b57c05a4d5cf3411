"""FacePipeline: detect → quality gate → align → encode, the one road every photo and video frame takes.

``read_faces`` is that road for the faces detected in an image: enrollment, the kiosk and the wizard's
Verify now all take it, so a face is judged fit to encode by the same rule everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faceguard.core.errors import MultipleFacesError, NoFaceError, QualityError
from faceguard.core.types import Face
from faceguard.matching.gallery import Gallery, Identity, Match
from faceguard.vision.align import align_face
from faceguard.vision.detector import RetinaFaceDetector
from faceguard.vision.device import select_device, set_threads
from faceguard.vision.encoder import Encoder, load_encoder
from faceguard.vision.faces import CheckedFace, EncodedFace, RefusedFace
from faceguard.vision.quality import (
    QualityReport,
    QualityThresholds,
    assess_quality,
    check_quality,
    check_usable,
)
from faceguard.vision.spec import DEFAULT_MODEL, ModelSpec, get_model_spec

#: In an enrollment photo, faces smaller than this fraction of the largest one are taken as
#: bystanders in the background and ignored rather than reported as "more than one face".
BYSTANDER_RATIO = 0.5
#: The central zone's radius, in sizes of the enrolled face, that its centre must lie in and that no other
#: face's box may reach: just above the largest offset of a lone LFW subject (0.26; 99 % within 0.20),
#: it cuts the "several faces" refusals of LFW first photos from 149 (12.8 %) to 9 (0.8 %)
#: (``benchmarks/enrollment_fte.py``, ``docs/enrollment-fte.json``).
CENTRAL_OFFSET = 0.3


class FacePipeline:
    """Detector, aligner and encoder sharing one device. Build it with :meth:`load`."""

    def __init__(self, detector: RetinaFaceDetector, encoder: Encoder, spec: ModelSpec) -> None:
        self.detector = detector
        self.encoder = encoder
        self.spec = spec
        self._template = np.asarray(spec.template, dtype=np.float32)

    @classmethod
    def load(
        cls, device: str = "auto", threads: int | None = None, model: str | ModelSpec = DEFAULT_MODEL
    ) -> FacePipeline:
        """Load both models on ``device`` (auto = cuda > mps > cpu); ``threads`` caps CPU threads.

        ``model``: a builtin or exported model's name (see ``get_model_spec``), or its spec; its
        template, input size, threshold and id then govern alignment, encoding and matching.
        """
        set_threads(threads)
        torch_device = select_device(device)
        spec = get_model_spec(model) if isinstance(model, str) else model
        encoder = load_encoder(spec, torch_device)
        return cls(RetinaFaceDetector.load(str(torch_device)), encoder, spec)

    @property
    def threshold(self) -> float:
        return self.spec.threshold

    def detect(self, image: np.ndarray) -> list[Face]:
        return self.detector.detect(image)

    def align(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Aligned chips (N, S, S, 3) uint8 for ``faces``, in the encoder's canonical pose."""
        size = self.spec.input_size
        chips = [align_face(image, face.landmarks, self._template, size) for face in faces]
        return np.stack(chips) if chips else np.empty((0, size, size, 3), np.uint8)

    def encode(self, chips: np.ndarray) -> np.ndarray:
        """Encodings (N, dim) float32 of aligned chips, in one batched forward pass."""
        return self.encoder.encode(chips)

    def encode_faces(self, image: np.ndarray, faces: Sequence[Face] | None = None) -> list[EncodedFace]:
        """Detect (unless ``faces`` are given), align and encode every face in ``image``."""
        faces = self.detect(image) if faces is None else list(faces)
        chips = self.align(image, faces)
        return [EncodedFace(f, c, e, self.spec.id) for f, c, e in zip(faces, chips, self.encode(chips))]

    def identify(
        self, image: np.ndarray, gallery: Gallery[Identity], threshold: float | None = None
    ) -> list[tuple[EncodedFace, Match[Identity]]]:
        """1:K for every face in ``image``: each encoded face with its best gallery match (at
        ``threshold``, default the model's)."""
        encoded = self.encode_faces(image)
        if not encoded:
            return []
        threshold = self.spec.threshold_or(threshold)
        matches = gallery.identify(np.stack([e.encoding for e in encoded]), threshold, self.spec.id)
        return list(zip(encoded, matches))

    def read_faces(
        self,
        image: np.ndarray,
        faces: Sequence[Face],
        limits: QualityThresholds = QualityThresholds(),
        accept_low_quality: bool = False,
    ) -> list[CheckedFace | RefusedFace]:
        """Per face detected in ``image``, in order: its encoding, or the quality problem that refuses it.

        A face too poor to recognise at all (``check_usable``) is refused; so is one below ``limits``
        (``check_quality``) unless ``accept_low_quality``, when it is encoded and carries that problem's
        message as ``accepted_below``. The accepted faces are aligned and encoded in one batch.
        """
        gated = [_quality_gate(image, face, limits, accept_low_quality) for face in faces]
        passed = [gate for gate in gated if not isinstance(gate, RefusedFace)]
        chips = self.align(image, [face for face, _, _ in passed])
        encoded = iter(
            CheckedFace(face, chip, encoding, self.spec.id, report, warning)
            for (face, report, warning), chip, encoding in zip(passed, chips, self.encode(chips))
        )
        return [gate if isinstance(gate, RefusedFace) else next(encoded) for gate in gated]

    def enroll(
        self, image: np.ndarray, limits: QualityThresholds = QualityThresholds(), accept_low_quality: bool = False
    ) -> tuple[CheckedFace, QualityReport]:
        """Encode the one person in an enrollment photo after checking it is fit for recognition.

        Raises NoFaceError, MultipleFacesError, or the QualityError of a face too poor to use at all. A
        face below the recommended quality (``limits``) raises its QualityError too, unless
        ``accept_low_quality``: then it is enrolled and the result carries that error's message.
        """
        [read] = self.read_faces(image, [self.single_face(image)], limits, accept_low_quality)
        if isinstance(read, RefusedFace):
            raise read.problem
        return read, read.report

    def single_face(self, image: np.ndarray) -> Face:
        """The person being enrolled from ``image`` (see ``enrollment_subject``)."""
        return enrollment_subject(self.detect(image), image.shape)


def enrollment_subject(faces: Sequence[Face], image_shape: tuple[int, ...]) -> Face:
    """The person being enrolled among the ``faces`` detected in an image of ``image_shape``.

    Faces under BYSTANDER_RATIO of the largest one's size are bystanders. Of the rest, the face nearest
    the image centre is the subject if it is central (its centre within CENTRAL_OFFSET of its size from
    the image centre) and every other one is off to the side (its box, half its size around its centre,
    stays out of that central zone); otherwise the photo shows several people (MultipleFacesError).
    """
    if not faces:
        raise NoFaceError()
    largest = max(face.size for face in faces)
    main = sorted(
        (face for face in faces if face.size >= BYSTANDER_RATIO * largest),
        key=lambda face: centre_offset(face, image_shape),
    )
    subject, others = main[0], main[1:]
    zone = CENTRAL_OFFSET * subject.size
    if others and (
        centre_offset(subject, image_shape) > zone
        or any(centre_offset(face, image_shape) - face.size / 2 < zone for face in others)
    ):
        raise MultipleFacesError(len(main))
    return subject


def central_face(faces: Sequence[Face], image_shape: tuple[int, ...]) -> Face | None:
    """The face whose box centre is nearest the image centre (LFW labels the centred person)."""
    return min(faces, key=lambda face: centre_offset(face, image_shape), default=None)


def centre_offset(face: Face, image_shape: tuple[int, ...]) -> float:
    """Pixels from the centre of the face's box to the centre of the image."""
    centre = np.array([image_shape[1], image_shape[0]], np.float64) / 2
    return float(np.linalg.norm((face.box[:2] + face.box[2:]) / 2 - centre))


def _quality_gate(
    image: np.ndarray, face: Face, limits: QualityThresholds, accept_low_quality: bool
) -> RefusedFace | tuple[Face, QualityReport, str | None]:
    """``read_faces``' quality gate for one face: its RefusedFace, or the face, its report and the warning
    it is accepted with (None when it meets ``limits``)."""
    report = assess_quality(image, face)
    try:
        check_usable(report)
    except QualityError as problem:
        return RefusedFace(face, report, problem)
    try:
        check_quality(report, limits)
    except QualityError as problem:
        return (face, report, str(problem)) if accept_low_quality else RefusedFace(face, report, problem)
    return face, report, None
