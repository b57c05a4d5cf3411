"""Failure to enrol (FTE) on ordinary photos, by reason, and whether enrollment picks the right face.

Run from the repository root (a few minutes on one CPU core; reruns read a cache in /tmp):

    .venv/bin/python benchmarks/enrollment_fte.py --model dlib-sface --threads 1 --json docs/enrollment-fte.json

The photos are LFW View 1's "first photos": the first image, in sorted order, of every person with at
least two images in ``ROOT/lfw`` (1,165). Each is detected once; every face in it is encoded, and so is
the face nearest the centre of the person's second photo. Each first photo is then enrolled the way
``FacePipeline.enroll`` does (``enrollment_subject``, ``check_usable``, ``check_quality``) and, for
comparison, with the size-only rule it replaced (a face at least 0.5 of the largest one's size is a
second person). Where a rule picks a face, it is checked two ways: LFW centres the named person, so the
face nearest the centre is the labelled one; and the chosen face should match the person's second photo
at the model's threshold. Only numbers are written, never an LFW image.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from faceguard.app.settings import KioskSettings
from faceguard.core.errors import ImageError, MultipleFacesError, NoFaceError, QualityError
from faceguard.core.types import Face
from faceguard.vision.image_io import read_image
from faceguard.vision.pipeline import (
    BYSTANDER_RATIO,
    CENTRAL_OFFSET,
    FacePipeline,
    central_face,
    centre_offset,
    enrollment_subject,
)
from faceguard.vision.quality import QualityReport, assess_quality, check_quality, check_usable
from faceguard.vision.spec import get_model_spec

#: The rule before this benchmark: any face at least this fraction of the largest one's size was a second person.
OLD_BYSTANDER_RATIO = 0.5
Rule = Callable[[Sequence[Face], tuple[int, ...]], Face]


def photo_pairs(image_root: Path) -> list[tuple[Path, Path]]:
    """(first, second) sorted image of every person with at least two images."""
    pairs = []
    for person in sorted(p for p in image_root.iterdir() if p.is_dir()):
        images = sorted(person.glob("*.jpg"))
        if len(images) >= 2:
            pairs.append((images[0], images[1]))
    return pairs


def measure(pipeline: FacePipeline, pairs: list[tuple[Path, Path]]) -> dict[str, np.ndarray]:
    """Every face of every first photo (box, landmarks, score, encoding, quality figures, photo index),
    each photo's shape, and the encoding of its second photo's central face (NaN without one)."""
    dim = pipeline.spec.dim
    shapes, second = np.zeros((len(pairs), 2), int), np.full((len(pairs), dim), np.nan, np.float32)
    rows: dict[str, list] = {"photo": [], "box": [], "landmarks": [], "score": [], "encoding": [], "quality": []}
    for index, (first_path, second_path) in enumerate(tqdm(pairs, desc="encoding", unit="person")):
        image = read_image(first_path)
        shapes[index] = image.shape[:2]
        for encoded in pipeline.encode_faces(image):
            face = encoded.face
            for key, value in (
                ("photo", index),
                ("box", face.box),
                ("landmarks", face.landmarks),
                ("score", face.score),
                ("encoding", encoded.encoding),
                ("quality", astuple(assess_quality(image, face))),
            ):
                rows[key].append(value)
        try:
            other = read_image(second_path)
        except ImageError:
            continue
        if (face := central_face(pipeline.detect(other), other.shape)) is not None:
            second[index] = pipeline.encode_faces(other, [face])[0].encoding
    data = {key: np.asarray(value) for key, value in rows.items()}
    return {**data, "shapes": shapes, "second": second, "paths": np.array([str(first) for first, _ in pairs])}


def load_or_measure(args: argparse.Namespace, spec_id: str, pairs: list[tuple[Path, Path]]) -> dict[str, np.ndarray]:
    cache = Path(f"/tmp/faceguard-enrollment-fte-{spec_id.replace('@', '-')}.npz")
    if cache.exists() and not args.refresh:
        with np.load(cache) as stored:
            data = dict(stored)
        if list(data["paths"]) == [str(first) for first, _ in pairs]:
            return data
    pipeline = FacePipeline.load(device="cpu", threads=args.threads, model=spec_id.split("@")[0])
    data = measure(pipeline, pairs)
    np.savez(cache, **data)
    return data


@dataclass(frozen=True)
class Photo:
    """A measured first photo: its faces with their quality figures and encodings, and the encoding of
    the person's second photo (None without a face)."""

    shape: tuple[int, ...]
    faces: list[Face]
    quality: np.ndarray
    encodings: np.ndarray
    second: np.ndarray | None

    @property
    def labelled(self) -> int | None:
        """The face LFW labels: the one nearest the centre."""
        return self.faces.index(central) if (central := central_face(self.faces, self.shape)) else None


