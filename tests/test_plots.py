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
