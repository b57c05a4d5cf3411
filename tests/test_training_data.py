"""Training data: folder scan, identity split, chip preparation (detected and pre-aligned), dataset, pairs.

Identity folders are built in tmp_path from the public-domain test photos; pre-aligned crops are
synthetic. No research data set is used.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from faceguard.training.chips import ALIGNED_LAYOUTS, ScanReport, make_chip_set
from faceguard.training.dataset import ChipDataset, verification_pairs
from faceguard.training.photos import FaceImage, TrainingDataError, scan_folder, split_identities
from faceguard.vision.align import (
    ARCFACE_112_TEMPLATE,
    DLIB_150_TEMPLATE,
    estimate_similarity,
)
from faceguard.vision.image_io import read_image
from faceguard.vision.pipeline import FacePipeline, central_face
from faceguard.vision.spec import DLIB_RESNET_V1, scaled_template

DATA = Path(__file__).parent / "data"
DLIB_TEMPLATE = np.array(DLIB_RESNET_V1.template, dtype=np.float32)


def make_people(root: Path, people: dict[str, list[str]]) -> Path:
    """root/Name/photo for each test photo named (copied, so each test owns its files)."""
    for name, photos in people.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for photo in photos:
            shutil.copyfile(DATA / photo, root / name / photo)
    return root


def fake_images(people: int, photos: int = 2) -> list[FaceImage]:
    return [FaceImage(Path(f"/nowhere/P{p:02d}/{k}.jpg"), f"P{p:02d}", p) for p in range(people) for k in range(photos)]


def write_png(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1]))
    return path


# --- scan_folder -----------------------------------------------------------------------------------


def test_scan_labels_people_in_sorted_order_and_skips_what_is_not_a_photo(tmp_path: Path) -> None:
    root = make_people(tmp_path / "faces", {"Obama": ["obama.jpg", "obama2.jpg"], "Biden": ["biden.jpg"]})
    shutil.copyfile(DATA / "obama3.jpg", root / "Obama" / "OBAMA3.JPEG")  # suffixes in any case
    shutil.copyfile(DATA / "obama3.jpg", root / "Obama" / ".hidden.jpg")
    (root / "Obama" / "notes.txt").write_text("not a photo")
    (root / "Obama" / "nested").mkdir()
    shutil.copyfile(DATA / "collins.png", root / "Obama" / "nested" / "collins.png")  # not one level down
    make_people(root, {".cache": ["collins.png"]})  # hidden folder
    (root / "Empty").mkdir()  # no photos: not a person
    shutil.copyfile(DATA / "cat.jpg", root / "loose.jpg")  # loose file at the top

    images = scan_folder(root)

    assert [(image.identity, image.label, image.path.name) for image in images] == [
        ("Biden", 0, "biden.jpg"),
        ("Obama", 1, "OBAMA3.JPEG"),
        ("Obama", 1, "obama.jpg"),
        ("Obama", 1, "obama2.jpg"),
    ]
    assert all(image.path.parent == root / image.identity for image in images)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda root: None, "does not exist"),
        (lambda root: root.write_text("x"), "is a file, not a folder"),
        (lambda root: (root.mkdir(), (root / ".DS_Store").write_text("x")), "is empty"),
        (
            lambda root: (root.mkdir(), shutil.copyfile(DATA / "obama.jpg", root / "a.jpg"), (root / "Nobody").mkdir()),
            "has no person sub-folders with photos",
        ),
        (lambda root: make_people(root, {"Obama": ["obama.jpg", "obama2.jpg"]}), "only one person \\('Obama'\\)"),
    ],
    ids=["missing", "a file", "empty", "only loose files", "one person"],
)
def test_scan_refuses_unusable_folders_with_a_sentence(tmp_path: Path, build, message: str) -> None:
    root = tmp_path / "faces"
    build(root)
    with pytest.raises(TrainingDataError, match=message) as caught:
        scan_folder(root)
    assert caught.value.exit_code == 2
    assert str(caught.value).endswith(".")


# --- split_identities ------------------------------------------------------------------------------


@pytest.mark.parametrize(("validation", "expected"), [(3, 3), (0.3, 3), (0.5, 5), (2, 2), (8, 8)])
def test_split_sizes_and_no_person_on_both_sides(validation: float, expected: int) -> None:
    images = fake_images(10, photos=3)
    train, val = split_identities(images, validation, seed=1)

    train_people, val_people = {i.identity for i in train}, {i.identity for i in val}
    assert len(val_people) == expected and len(train_people) == 10 - expected
    assert not train_people & val_people
    assert len(train) + len(val) == len(images)
    for side in (train, val):
        people = sorted({i.identity for i in side})  # labels 0.. again, in the original order
        assert [i.label for i in side] == [people.index(i.identity) for i in side]
        assert [i.path for i in side] == [i.path for i in images if i.identity in people]  # order kept


def test_split_is_seeded() -> None:
    images = fake_images(12)
    first = split_identities(images, 4, seed=7)
    assert split_identities(images, 4, seed=7) == first
    drawn = {frozenset(i.identity for i in split_identities(images, 4, seed=seed)[1]) for seed in range(6)}
    assert len(drawn) > 1


@pytest.mark.parametrize(
    ("people", "validation", "message"),
    [
        (10, 1, "fewer than two people on one side"),
        (10, 9, "fewer than two people on one side"),
        (10, 0.1, "fraction of 0.1 \\(1 person\\)"),
        (3, 0.5, "fewer than two"),
        (10, 1.0, "between 0 and 1"),
        (10, 0.0, "between 0 and 1"),
    ],
)
def test_split_needs_two_people_on_each_side(people: int, validation: float, message: str) -> None:
    with pytest.raises(TrainingDataError, match=message):
        split_identities(fake_images(people), validation)


# --- make_chip_set on raw photos -------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_people(
        tmp_path_factory.mktemp("raw") / "faces",
        {
            "Obama": ["obama.jpg", "obama2.jpg", "obama3.jpg"],
            "Biden": ["biden.jpg"],
            "Cat": ["cat.jpg"],  # no face at all: this "person" disappears
            "Collins": ["collins.png"],
        },
    )
    data = (DATA / "biden.jpg").read_bytes()
    (root / "Collins" / "truncated.jpg").write_bytes(data[: len(data) // 3])
    return root


@pytest.fixture(scope="module")
def dlib_pipeline() -> FacePipeline:
    """The builtin dlib-resnet pipeline: training prepares chips in dlib's 150 px layout (the trainable
    dlib-resnet architecture's), which is this pipeline's own layout, not the default model's."""
    return FacePipeline.load(device="cpu", threads=1, model="dlib-resnet")