def photos(data: dict[str, np.ndarray]) -> list[Photo]:
    result = []
    for index, shape in enumerate(data["shapes"]):
        rows = np.flatnonzero(data["photo"] == index)
        faces = [Face(data["box"][r], data["landmarks"][r], float(data["score"][r])) for r in rows]
        second = None if np.isnan(data["second"][index, 0]) else data["second"][index]
        result.append(Photo(tuple(shape), faces, data["quality"][rows], data["encoding"][rows], second))
    return result


def size_only(faces: Sequence[Face], image_shape: tuple[int, ...]) -> Face:
    """The rule ``enrollment_subject`` replaced: any face of at least OLD_BYSTANDER_RATIO of the largest
    one's size is a second person."""
    if not faces:
        raise NoFaceError()
    largest = max(face.size for face in faces)
    main = [face for face in faces if face.size >= OLD_BYSTANDER_RATIO * largest]
    if len(main) > 1:
        raise MultipleFacesError(len(main))
    return main[0]


def enroll(rule: Rule, photo: Photo) -> tuple[str, int | None]:
    """(outcome, index of the enrolled face): outcome "ok", "warned: <error>", "no face", "several faces"
    or the name of check_usable's error."""
    try:
        chosen = photo.faces.index(rule(photo.faces, photo.shape))
    except NoFaceError:
        return "no face", None
    except MultipleFacesError:
        return "several faces", None
    report = QualityReport(*photo.quality[chosen])
    try:
        check_usable(report)
    except QualityError as error:
        return type(error).__name__, None
    try:
        check_quality(report)
    except QualityError as error:
        return f"warned: {type(error).__name__}", chosen
    return "ok", chosen


def choice_checks(enrolled: list[tuple[Photo, int]], threshold: float) -> dict[str, float]:
    """Of the (photo, chosen face) enrolled: how often the chosen face is the labelled one, matches the
    second photo at ``threshold``, is the photo's face nearest the second photo, and how often another
    face of the photo matches the second photo while the chosen one does not (a wrong person chosen)."""
    compared = [(photo, face) for photo, face in enrolled if photo.second is not None]
    distances = [np.linalg.norm(photo.encodings - photo.second, axis=1) for photo, _ in compared]
    central = sum(photo.labelled == face for photo, face in enrolled)
    matched = sum(bool(d[face] <= threshold) for d, (_, face) in zip(distances, compared))
    nearest = sum(int(np.argmin(d)) == face for d, (_, face) in zip(distances, compared))
    wrong = sum(
        bool(d[face] > threshold and np.delete(d, face).min(initial=np.inf) <= threshold)
        for d, (_, face) in zip(distances, compared)
    )
    return {
        "photos": len(enrolled),
        "central": central,
        "with_second_photo": len(compared),
        "match_second_photo": matched,
        "match_rate": matched / max(len(compared), 1),
        "nearest_to_second_photo": nearest,
        "another_face_matches_instead": wrong,
    }


