from __future__ import annotations

from pathlib import Path

import numpy as np

from faceguard.evaluation.plots import plot_roc

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def synthetic() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    distances = np.concatenate([rng.normal(0.8, 0.2, 300), rng.normal(1.4, 0.2, 300)])
    distances[[5, 400]] = np.inf
    return distances, np.arange(600) < 300


def test_plot_roc_writes_png(tmp_path: Path) -> None:
    distances, same = synthetic()
    path = plot_roc(distances, same, tmp_path / "roc.png", "Synthetic model", threshold=1.1)
    assert path == tmp_path / "roc.png"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000


def test_plot_roc_without_threshold(tmp_path: Path) -> None:
    distances, same = synthetic()
    path = plot_roc(distances, same, str(tmp_path / "plain.png"), "No operating point")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_training_writes_png_from_metrics_rows(tmp_path: Path) -> None:
    from faceguard.evaluation.plots import _rolling_mean, plot_training

    rows = [{"epoch": "0", "step": "0", "val_auc": "0.55", "val_accuracy": "0.54"}]
    rows += [
        {"epoch": "1", "step": str(s), "loss": str(0.2 - s / 1000), "active_fraction": "0.5"} for s in range(1, 41)
    ]
    rows += [{"epoch": "1", "step": "40", "val_auc": "0.7", "val_accuracy": "0.66"}]
    path = plot_training(rows, tmp_path / "training.png", "run")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    np.testing.assert_allclose(_rolling_mean([1.0, 3.0, 5.0]), [1.0, 2.0, 3.0])


def test_plot_det_writes_png_with_operating_points(tmp_path: Path) -> None:
    from faceguard.evaluation.plots import plot_det

    distances, mated = synthetic()
    path = plot_det(distances, mated, tmp_path / "det.png", "Synthetic 1:N", {"1:1": 1.1, "site": 0.9})
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert plot_det(distances, mated, tmp_path / "plain.png", "No points").read_bytes().startswith(PNG_SIGNATURE)
