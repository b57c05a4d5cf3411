"""Face-verification metrics over pair distances.

Inputs are ``distances`` (smaller = more similar; ``+inf`` for pairs where no face was found, which
are never accepted at a finite threshold and rank below every real distance) and ``same`` (True
when the pair shows one person). A pair is accepted as "same" when ``distance <= threshold``.
FAR is the fraction of different-person pairs accepted, FRR the fraction of same-person pairs
rejected, TAR = 1 - FRR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score, roc_curve


@dataclass(frozen=True)
class CrossValidation:
    """k-fold result: mean and sample std (ddof=1) of the held-out accuracies, and per-fold details."""

    accuracy: float
    accuracy_std: float
    thresholds: tuple[float, ...]
    fold_accuracies: tuple[float, ...]


@dataclass(frozen=True)
class VerificationReport:
    """Summary of one benchmark run; ``accuracy_std`` is None when there is a single fold."""

    accuracy: float
    accuracy_std: float | None
    auc: float
    eer: float
    tar_at_far_1e3: float
    threshold: float
    pairs: int

    def to_json_dict(self) -> dict[str, float | int | None]:
        """JSON-ready mapping with the report's published key names."""
        return {
            "accuracy": self.accuracy,
            "accuracy_std": self.accuracy_std,
            "auc": self.auc,
            "eer": self.eer,
            "tar_at_far_1e-3": self.tar_at_far_1e3,
            "threshold": self.threshold,
            "pairs": self.pairs,
        }


def best_threshold(distances: ArrayLike, same: ArrayLike) -> float:
    """Threshold maximising accuracy on these pairs.

    Candidates are the midpoints between neighbouring distinct finite distances, plus one unit
    below the smallest (reject all) and above the largest (accept all finite). Ties go to the
    smallest threshold, the stricter one. With no finite distance at all, returns 0.0.
    """
    d, s = _validate(distances, same)
    finite = np.unique(d[np.isfinite(d)])
    if finite.size == 0:
        return 0.0
    candidates = np.concatenate(([finite[0] - 1.0], (finite[:-1] + finite[1:]) / 2, [finite[-1] + 1.0]))
    order = np.argsort(d, kind="stable")
    same_accepted = np.concatenate(([0], np.cumsum(s[order])))
    diff_accepted = np.concatenate(([0], np.cumsum(~s[order])))
    accepted = np.searchsorted(d[order], candidates, side="right")
    correct = same_accepted[accepted] + (np.count_nonzero(~s) - diff_accepted[accepted])
    return float(candidates[np.argmax(correct)])


def accuracy_at(distances: ArrayLike, same: ArrayLike, threshold: float) -> float:
    """Fraction of pairs classified correctly when accepting ``distance <= threshold``."""
    d, s = _validate(distances, same)
    return float(np.mean((d <= threshold) == s))


def far_frr_at(distances: ArrayLike, same: ArrayLike, threshold: float) -> tuple[float, float]:
    """(FAR, FRR) at ``threshold``; needs both same and different pairs."""
    d, s = _validate(distances, same, both_classes=True)
    accepted = d <= threshold
    return float(np.mean(accepted[~s])), float(np.mean(~accepted[s]))