def evaluate(rule: Rule, measured: list[Photo], threshold: float) -> tuple[dict[str, object], list[int | None]]:
    """FTE by reason, warnings by reason and the choice checks (all enrolled photos, and those of them
    with several faces); and the face each photo enrolled (None if refused)."""
    outcomes = [enroll(rule, photo) for photo in measured]
    refused = Counter(outcome for outcome, face in outcomes if face is None)
    warned = Counter(outcome.removeprefix("warned: ") for outcome, _ in outcomes if outcome.startswith("warned"))
    enrolled = [(photo, face) for photo, (_, face) in zip(measured, outcomes) if face is not None]
    summary = {
        "photos": len(measured),
        "refused": sum(refused.values()),
        "fte": sum(refused.values()) / len(measured),
        "refused_reasons": dict(refused.most_common()),
        "warned": sum(warned.values()),
        "warned_reasons": dict(warned.most_common()),
        "enrolled": choice_checks(enrolled, threshold),
        "enrolled_with_several_faces": choice_checks([(p, f) for p, f in enrolled if len(p.faces) > 1], threshold),
    }
    return summary, [face for _, face in outcomes]


def geometry(measured: list[Photo]) -> dict[str, list[float]]:
    """What the rule's constants are read on, in units of the subject's face size: the labelled face's
    offset from the image centre (photos with one face, and with several faces at least
    BYSTANDER_RATIO of the largest), and the nearest other such face's offset (several faces)."""
    alone, crowded, others = [], [], []
    for photo in measured:
        if photo.labelled is None:
            continue
        subject = photo.faces[photo.labelled]
        size, largest = subject.size, max(face.size for face in photo.faces)
        main = [face for face in photo.faces if face.size >= BYSTANDER_RATIO * largest and face is not subject]
        offset = centre_offset(subject, photo.shape) / size
        if len(photo.faces) == 1:
            alone.append(offset)
        elif main:
            crowded.append(offset)
            others.append(min(centre_offset(face, photo.shape) for face in main) / size)
    quantiles = (0.0, 0.01, 0.05, 0.5, 0.95, 0.99, 1.0)
    return {
        "quantiles": list(quantiles),
        **{
            name: [round(float(q), 3) for q in np.quantile(values, quantiles)] if values else []
            for name, values in (
                ("alone_subject_offset", alone),
                ("several_subject_offset", crowded),
                ("several_other_offset", others),
            )
        },
    }


def changes(before: list[int | None], after: list[int | None], measured: list[Photo], threshold: float) -> dict:
    """Photos whose enrolled face differs between the rules; the checks on those the new rule enrols."""
    newly = [(photo, a) for photo, b, a in zip(measured, before, after) if a is not None and b != a]
    lost = sum(b is not None and a is None for b, a in zip(before, after))
    return {"newly_enrolled_or_other_face": choice_checks(newly, threshold), "no_longer_enrolled": lost}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=KioskSettings().model, help="a builtin or exported model")
    parser.add_argument(
        "--root", type=Path, default=Path("/work/shared/data/lfw-dev"), help="folder holding lfw/Name/*.jpg"
    )
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for inference (default: 1)")
    parser.add_argument("--json", type=Path, help="write the results here (e.g. docs/enrollment-fte.json)")
    parser.add_argument("--refresh", action="store_true", help="measure again instead of reading the cache")
    args = parser.parse_args()

    spec = get_model_spec(args.model)
    measured = photos(load_or_measure(args, spec.id, photo_pairs(args.root / "lfw")))
    before, before_faces = evaluate(size_only, measured, spec.threshold)
    after, after_faces = evaluate(enrollment_subject, measured, spec.threshold)
    summary = {
        "model": spec.id,
        "threshold": spec.threshold,
        "photos": len(measured),
        "rule": {"BYSTANDER_RATIO": BYSTANDER_RATIO, "CENTRAL_OFFSET": CENTRAL_OFFSET},
        "before_size_only": before,
        "after": after,
        "changed": changes(before_faces, after_faces, measured, spec.threshold),
        "geometry_in_face_sizes": geometry(measured),
    }
    for name in ("before_size_only", "after"):
        result = summary[name]
        print(
            f"{name}: refused {result['refused']} ({result['fte']:.1%}) {result['refused_reasons']}; "
            f"warned {result['warned']} {result['warned_reasons']}"
        )
        print(f"  enrolled {result['enrolled']}\n  of them with several faces {result['enrolled_with_several_faces']}")
    print(json.dumps({key: summary[key] for key in ("changed", "geometry_in_face_sizes")}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
