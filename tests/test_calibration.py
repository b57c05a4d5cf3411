"""Calibration: the committed LFW DevTrain distances and the FAR/FRR they give at a threshold."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from faceguard.calibration import CALIBRATION_DIR, FORMAT, Calibration, CalibrationError
from faceguard.evaluation.metrics import far_frr_at
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
    assert stored["produced"]["by"].startswith("benchmarks/calibration_distances.py")


def test_rates_at_the_shipped_threshold_are_those_of_the_stored_arrays(stored, calibration):
    genuine, impostor = (np.array([math.inf if d is None else d for d in stored[key]]) for key in ("genuine", "impostor"))
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
    """A calibration file for model mine@1 with 4 genuine (one without a face) and 4 impostor pairs."""
    data = {"format": FORMAT, "model_id": "mine@1", "pairs_file": "pairs.txt",
            "genuine": [0.2, 0.4, None, 0.7], "impostor": [0.5, 0.9, 1.1, 0.3], **changes}
    (folder / "mine@1.json").write_text(json.dumps(data), encoding="utf-8")


def test_a_model_without_calibration_has_none(tmp_path):
    assert Calibration.load("mine@1", tmp_path) is None


def test_a_no_face_pair_is_never_accepted(tmp_path):
    _write(tmp_path)
    calibration = Calibration.load("mine@1", tmp_path)
    assert calibration.error_rates(0.45) == (0.25, 0.5)
    assert calibration.error_rates(1.99) == (1.0, 0.25)  # the genuine pair without a face stays rejected


@pytest.mark.parametrize(("changes", "message"), [
    ({"format": "other/1"}, "is not a FaceGuard calibration file"),
    ({"model_id": "other@1"}, "it is for model 'other@1', not 'mine@1'"),
    ({"pairs_file": None}, "the pairs file name is missing"),
    ({"genuine": []}, "'genuine' is not a non-empty list"),
    ({"impostor": [0.3, -0.1]}, "'impostor' holds something other than non-negative distances"),
    ({"impostor": [0.3, "0.4"]}, "'impostor' holds something other than non-negative distances"),
])
def test_a_malformed_file_is_rejected_with_its_problem(tmp_path, changes, message):
    _write(tmp_path, **changes)
    with pytest.raises(CalibrationError, match=message) as raised:
        Calibration.load("mine@1", tmp_path)
    assert "calibration_distances.py" in str(raised.value)


def test_a_file_that_is_not_json_is_rejected(tmp_path):
    (tmp_path / "mine@1.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"mine@1.json cannot be read"):
        Calibration.load("mine@1", tmp_path)
