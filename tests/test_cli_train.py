"""``faceguard train`` end to end on a small folder of aligned crops, and its messages for bad data."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from faceguard.cli import main


def write_identity(folder, name: str, photos: int, rng: np.random.Generator) -> None:
    """Aligned 112x112 crops of one synthetic identity: a fixed smooth pattern plus noise per photo."""
    (folder / name).mkdir(parents=True)
    base = np.kron(rng.uniform(0, 255, (8, 8, 3)), np.ones((14, 14, 1)))
    for index in range(photos):
        crop = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / name / f"{name}_{index:04d}.png"), crop)


@pytest.fixture
def dataset(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "people"
    for name in ("Ada", "Bob", "Cy", "Di", "Ed"):
        write_identity(folder, name, 4, rng)
    write_identity(folder, "Flo", 1, rng)  # one photo: a negative, never an anchor
    (folder / "Bob" / "Bob_broken.png").write_bytes(b"\x89PNG truncated")
    return folder


def train_args(data, out, *extra: str) -> list[str]:
    return [
        "train",
        str(data),
        "--aligned",
        "arcface112",
        "--model",
        "small",
        "--epochs",
        "1",
        "--batches",
        "2",
        "--p",
        "2",
        "--k",
        "2",
        "--validation",
        "2",
        "--device",
        "cpu",
        "--out",
        str(out),
        *extra,
    ]


def test_train_runs_reports_bad_photos_and_writes_checkpoints_plots_and_a_summary(dataset, tmp_path, capsys):
    assert main(train_args(dataset, tmp_path / "run")) == 0
    out = capsys.readouterr().out
    assert "could not be used" in out and "Bob_broken.png" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == 2 and 0 <= summary["best_val_auc"] <= 1 and summary["config"]["miner"] == "semihard"
    for name in ("checkpoint-best.pt", "checkpoint-last.pt", "metrics.csv", "training.png", "roc.png"):
        assert (tmp_path / "run" / name).stat().st_size > 0


def test_a_trained_checkpoint_exports_and_loads_as_a_model(dataset, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FACEGUARD_MODELS_DIR", str(tmp_path / "models"))
    assert main(train_args(dataset, tmp_path / "run")) == 0
    assert main(["export", str(tmp_path / "run" / "checkpoint-best.pt"), "--name", "site-small"]) == 0
    capsys.readouterr()
    assert main(["models"]) == 0 and "site-small@1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder: folder.mkdir(), "empty"),
        (lambda folder: write_identity(folder, "Ada", 4, np.random.default_rng(1)), "Ada"),
    ],
    ids=["empty folder", "a single identity"],
)
def test_unusable_datasets_get_a_clear_message_and_exit_code_2(tmp_path, capsys, make, message):
    folder = tmp_path / "people"
    make(folder)
    assert main(train_args(folder, tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "run" / "checkpoint-last.pt").exists()