@pytest.fixture(scope="module")
def prepared(raw_folder: Path, dlib_pipeline: FacePipeline, tmp_path_factory: pytest.TempPathFactory):
    """The raw folder prepared once into the dlib pipeline's own layout, with the progress calls made."""
    assert dlib_pipeline.spec is DLIB_RESNET_V1
    cache = tmp_path_factory.mktemp("chip-cache")
    calls: list[tuple[int, int]] = []
    chips = make_chip_set(
        scan_folder(raw_folder),
        DLIB_RESNET_V1.input_size,
        DLIB_TEMPLATE,
        pipeline=dlib_pipeline,
        cache=cache,
        progress=lambda done, total: calls.append((done, total)),
    )
    return chips, cache, calls


def test_raw_photos_become_chips_of_the_target_layout(prepared, raw_folder: Path) -> None:
    chips, _, calls = prepared
    assert chips.chips.shape == (5, 150, 150, 3) and chips.chips.dtype == np.uint8
    assert chips.identities == ["Biden", "Collins", "Obama"]  # Cat dropped, labels renumbered
    assert chips.labels.dtype == np.int64 and chips.labels.tolist() == [0, 1, 2, 2, 2]
    assert [p.name for p in chips.paths] == ["biden.jpg", "collins.png", "obama.jpg", "obama2.jpg", "obama3.jpg"]
    assert calls == [(done, 7) for done in range(1, 8)]