def roc(distances: ArrayLike, same: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full ROC curve as (FAR, TAR, distance thresholds), thresholds ascending from -inf.

    Computed with ``sklearn.metrics.roc_curve`` on scores ``-distance`` without dropping points;
    each point accepts ``distance <= threshold``. No-face pairs only join at threshold ``+inf``.
    """
    d, s = _validate(distances, same, both_classes=True)
    scores = _scores(d)
    far, tar, score_thresholds = roc_curve(s, scores, drop_intermediate=False)
    thresholds = -score_thresholds
    if np.isinf(d).any():
        thresholds[score_thresholds == scores.min()] = np.inf
    return far, tar, thresholds


def auc(distances: ArrayLike, same: ArrayLike) -> float:
    """Area under the ROC curve (no-face pairs rank below every real distance)."""
    d, s = _validate(distances, same, both_classes=True)
    return float(roc_auc_score(s, _scores(d)))


def eer(distances: ArrayLike, same: ArrayLike) -> float:
    """Equal error rate: where FAR = FRR on the ROC curve, linearly interpolated between its points."""
    far, tar, _ = roc(distances, same)
    gap = far + tar - 1.0  # FAR - FRR, non-decreasing along the curve from -1 to 1
    i = int(np.argmax(gap >= 0))
    if gap[i] == 0:
        return float(far[i])
    t = -gap[i - 1] / (gap[i] - gap[i - 1])
    return float(far[i - 1] + t * (far[i] - far[i - 1]))


def tar_at_far(distances: ArrayLike, same: ArrayLike, far: float = 1e-3) -> float:
    """TAR at the largest threshold whose FAR is at most ``far``.

    Interpolation-free: the TAR of an actual operating point, the last ROC point with
    FAR <= ``far`` (one always exists, as the curve starts at FAR 0), never a value read off
    the line between two points.
    """
    fars, tars, _ = roc(distances, same)
    return float(tars[np.flatnonzero(fars <= far)[-1]])


def cross_validated_accuracy(distances: ArrayLike, same: ArrayLike, folds: ArrayLike) -> CrossValidation:
    """Standard LFW k-fold protocol.

    For each fold, fit ``best_threshold`` on the other folds and measure accuracy on the held-out
    one. ``folds`` holds each pair's fold id; at least two distinct folds are needed.
    """
    d, s = _validate(distances, same)
    f = np.asarray(folds)
    if f.shape != d.shape:
        raise ValueError(f"folds has shape {f.shape} but distances has shape {d.shape}.")
    fold_ids = np.unique(f)
    if fold_ids.size < 2:
        raise ValueError("Cross-validation needs at least two folds.")
    thresholds, accuracies = [], []
    for fold in fold_ids:
        held_out = f == fold
        threshold = best_threshold(d[~held_out], s[~held_out])
        thresholds.append(threshold)
        accuracies.append(accuracy_at(d[held_out], s[held_out], threshold))
    return CrossValidation(
        accuracy=float(np.mean(accuracies)),
        accuracy_std=float(np.std(accuracies, ddof=1)),
        thresholds=tuple(thresholds),
        fold_accuracies=tuple(accuracies),
    )


def summarize(distances: ArrayLike, same: ArrayLike, folds: ArrayLike, threshold: float) -> VerificationReport:
    """Report for a benchmark run at the operating ``threshold``.

    With more than one fold, accuracy is the k-fold cross-validated mean (with its std); with a
    single fold it is the accuracy at ``threshold`` and ``accuracy_std`` is None. AUC, EER and
    TAR@FAR=1e-3 are computed over all pairs.
    """
    d, s = _validate(distances, same)
    if np.unique(np.asarray(folds)).size > 1:
        cv = cross_validated_accuracy(d, s, folds)
        accuracy, accuracy_std = cv.accuracy, cv.accuracy_std
    else:
        accuracy, accuracy_std = accuracy_at(d, s, threshold), None
    return VerificationReport(
        accuracy=accuracy,
        accuracy_std=accuracy_std,
        auc=auc(d, s),
        eer=eer(d, s),
        tar_at_far_1e3=tar_at_far(d, s, 1e-3),
        threshold=float(threshold),
        pairs=int(d.size),
    )


def _validate(distances: ArrayLike, same: ArrayLike, both_classes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return (float64 distances, bool labels) after checking shapes and values."""
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same, dtype=bool)
    if d.ndim != 1 or d.shape != s.shape:
        raise ValueError(f"distances and same must be 1-D and of equal length, got shapes {d.shape} and {s.shape}.")
    if d.size == 0:
        raise ValueError("No pairs to evaluate.")
    if np.isnan(d).any() or np.isneginf(d).any():
        raise ValueError("distances must not contain NaN or -inf (use +inf for pairs without a face).")
    if both_classes and (s.all() or not s.any()):
        raise ValueError("This metric needs both same-person and different-person pairs.")
    return d, s


def _scores(d: np.ndarray) -> np.ndarray:
    """Similarity scores -distance, with +inf distances mapped just below the lowest finite score."""
    finite = d[np.isfinite(d)]
    floor = -(finite.max() + 1.0) if finite.size else 0.0
    return np.where(np.isfinite(d), -d, floor)
