from __future__ import annotations

import json

import numpy as np
import pytest

from faceguard.evaluation.metrics import (
    accuracy_at,
    auc,
    best_threshold,
    cross_validated_accuracy,
    eer,
    far_frr_at,
    roc,
    summarize,
    tar_at_far,
)

inf = np.inf


def labelled(same: list[float], different: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(same + different), np.array([True] * len(same) + [False] * len(different))


def gaussian_pairs(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return labelled(list(rng.normal(0.8, 0.25, n)), list(rng.normal(1.3, 0.25, n)))


def test_perfectly_separable() -> None:
    d, s = labelled([0.1, 0.2, 0.3], [0.7, 0.8, 0.9])
    assert best_threshold(d, s) == pytest.approx(0.5)
    assert accuracy_at(d, s, 0.5) == 1.0
    assert auc(d, s) == 1.0
    assert eer(d, s) == 0.0
    assert tar_at_far(d, s) == 1.0
    assert far_frr_at(d, s, 0.5) == (0.0, 0.0)


def test_overlap_by_hand() -> None:
    d, s = labelled([0.1, 0.3], [0.2, 0.4])
    # 0.15 and 0.35 both get 3 of 4 right; the stricter one wins the tie.
    assert best_threshold(d, s) == pytest.approx(0.15)
    assert accuracy_at(d, s, 0.15) == accuracy_at(d, s, 0.35) == 0.75
    assert far_frr_at(d, s, 0.15) == (0.0, 0.5)
    assert far_frr_at(d, s, 0.35) == (0.5, 0.0)
    assert auc(d, s) == pytest.approx(0.75)  # 3 of 4 same/different orderings correct
    assert eer(d, s) == pytest.approx(0.5)
    far, tar, thresholds = roc(d, s)
    np.testing.assert_allclose(far, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tar, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [-inf, 0.1, 0.2, 0.3, 0.4])


def test_eer_interpolates_between_roc_points() -> None:
    # ROC (FAR, TAR): (0, 0) (0, 1/3) (1, 1/3) (1, 2/3) (1, 1). FAR = FRR on the segment
    # from (0, 1/3) to (1, 1/3) where FAR = 1 - 1/3.
    d, s = labelled([0.1, 0.3, 0.35], [0.2])
    assert eer(d, s) == pytest.approx(2 / 3)


def test_infinite_distances_count_as_different() -> None:
    d, s = labelled([0.1, inf], [0.5, inf])
    assert best_threshold(d, s) == pytest.approx(0.3)
    assert accuracy_at(d, s, 0.3) == 0.75
    assert accuracy_at(d, s, 1e9) == 0.5
    assert far_frr_at(d, s, 1e9) == (0.5, 0.5)
    # Same/different orderings: 0.1<0.5 and 0.1<inf right, inf vs 0.5 wrong, inf vs inf a tie.
    assert auc(d, s) == pytest.approx(2.5 / 4)
    far, tar, thresholds = roc(d, s)
    np.testing.assert_allclose(thresholds, [-inf, 0.1, 0.5, inf])
    np.testing.assert_allclose(far, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tar, [0, 0.5, 0.5, 1])
    assert eer(d, s) == pytest.approx(0.5)


def test_all_distances_infinite() -> None:
    d, s = labelled([inf], [inf])
    assert best_threshold(d, s) == 0.0
    assert accuracy_at(d, s, 0.0) == 0.5


def test_tar_at_far_by_hand() -> None:
    d, s = labelled([0.1, 0.2, 0.45, 0.55, 0.9], [0.4, 0.7, 0.75, 0.8, 0.85, 0.95, 1.0, 1.05, 1.1, 1.2])
    # One false accept (0.4) is allowed at FAR 0.1: the largest such threshold is 0.55, TAR 4/5.
    assert tar_at_far(d, s, far=0.1) == pytest.approx(0.8)
    # No false accept: the largest threshold below 0.4 is 0.2, TAR 2/5.
    assert tar_at_far(d, s, far=0.05) == pytest.approx(0.4)
    assert tar_at_far(d, s, far=0.0) == pytest.approx(0.4)
    assert tar_at_far(d, s) == pytest.approx(0.4)


def test_best_threshold_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(5, 60))
        d = np.round(rng.normal(1.0, 0.4, n), 1)  # rounding makes ties
        s = rng.random(n) < 0.5
        d[rng.random(n) < 0.1] = inf
        finite = sorted(set(d[np.isfinite(d)]))
        candidates = [finite[0] - 1.0] + [(a + b) / 2 for a, b in zip(finite, finite[1:])] + [finite[-1] + 1.0]
        scores = [sum((di <= t) == si for di, si in zip(d, s)) / n for t in candidates]
        best = max(scores)
        # No threshold anywhere (including at the distances themselves) does better.
        assert best >= max(accuracy_at(d, s, t) for t in finite)
        expected = min(t for t, score in zip(candidates, scores) if score == best)
        assert best_threshold(d, s) == pytest.approx(expected)
        assert accuracy_at(d, s, best_threshold(d, s)) == pytest.approx(best)


def test_cross_validation_close_to_best_threshold_accuracy() -> None:
    d, s = gaussian_pairs(seed=1, n=3000)
    folds = np.arange(d.size) % 10
    cv = cross_validated_accuracy(d, s, folds)
    assert len(cv.thresholds) == len(cv.fold_accuracies) == 10
    best = accuracy_at(d, s, best_threshold(d, s))
    assert cv.accuracy == pytest.approx(best, abs=0.01)
    assert cv.accuracy <= best
    assert cv.accuracy == pytest.approx(np.mean(cv.fold_accuracies))
    assert cv.accuracy_std == pytest.approx(np.std(cv.fold_accuracies, ddof=1))
    assert all(abs(t - 1.05) < 0.05 for t in cv.thresholds)


def test_cross_validation_fits_threshold_without_the_held_out_fold() -> None:
    # Fold 1 alone would want a threshold near 10; fitted on fold 0 it gets 0.5 and misses.
    d, s = labelled([0.1, 9.0], [0.9, 11.0])
    cv = cross_validated_accuracy(d, s, [0, 1, 0, 1])
    assert cv.thresholds == pytest.approx((10.0, 0.5))
    assert cv.fold_accuracies == (0.5, 0.5)


def test_cross_validation_needs_two_folds() -> None:
    d, s = labelled([0.1], [0.9])
    with pytest.raises(ValueError, match="two folds"):
        cross_validated_accuracy(d, s, [0, 0])


def test_summarize_with_folds_uses_cross_validation() -> None:
    d, s = gaussian_pairs(seed=2, n=600)
    folds = np.arange(d.size) % 10
    report = summarize(d, s, folds, threshold=1.0)
    cv = cross_validated_accuracy(d, s, folds)
    assert (report.accuracy, report.accuracy_std) == (cv.accuracy, cv.accuracy_std)
    assert report.threshold == 1.0 and report.pairs == 1200
    assert report.auc == pytest.approx(auc(d, s))
    assert report.eer == pytest.approx(eer(d, s))
    assert report.tar_at_far_1e3 == pytest.approx(tar_at_far(d, s, 1e-3))


def test_summarize_single_fold_and_json() -> None:
    d, s = labelled([0.1, 0.3], [0.2, 0.4])
    report = summarize(d, s, [0, 0, 0, 0], threshold=0.35)
    assert report.accuracy == 0.75 and report.accuracy_std is None
    data = report.to_json_dict()
    assert list(data) == ["accuracy", "accuracy_std", "auc", "eer", "tar_at_far_1e-3", "threshold", "pairs"]
    assert json.loads(json.dumps(data)) == {
        "accuracy": 0.75,
        "accuracy_std": None,
        "auc": 0.75,
        "eer": 0.5,
        "tar_at_far_1e-3": 0.5,
        "threshold": 0.35,
        "pairs": 4,
    }


@pytest.mark.parametrize(
    ("distances", "same", "message"),
    [
        ([0.1, 0.2], [True], "equal length"),
        ([], [], "No pairs"),
        ([0.1, np.nan], [True, False], "NaN"),
        ([0.1, -inf], [True, False], "NaN or -inf"),
    ],
)
def test_invalid_inputs(distances: list[float], same: list[bool], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        best_threshold(distances, same)


def test_metrics_needing_both_classes() -> None:
    for metric in (auc, eer, tar_at_far, roc):
        with pytest.raises(ValueError, match="both"):
            metric([0.1, 0.2], [True, True])