def test_chips_are_the_pipelines_alignment(prepared, dlib_pipeline: FacePipeline, raw_folder: Path) -> None:
    chips, _, _ = prepared
    pipeline = dlib_pipeline
    image = read_image(raw_folder / "Obama" / "obama2.jpg")
    face = central_face(pipeline.detect(image), image.shape)
    assert np.array_equal(chips.chips[3], pipeline.align(image, [face])[0])
    encodings = pipeline.encode(chips.chips)
    obama = encodings[chips.labels == 2]
    for a, b in itertools.combinations(obama, 2):
        assert np.linalg.norm(a - b) <= pipeline.threshold
    assert np.linalg.norm(encodings[0] - obama[0]) > pipeline.threshold  # Biden is not Obama


def test_report_counts_what_was_skipped(prepared, raw_folder: Path) -> None:
    report = prepared[0].report
    assert report.no_face == [raw_folder / "Cat" / "cat.jpg"]
    assert [path for path, _ in report.unreadable] == [raw_folder / "Collins" / "truncated.jpg"]
    assert "truncated" in report.unreadable[0][1]
    assert report.singletons == ["Biden", "Collins"]
    assert (report.identities, report.images) == (3, 5)
    summary = report.summary()
    for part in (
        "5 face chips of 3 people",
        "2 people have a single usable photo",
        "Biden, Collins",
        "1 file could not be used",
        "Collins/truncated.jpg",
        "1 photo showed no face: Cat/cat.jpg",
    ):
        assert part in summary


def test_second_run_reads_the_cache_without_detecting(prepared, raw_folder, pipeline, monkeypatch) -> None:
    chips, cache, _ = prepared
    assert len(list(cache.glob("*.npz"))) == 6  # five faces and the cat's "no face"

    def no_detection(image):
        raise AssertionError("detection ran despite the cache")

    monkeypatch.setattr(pipeline, "detect", no_detection)
    again = make_chip_set(scan_folder(raw_folder), 150, DLIB_TEMPLATE, pipeline=pipeline, cache=cache)
    assert np.array_equal(again.chips, chips.chips)
    assert again.report.no_face == chips.report.no_face and len(again.report.unreadable) == 1
    # no pipeline at all: a full cache never needs to load the models
    monkeypatch.setattr(FacePipeline, "load", classmethod(lambda cls, *a, **k: pytest.fail("models loaded")))
    assert np.array_equal(make_chip_set(scan_folder(raw_folder), 150, DLIB_TEMPLATE, cache=cache).chips, chips.chips)


def test_cache_misses_when_the_template_size_or_photo_changes(prepared, raw_folder, pipeline, monkeypatch, tmp_path):
    _, cache, _ = prepared
    detected: list[tuple[int, ...]] = []
    detect = pipeline.detect
    monkeypatch.setattr(pipeline, "detect", lambda image: detected.append(image.shape) or detect(image))
    images = [i for i in scan_folder(raw_folder) if i.identity == "Obama"]

    other = np.array(scaled_template(DLIB_150_TEMPLATE, 1.0), dtype=np.float32)
    moved = make_chip_set(images, 150, other, pipeline=pipeline, cache=cache)
    assert len(detected) == 3
    assert not np.array_equal(moved.chips, prepared[0].chips[2:])  # really another layout
    make_chip_set(images, 150, other, pipeline=pipeline, cache=cache)
    assert len(detected) == 3  # and that layout is cached in turn

    make_chip_set(images, 112, ARCFACE_112_TEMPLATE, pipeline=pipeline, cache=cache)
    assert len(detected) == 6

    photo = tmp_path / "Obama" / "obama.jpg"  # same path, new content and time: detected again
    photo.parent.mkdir()
    shutil.copyfile(images[0].path, photo)
    first = make_chip_set([FaceImage(photo, "Obama", 0)], 150, other, pipeline=pipeline, cache=cache)
    shutil.copyfile(images[1].path, photo)
    stat = photo.stat()
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = make_chip_set([FaceImage(photo, "Obama", 0)], 150, other, pipeline=pipeline, cache=cache)
    assert len(detected) == 8
    assert np.array_equal(second.chips[0], moved.chips[1]) and not np.array_equal(first.chips, second.chips)


def test_nothing_usable_is_an_error(tmp_path: Path, pipeline: FacePipeline) -> None:
    root = make_people(tmp_path / "faces", {"Cat": ["cat.jpg"], "Coffee": ["coffee.jpg"]})
    with pytest.raises(TrainingDataError, match="None of the 2 photos could be used: 0 could not be read and 2"):
        make_chip_set(scan_folder(root), 150, DLIB_TEMPLATE, pipeline=pipeline, cache=tmp_path / "cache")


