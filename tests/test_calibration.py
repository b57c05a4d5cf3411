"""Calibration: the committed LFW DevTrain distances, the FAR/FRR they give at a threshold, and the
open-set (1:N) rates and site thresholds they give for a gallery size."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from faceguard.evaluation.metrics import far_frr_at
from faceguard.matching.calibration import (
    CALIBRATION_DIR,
    DEFAULT_MAX_FPIR,
    FORMAT,
    FORMAT_1,
    Calibration,
    CalibrationError,
)
from faceguard.vision.spec import get_model_spec

SPEC = get_model_spec("dlib-resnet")


@pytest.fixture(scope="module")
def stored() -> dict:
    return json.loads((CALIBRATION_DIR / f"{SPEC.id}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    loaded = Calibration.load(SPEC.id)
    assert loaded is not None
    return loaded


def test_the_file_describes_the_builtin_model_on_devtrain(stored):
    assert stored["format"] == FORMAT
    assert stored["model_id"] == SPEC.id
    assert stored["model_name"] == SPEC.name
    assert stored["pairs_file"] == "pairsDevTrain.txt"
    assert len(stored["genuine"]) == len(stored["impostor"]) == 1100
    assert len(stored["genuine_all"]) > 2000 and len(stored["nonmatch_tail"]) == 20_000
    assert stored["nonmatch_count"] > 5_000_000  # FMR measurable down to ~2e-7
    assert stored["nonmatch_tail"] == sorted(stored["nonmatch_tail"])
    assert stored["produced"]["by"].startswith("benchmarks/calibration_distances.py")


def test_rates_at_the_shipped_threshold_are_those_of_the_stored_arrays(stored, calibration):
    genuine, impostor = (
        np.array([math.inf if d is None else d for d in stored[key]]) for key in ("genuine", "impostor")
    )
    far, frr = calibration.error_rates(SPEC.threshold)
    assert far == np.mean(impostor <= SPEC.threshold)
    assert frr == np.mean(genuine > SPEC.threshold)
    distances = np.concatenate([genuine, impostor])
    same = np.concatenate([np.ones(genuine.size, bool), np.zeros(impostor.size, bool)])
    assert (far, frr) == pytest.approx(far_frr_at(distances, same, SPEC.threshold))
    # the spec's comment: 99.50 % accuracy on DevTrain at this threshold (balanced pairs)
    assert 1 - (far + frr) / 2 == pytest.approx(0.995)
    assert calibration.pairs == 2200
    assert calibration.source == "LFW DevTrain"


def test_rates_are_monotonic_in_the_threshold(calibration):
    rates = np.array([calibration.error_rates(t) for t in np.linspace(0.0, 1.5, 301)])
    assert np.all(np.diff(rates[:, 0]) >= 0) and np.all(np.diff(rates[:, 1]) <= 0)
    assert tuple(rates[0]) == (0.0, 1.0)
    assert tuple(rates[-1]) == (1.0, 0.0)
    assert np.diff(rates[:, 0]).any() and np.diff(rates[:, 1]).any()


def _write(folder, **changes) -> None:
    """A calibration file for model mine@1: 4 listed genuine (one without a face) and 4 impostor pairs; over
    all its images 5 same-person pairs and 100 different-person pairs, of which the 2 smallest are kept."""
    data = {
        "format": FORMAT,
        "model_id": "mine@1",
        "pairs_file": "pairs.txt",
        "genuine": [0.2, 0.4, None, 0.7],
        "impostor": [0.5, 0.9, 1.1, 0.3],
        "genuine_all": [0.2, 0.4, None, 0.7, 0.35],
        "nonmatch_tail": [0.3, 0.5],
        "nonmatch_count": 100,
        **changes,
    }
    (folder / "mine@1.json").write_text(json.dumps(data), encoding="utf-8")


def test_a_model_without_calibration_has_none(tmp_path):
    assert Calibration.load("mine@1", tmp_path) is None


def test_a_no_face_pair_is_never_accepted(tmp_path):
    _write(tmp_path)
    calibration = Calibration.load("mine@1", tmp_path)
    assert calibration.error_rates(0.45) == (0.25, 0.5)
    assert calibration.error_rates(1.99) == (1.0, 0.25)  # the genuine pair without a face stays rejected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "other/1"}, "is not a FaceGuard calibration file"),
        ({"model_id": "other@1"}, "it is for model 'other@1', not 'mine@1'"),
        ({"pairs_file": None}, "the pairs file name is missing"),
        ({"genuine": []}, "'genuine' is not a non-empty list"),
        ({"impostor": [0.3, -0.1]}, "'impostor' holds something other than non-negative distances"),
        ({"impostor": [0.3, "0.4"]}, "'impostor' holds something other than non-negative distances"),
        ({"genuine_all": None}, "'genuine_all' is not a non-empty list"),
        ({"nonmatch_tail": [0.3, None]}, r"'nonmatch_tail' holds something other than non-negative distances\. "),
        ({"nonmatch_count": 1}, "'nonmatch_count' is not a whole number at least as long as 'nonmatch_tail'"),
        ({"nonmatch_count": 100.0}, "'nonmatch_count' is not a whole number"),
    ],
)
def test_a_malformed_file_is_rejected_with_its_problem(tmp_path, changes, message):
    _write(tmp_path, **changes)
    with pytest.raises(CalibrationError, match=message) as raised:
        Calibration.load("mine@1", tmp_path)
    assert "calibration_distances.py" in str(raised.value)


def test_a_file_that_is_not_json_is_rejected(tmp_path):
    (tmp_path / "mine@1.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"mine@1.json cannot be read"):
        Calibration.load("mine@1", tmp_path)


def test_fmr_counts_the_tail_then_falls_back_on_the_listed_impostors(tmp_path):
    _write(tmp_path)
    calibration = Calibration.load("mine@1", tmp_path)
    assert [calibration.fmr(t) for t in (0.29, 0.3, 0.45)] == [0.0, 0.01, 0.01]
    assert calibration.fmr(0.5) == 0.5  # past the tail: 2 of the 4 listed impostor pairs
    assert calibration.site_threshold(0.01, 1) == pytest.approx(0.4)  # midway between 0.3 and 0.5
    assert calibration.open_set_rates(0.4, 2) == pytest.approx((1 - 0.99**2, 0.4))  # genuine_all: 2 of 5 above


def test_a_format_1_file_reads_its_listed_pairs_as_all_pairs(tmp_path):
    _write(tmp_path, format=FORMAT_1, genuine_all=None, nonmatch_tail=None, nonmatch_count=None)
    calibration = Calibration.load("mine@1", tmp_path)
    assert calibration.nonmatch_count == 4 and calibration.nonmatch_tail.tolist() == [0.3, 0.5, 0.9, 1.1]
    assert calibration.fmr(0.6) == calibration.error_rates(0.6)[0] == 0.5
    assert calibration.open_set_rates(0.6, 1) == calibration.error_rates(0.6)


def test_fmr_is_the_share_of_the_tail_below_its_end(stored, calibration):
    tail = np.array(stored["nonmatch_tail"])
    for threshold in (0.0, tail[0], 0.45, 0.5, tail[-1] - 1e-6):
        assert calibration.fmr(threshold) == np.count_nonzero(tail <= threshold) / stored["nonmatch_count"]
    fmrs = [calibration.fmr(t) for t in np.linspace(0.0, 1.5, 301)]
    assert np.all(np.diff(fmrs) >= 0) and fmrs[0] == 0.0 and fmrs[-1] == 1.0


@pytest.mark.parametrize("max_fpir", [0.01, DEFAULT_MAX_FPIR])
def test_the_site_threshold_tightens_as_the_gallery_grows_and_meets_its_target(calibration, max_fpir):
    sizes = [1, 10, 100, 1000, 5000]
    thresholds = [calibration.site_threshold(max_fpir, n) for n in sizes]
    assert np.all(np.diff(thresholds) < 0)
    for n, threshold in zip(sizes, thresholds):
        fpir, fnir = calibration.open_set_rates(threshold, n)
        assert fpir <= max_fpir
        assert calibration.open_set_rates(_next_distance(calibration, threshold), n)[0] > max_fpir  # the largest
        assert 0.0 < fnir < 1.0


def test_with_nobody_or_one_person_enrolled_it_is_the_1_to_1_threshold(calibration):
    threshold = calibration.site_threshold(DEFAULT_MAX_FPIR, 0)
    assert threshold == calibration.site_threshold(DEFAULT_MAX_FPIR, 1)
    assert calibration.fmr(threshold) <= DEFAULT_MAX_FPIR < calibration.fmr(_next_distance(calibration, threshold))
    assert calibration.open_set_rates(threshold, 0)[0] == 0.0


def test_the_shipped_1_to_1_threshold_lets_nearly_every_stranger_in_at_900_people(calibration):
    fpir, _ = calibration.open_set_rates(SPEC.threshold, 900)
    assert fpir > 0.99


def test_a_target_beyond_what_the_data_measures_is_refused(calibration):
    with pytest.raises(CalibrationError, match="below what the 5923194 different-person pairs .* choose a looser"):
        calibration.site_threshold(1e-4, 10_000)  # needs FMR 1e-8, the data resolve ~1.7e-7


@pytest.mark.parametrize(("max_fpir", "size"), [(0.0, 10), (1.0, 10), (0.01, -1)])
def test_site_threshold_rejects_impossible_arguments(calibration, max_fpir, size):
    with pytest.raises(ValueError):
        calibration.site_threshold(max_fpir, size)


def _next_distance(calibration: Calibration, threshold: float) -> float:
    """The smallest different-person distance (tail or listed) above ``threshold``."""
    distances = np.concatenate([calibration.nonmatch_tail, calibration.impostor])
    return float(distances[distances > threshold].min())
