"""Open-set (1:N) evaluation: the protocol's split, the searches and their figures on hand-made
encodings, and enrollment plus search through the real engine on the public-domain test photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from faceguard.evaluation.encode import encode_images
from faceguard.evaluation.open_set import OperatingPoint, enroll, people_in, report, search, split_people
from faceguard.evaluation.pairs import read_pairs
from faceguard.matching.calibration import DEFAULT_MAX_FPIR, Calibration

from .conftest import DATA

MODEL = "mine@1"


@pytest.fixture
def people(tmp_path):
    """Obama (3 photos), Biden (2: his portrait and its mirror image), Cat (2, no human face), and
    Collins and Coffee (one photo each: strangers, the coffee cup without a face)."""
    root = tmp_path / "people"
    photos = {
        "Barack_Obama": ["obama.jpg", "obama2.jpg", "obama3.jpg"],
        "Joe_Biden": ["biden.jpg"],
        "Eileen_Collins": ["collins.png"],
        "Coffee": ["coffee.jpg"],
        "Cat": ["cat.jpg", "coffee.jpg"],
    }
    for name, files in photos.items():
        (root / name).mkdir(parents=True)
        for number, file in enumerate(files, start=1):
            Image.open(DATA / file).convert("RGB").save(root / name / f"{name}_{number:04d}.jpg")
    ImageOps.mirror(Image.open(DATA / "biden.jpg").convert("RGB")).save(root / "Joe_Biden" / "Joe_Biden_0002.jpg")
    return root


def test_the_split_enrols_first_photos_probes_second_ones_and_singles_as_strangers(people):
    (people / "Barack_Obama" / "notes.txt").write_text("not a photo")
    split = split_people(people)
    assert {name: path.name for name, path in split.enrol.items()} == {
        "Barack_Obama": "Barack_Obama_0001.jpg",
        "Cat": "Cat_0001.jpg",
        "Joe_Biden": "Joe_Biden_0001.jpg",
    }
    assert [path.name for path in split.mated.values()] == [
        "Barack_Obama_0002.jpg",
        "Cat_0002.jpg",
        "Joe_Biden_0002.jpg",
    ]
    assert sorted(split.nonmated) == ["Coffee", "Eileen_Collins"]
    only = split_people(people, {"Joe_Biden", "Coffee"})
    assert list(only.enrol) == ["Joe_Biden"] and list(only.nonmated) == ["Coffee"]


def test_the_people_of_a_pairs_file(tmp_path, people):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("1\nBarack_Obama\t1\t2\nJoe_Biden\t1\tCoffee\t1\n")
    assert people_in(read_pairs(pairs, people)) == {"Barack_Obama", "Joe_Biden", "Coffee"}


@pytest.fixture
def searches():
    """A, B, C enrolled at the corners; C's probe lies nearest A (a rank-1 miss); strangers at 0.707,
    2.236, without a face, and at 0.35 from A."""
    enrolled = {"A": np.array([0.0, 0.0]), "B": np.array([1.0, 0.0]), "C": np.array([0.0, 1.0])}
    mated = {"A": np.array([0.1, 0.0]), "B": np.array([1.0, 0.2]), "C": np.array([0.3, 0.1])}
    strangers = [np.array([0.5, 0.5]), np.array([2.0, 2.0]), None, np.array([0.0, 0.35])]
    return search(enrolled, mated, strangers, MODEL)


def test_search_finds_each_probes_nearest_enrolled_person(searches):
    assert searches.mated_distance == pytest.approx([0.1, 0.2, np.hypot(0.3, 0.1)], abs=1e-6)
    assert searches.mated_correct.tolist() == [True, True, False]
    assert searches.nonmated_distance == pytest.approx([np.sqrt(0.5), np.sqrt(5.0), np.inf, 0.35], abs=1e-6)
    assert searches.rank1 == pytest.approx(2 / 3)


def test_rates_count_a_wrong_nearest_person_as_a_miss_at_every_threshold(searches):
    assert searches.rates_at(0.25) == pytest.approx((0.0, 1 / 3))
    assert searches.rates_at(0.4) == pytest.approx((0.25, 1 / 3))
    assert searches.rates_at(0.15) == pytest.approx((0.0, 2 / 3))
    assert searches.rates_at(100.0) == pytest.approx((0.75, 1 / 3))  # the stranger without a face never matches


def test_fnir_at_fpir_is_read_at_an_actual_operating_point(searches):
    assert searches.at_fpir(0.01) == OperatingPoint(pytest.approx(0.2), 0.0, pytest.approx(1 / 3))
    assert searches.at_fpir(0.3) == OperatingPoint(pytest.approx(0.35), 0.25, pytest.approx(1 / 3))


def test_the_report_counts_refusals_and_derives_the_site_threshold(searches):
    calibration = Calibration.load("dlib-resnet@1")
    figures = report(searches, 4, {"D": "NoFaceError"}, calibration, DEFAULT_MAX_FPIR, 0.599)
    assert figures["enrolled"] == 3 and figures["fte"] == 0.25 and figures["fte_by_reason"] == {"NoFaceError": 1}
    assert figures["probes_without_face"] == {"mated": 0, "nonmated": 1}
    assert figures["fnir_at_fpir"]["0.01"] == vars(searches.at_fpir(0.01))
    site = figures["site_threshold"]
    assert site["threshold"] == calibration.site_threshold(DEFAULT_MAX_FPIR, 3)
    assert (site["fpir"], site["fnir"]) == searches.rates_at(site["threshold"])
    assert tuple(site["predicted"].values()) == calibration.open_set_rates(site["threshold"], 3)
    assert figures["model_threshold"]["fpir"] == 0.25  # 0.599 lets the stranger at 0.35 in, not the one at 0.707


def test_without_calibration_the_report_says_why_there_is_no_site_threshold(searches):
    figures = report(searches, 3, {}, None, DEFAULT_MAX_FPIR, 0.6)
    assert figures["site_threshold"] == {
        "max_fpir": DEFAULT_MAX_FPIR,
        "threshold": None,
        "problem": "the model has no calibration file",
    }
    assert figures["model_threshold"]["predicted"] is None and figures["fte"] == 0.0


def test_enrolment_and_search_through_the_real_engine(pipeline, people):
    split = split_people(people)
    results = list(enroll(pipeline, split.enrol))
    assert [(person, reason) for person, _, reason in results] == [
        ("Barack_Obama", None),
        ("Cat", "NoFaceError"),
        ("Joe_Biden", None),
    ]
    enrolled = {person: encoding for person, encoding, _ in results if encoding is not None}
    probes = dict(encode_images(pipeline, [split.mated[p] for p in enrolled] + list(split.nonmated.values())))
    searches = search(
        enrolled,
        {p: probes[split.mated[p]] for p in enrolled},
        [probes[path] for path in split.nonmated.values()],
        pipeline.spec.id,
    )
    assert searches.rank1 == 1.0 and searches.mated_distance.max() < pipeline.threshold
    coffee, collins = searches.nonmated_distance  # sorted by name: Coffee, Eileen_Collins
    assert coffee == np.inf and collins > pipeline.threshold