# --- make_chip_set on pre-aligned crops ------------------------------------------------------------


@pytest.fixture
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FacePipeline, "load", classmethod(lambda cls, *a, **k: pytest.fail("models loaded")))


def test_aligned_crops_in_the_same_layout_pass_unchanged(tmp_path: Path, no_models) -> None:
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, size=(3, 112, 112, 3), dtype=np.uint8)
    paths = [write_png(tmp_path / name / f"{k}.png", crop) for k, (name, crop) in enumerate(zip("AAB", crops))]
    write_png(tmp_path / "B" / "wrong.png", crops[0][:100, :90])
    images = scan_folder(tmp_path)

    chips = make_chip_set(images, 112, ARCFACE_112_TEMPLATE, aligned="arcface112", cache=tmp_path / "cache")

    assert np.array_equal(chips.chips, crops) and chips.paths == paths
    assert chips.labels.tolist() == [0, 0, 1] and chips.report.singletons == ["B"]
    assert chips.report.unreadable == [
        (tmp_path / "B" / "wrong.png", "'wrong.png' is 90x100 pixels, not the 112x112 of an aligned arcface112 crop.")
    ]
    assert not (tmp_path / "cache").exists()  # crops are not cached
    assert ALIGNED_LAYOUTS["arcface112"][0] == 112


def gaussian_dots(points: np.ndarray, size: int, sigma: float = 1.2) -> np.ndarray:
    """A black RGB image with a bright Gaussian dot centred (sub-pixel) on each point."""
    y, x = np.mgrid[:size, :size].astype(np.float64)
    image = sum(np.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * sigma**2)) for px, py in points)
    return np.repeat(np.round(255 * image)[:, :, None], 3, axis=2).astype(np.uint8)


def dot_centres(chip: np.ndarray) -> np.ndarray:
    """Intensity-weighted centre (x, y) of each bright blob."""
    grey = chip[:, :, 0].astype(np.float64)
    count, labels = cv2.connectedComponents((grey > 8).astype(np.uint8))
    y, x = np.mgrid[: grey.shape[0], : grey.shape[1]]
    weights = [np.where(labels == k, grey, 0.0) for k in range(1, count)]
    return np.array([[(x * w).sum() / w.sum(), (y * w).sum() / w.sum()] for w in weights])


def test_aligned_crops_are_rewarped_onto_the_target_template(tmp_path: Path, no_models) -> None:
    write_png(tmp_path / "A" / "dots.png", gaussian_dots(ARCFACE_112_TEMPLATE, 112))
    write_png(tmp_path / "B" / "white.png", np.full((112, 112, 3), 255, np.uint8))

    chips = make_chip_set(scan_folder(tmp_path), 150, DLIB_TEMPLATE, aligned="arcface112")

    assert chips.chips.shape == (2, 150, 150, 3)
    found = dot_centres(chips.chips[0])
    assert len(found) == 5
    nearest = np.linalg.norm(found[:, None] - DLIB_TEMPLATE[None], axis=2)
    order = nearest.argmin(axis=1)
    assert sorted(order) == [0, 1, 2, 3, 4]
    # The two templates differ in shape, so the best similarity leaves each point 1.7-2.7 px from the
    # dlib template; the dots land exactly where that similarity puts the ArcFace points.
    matrix = estimate_similarity(ARCFACE_112_TEMPLATE, DLIB_TEMPLATE)
    expected = ARCFACE_112_TEMPLATE[order] @ matrix[:, :2].T + matrix[:, 2]
    assert np.linalg.norm(found - expected, axis=1).max() < 0.1
    assert nearest.min(axis=1).max() < 2.8
    white = chips.chips[1]  # beyond the crop's bottom edge the dlib chip is black
    assert (white[75, 20:130] == 255).all() and (white[-1] == 0).all()


def test_unknown_layout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="Unknown aligned layout 'vggface'. Known layouts: arcface112."):
        make_chip_set(fake_images(2), 112, ARCFACE_112_TEMPLATE, aligned="vggface")


