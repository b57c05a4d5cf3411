"""Benchmark figures drawn with matplotlib's object API (Agg canvas, no pyplot global state)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from faceguard.evaluation.metrics import far_frr_at, roc


def plot_roc(
    distances: ArrayLike, same: ArrayLike, path: str | Path, title: str, threshold: float | None = None
) -> Path:
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


def plot_det(
    distances: ArrayLike, mated: ArrayLike, path: str | Path, title: str, thresholds: Mapping[str, float] | None = None
) -> Path:
    """Write a PNG: the open-set DET curve, FNIR against FPIR on log axes.

    ``distances`` are the probes' nearest-match distances (+inf for a miss at every threshold, which
    the curve never accepts) and ``mated`` marks the probes of enrolled people; each of ``thresholds``
    (label: threshold) is marked as an operating point. Rates of 0 are drawn at half the smallest
    non-zero rate. Returns the path.
    """
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(mated, dtype=bool)
    fpir, tpir, curve_thresholds = roc(d, s)
    fpir, tpir = fpir[curve_thresholds < np.inf], tpir[curve_thresholds < np.inf]
    fpir_floor, fnir_floor = 0.5 / np.count_nonzero(~s), 0.5 / np.count_nonzero(s)
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.plot(np.maximum(fpir, fpir_floor), np.maximum(1.0 - tpir, fnir_floor), color="tab:blue", label="DET")
    for (label, threshold), colour in zip((thresholds or {}).items(), ("tab:red", "tab:green", "tab:purple")):
        op_fpir, op_fnir = far_frr_at(d, s, threshold)
        axes.plot(
            [max(op_fpir, fpir_floor)],
            [max(op_fnir, fnir_floor)],
            "o",
            color=colour,
            label=f"{label} {threshold:.3f}: FPIR {op_fpir:.2%}, FNIR {op_fnir:.2%}",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(fpir_floor, 1.0)
    axes.set_ylim(fnir_floor, 1.0)
    axes.set_xlabel(f"FPIR: strangers matched to someone (log scale, {np.count_nonzero(~s)} non-mated probes)")
    axes.set_ylabel(f"FNIR: enrolled people missed (log scale, {np.count_nonzero(s)} mated probes)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower left", fontsize="small")
    axes.set_title(title)
    target = Path(path)
    figure.savefig(target, format="png", dpi=120)
    return target


def _draw_roc(axes: Axes, d: np.ndarray, s: np.ndarray, threshold: float | None) -> None:
    far, tar, _ = roc(d, s)
    floor = 0.5 / np.count_nonzero(~s)  # FAR 0 drawn at half the smallest non-zero FAR
    axes.plot(np.maximum(far, floor), tar, color="tab:blue", label="ROC")
    if threshold is not None:
        op_far, op_frr = far_frr_at(d, s, threshold)
        axes.plot(
            [max(op_far, floor)],
            [1.0 - op_frr],
            "o",
            color="tab:red",
            label=f"threshold {threshold:.3g}: FAR {op_far:.2%}, TAR {1.0 - op_frr:.2%}",
        )
    axes.set_xscale("log")
    axes.set_xlim(floor, 1.0)
    axes.set_ylim(0.0, 1.01)
    axes.set_xlabel("False accept rate (log scale)")
    axes.set_ylabel("True accept rate")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")


def _draw_histogram(axes: Axes, d: np.ndarray, s: np.ndarray, threshold: float | None) -> None:
    finite = np.isfinite(d)
    bins = np.histogram_bin_edges(d[finite], bins=50).tolist() if finite.any() else 10
    axes.hist(d[finite & s], bins=bins, alpha=0.6, color="tab:green", label="same person")
    axes.hist(d[finite & ~s], bins=bins, alpha=0.6, color="tab:orange", label="different people")
    if threshold is not None:
        axes.axvline(threshold, color="tab:red", linestyle="--", label="threshold")
    axes.set_title(f"Distances ({np.count_nonzero(~finite)} pairs without a face not shown)", fontsize="medium")
    axes.set_xlabel("Distance")
    axes.set_ylabel("Pairs")
    axes.legend()


def plot_training(rows: Sequence[Mapping[str, Any]], path: str | Path, title: str) -> Path:
    """Write a PNG of a training run from its metrics rows (``faceguard.training.loop`` columns):
    the loss (and the share of active triplets) per step, validation AUC and accuracy per epoch."""
    steps = [row for row in rows if row.get("loss") not in (None, "")]
    epochs = [row for row in rows if row.get("val_auc") not in (None, "")]
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    loss_axes, val_axes = figure.subplots(1, 2)
    step_numbers = [float(r["step"]) for r in steps]
    losses = [float(r["loss"]) for r in steps]
    loss_axes.plot(step_numbers, losses, color="tab:blue", alpha=0.25, linewidth=0.8)
    loss_axes.plot(step_numbers, _rolling_mean(losses), color="tab:blue", label=f"loss ({SMOOTHING}-step mean)")
    loss_axes.set_xlabel("Step")
    loss_axes.set_ylabel("Loss")
    active = [r for r in steps if r.get("active_fraction") not in (None, "")]
    if active:
        share = loss_axes.twinx()
        share.plot(
            [float(r["step"]) for r in active],
            _rolling_mean([float(r["active_fraction"]) for r in active]),
            color="tab:orange",
            label=f"active triplets ({SMOOTHING}-step mean)",
        )
        share.set_ylim(0, 1.05)
        share.set_ylabel("Share of active triplets")
        share.legend(loc="upper right")
    loss_axes.legend(loc="upper left")
    loss_axes.grid(True, alpha=0.3)
    for key, label in (("val_auc", "validation AUC"), ("val_accuracy", "validation accuracy")):
        val_axes.plot([float(r["epoch"]) for r in epochs], [float(r[key]) for r in epochs], "o-", label=label)
    val_axes.set_xlabel("Epoch (0 = before training)")
    val_axes.set_ylim(0.5, 1.0)
    val_axes.grid(True, alpha=0.3)
    val_axes.legend(loc="lower right")
    figure.suptitle(title)
    target = Path(path)
    figure.savefig(target, format="png", dpi=120)
    return target


SMOOTHING = 25  # steps averaged in the training curves (single batches are noisy)


def _rolling_mean(values: Sequence[float]) -> np.ndarray:
    """Trailing mean over up to SMOOTHING values (shorter at the start)."""
    cumulative = np.cumsum(np.insert(np.asarray(values, dtype=np.float64), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), SMOOTHING)
    ends = np.arange(1, len(values) + 1)
    return (cumulative[ends] - cumulative[ends - counts]) / counts


#: The liveness curve's panels: the key of each sweep in the curve and its title.
TURN_CURVE_PANELS = {
    "configured": "Turn limit, as configured",
    "with_nod": "Turn limit, a nod also accepted (the site's option)",
    "nose_offset_alone": "Turn limit, nose offset alone (no yaw ratio check)",
    "nod_limit": "Nod limit, nods accepted, turn as configured",
}


def plot_turn_curve(curve: Mapping[str, Any], path: str | Path, title: str, targets: tuple[float, float]) -> Path:
    """Write a PNG of ``faceguard bench-liveness``'s curve: APCER per attack type and BPCER against the
    challenge's ``turn`` (or ``nod``) limit, one panel per sweep of ``TURN_CURVE_PANELS``, with the
    configured limit and the target rates ``targets`` (APCER, BPCER) marked. Returns the path."""
    figure = Figure(figsize=(13, 9), layout="constrained")
    FigureCanvasAgg(figure)
    panels = figure.subplots(2, 2, sharey=True).ravel()
    for axes, (key, label) in zip(panels, TURN_CURVE_PANELS.items()):
        sweep = curve[key]
        limit = "nod" if "nod" in sweep else "turn"
        limits = np.asarray(sweep.get("nod", curve["turn"]), dtype=np.float64)
        configured = sweep.get("configured_nod", curve["configured_turn"])
        for kind, rates in sweep["apcer"].items():
            axes.plot(limits, _percent(rates), label=f"APCER {kind}")
        axes.plot(limits, _percent(sweep["bpcer"]), color="black", label="BPCER multi-pose")
        axes.axvline(configured, color="tab:red", linestyle="--", label=f"configured {limit} {configured}")
        axes.axhline(100 * targets[0], color="tab:gray", linestyle=":", label=f"APCER target {targets[0]:.0%}")
        axes.axhline(100 * targets[1], color="tab:gray", linestyle="-.", label=f"BPCER target {targets[1]:.0%}")
        axes.set_title(label, fontsize="medium")
        axes.set_xlabel(f"{limit} limit (inter-eye distances)")
        axes.set_ylabel("error rate (%)")
        axes.grid(True, alpha=0.3)
        axes.legend(loc="best", fontsize="small")
    figure.suptitle(title)
    target = Path(path)
    figure.savefig(target, format="png", dpi=120)
    return target


def _percent(rates: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if rate is None else 100 * rate for rate in rates], dtype=np.float64)
