"""Benchmark figures drawn with matplotlib's object API (Agg canvas, no pyplot global state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from faceguard.evaluation.metrics import far_frr_at, roc


def plot_roc(distances: ArrayLike, same: ArrayLike, path: str | Path, title: str,
             threshold: float | None = None) -> Path:
    """Write a PNG: ROC curve (log FAR axis) and a same/different distance histogram.

    ``threshold``, when given, is marked as the operating point on both panels. Pairs with an
    infinite distance (no face) are left out of the histogram and counted in its title.
    Returns the written path.
    """
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same, dtype=bool)
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    roc_axes, hist_axes = figure.subplots(1, 2)
    _draw_roc(roc_axes, d, s, threshold)
    _draw_histogram(hist_axes, d, s, threshold)
    figure.suptitle(title)
    target = Path(path)
    figure.savefig(target, format="png", dpi=120)
    return target


def _draw_roc(axes: Axes, d: np.ndarray, s: np.ndarray, threshold: float | None) -> None:
    far, tar, _ = roc(d, s)
    floor = 0.5 / np.count_nonzero(~s)  # FAR 0 drawn at half the smallest non-zero FAR
    axes.plot(np.maximum(far, floor), tar, color="tab:blue", label="ROC")
    if threshold is not None:
        op_far, op_frr = far_frr_at(d, s, threshold)
        axes.plot([max(op_far, floor)], [1.0 - op_frr], "o", color="tab:red",
                  label=f"threshold {threshold:.3g}: FAR {op_far:.2%}, TAR {1.0 - op_frr:.2%}")
    axes.set_xscale("log")
    axes.set_xlim(floor, 1.0)
    axes.set_ylim(0.0, 1.01)
    axes.set_xlabel("False accept rate (log scale)")
    axes.set_ylabel("True accept rate")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")


def _draw_histogram(axes: Axes, d: np.ndarray, s: np.ndarray, threshold: float | None) -> None:
    finite = np.isfinite(d)
    bins = np.histogram_bin_edges(d[finite], bins=50) if finite.any() else 10
    axes.hist(d[finite & s], bins=bins, alpha=0.6, color="tab:green", label="same person")
    axes.hist(d[finite & ~s], bins=bins, alpha=0.6, color="tab:orange", label="different people")
    if threshold is not None:
        axes.axvline(threshold, color="tab:red", linestyle="--", label="threshold")
    axes.set_title(f"Distances ({np.count_nonzero(~finite)} pairs without a face not shown)", fontsize="medium")
    axes.set_xlabel("Distance")
    axes.set_ylabel("Pairs")
    axes.legend()