# --- ChipDataset and verification_pairs ------------------------------------------------------------


def test_dataset_items_are_float_chw_tensors_with_labels() -> None:
    chips = np.random.default_rng(0).integers(0, 256, size=(4, 16, 16, 3), dtype=np.uint8)
    dataset = ChipDataset(chips, np.array([3, 1, 1, 0]))
    image, label = dataset[2]
    assert len(dataset) == 4
    assert image.dtype == torch.float32 and image.shape == (3, 16, 16)
    assert torch.equal(image, torch.from_numpy(chips[2].transpose(2, 0, 1).astype(np.float32)))
    assert label == 1 and isinstance(label, int)


def test_augmentation_is_reproducible_per_seed_and_varies_per_fetch() -> None:
    chips = np.random.default_rng(1).integers(30, 226, size=(6, 16, 16, 3), dtype=np.uint8)
    labels = np.arange(6)

    def two_epochs(seed: int) -> list[torch.Tensor]:
        dataset = ChipDataset(chips, labels, augment=True, seed=seed)
        return [dataset[i][0] for _ in range(2) for i in range(6)]

    first = two_epochs(0)
    assert all(torch.equal(a, b) for a, b in zip(first, two_epochs(0)))
    assert not all(torch.equal(a, b) for a, b in zip(first, two_epochs(1)))
    assert not any(torch.equal(a, b) for a, b in zip(first[:6], first[6:]))  # a new look each epoch
    for k, image in enumerate(first):
        assert image.shape == (3, 16, 16) and image.dtype == torch.float32
        assert image.min() >= 0 and image.max() <= 255
        original = torch.from_numpy(chips[k % 6].transpose(2, 0, 1).astype(np.float32))
        assert (image.mean() / original.mean() - 1).abs() < 0.12  # small jitter only


def test_augmentation_flips_horizontally_about_half_the_time() -> None:
    chips = np.random.default_rng(2).integers(0, 256, size=(1, 8, 8, 3), dtype=np.uint8)
    dataset = ChipDataset(chips, np.zeros(1), augment=True, seed=3)
    dataset.BRIGHTNESS = dataset.CONTRAST = 0.0
    plain = torch.from_numpy(chips[0].transpose(2, 0, 1).astype(np.float32))
    flips = 0
    for _ in range(40):
        image = dataset[0][0]
        flipped = torch.allclose(image, plain.flip(2), atol=1e-3)
        assert flipped or torch.allclose(image, plain, atol=1e-3)
        flips += flipped
    assert 10 <= flips <= 30


LABELS = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])


@pytest.mark.parametrize(("ratio", "negatives"), [(1.0, 10), (2.5, 25), (0.0, 0), (100.0, 35)])
def test_verification_pairs_take_every_positive_and_distinct_negatives(ratio: float, negatives: int) -> None:
    i, j, same = verification_pairs(LABELS, ratio, seed=0)
    assert i.dtype == j.dtype == np.int64 and same.dtype == bool
    assert same.sum() == 3 + 1 + 0 + 6 and (~same).sum() == negatives  # 35 different-person pairs exist
    assert (i < j).all()
    assert len(set(zip(i.tolist(), j.tolist()))) == len(i)
    assert np.array_equal(same, LABELS[i] == LABELS[j])


def test_verification_pairs_are_seeded() -> None:
    first = verification_pairs(LABELS, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, verification_pairs(LABELS, seed=4)))
    negatives = {tuple(map(tuple, np.stack(verification_pairs(LABELS, seed=s)[:2])[:, 10:].T)) for s in range(5)}
    assert len(negatives) > 1


def test_verification_pairs_for_many_people_sample_without_repeats() -> None:
    labels = np.repeat(np.arange(250), 10)  # 3.1M pairs: drawn, not enumerated
    i, j, same = verification_pairs(labels, 2.0, seed=0)
    assert same.sum() == 250 * 45 and (~same).sum() == 2 * 250 * 45
    assert (i < j).all() and np.array_equal(same, labels[i] == labels[j])
    assert len(np.unique(i * len(labels) + j)) == len(i)


def test_scan_report_summary_without_problems() -> None:
    assert ScanReport(identities=1, images=1).summary() == "1 face chip of 1 person ready."
