"""The training loop on a small synthetic set of identities: it learns, checkpoints, resumes and stops."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from faceguard.training.chips import ChipSet, ScanReport
from faceguard.training.loop import TrainConfig, embed, train
from faceguard.vision.align import ARCFACE_112_TEMPLATE

SIZE = 112


def synthetic_identities(identities: int, per_identity: int, seed: int) -> ChipSet:
    """Each identity is a smooth random pattern; its photos add noise and a small shift."""
    rng = np.random.default_rng(seed)
    chips, labels = [], []
    for label in range(identities):
        base = rng.uniform(0, 255, size=(8, 8, 3))
        pattern = np.kron(base, np.ones((SIZE // 8, SIZE // 8, 1)))
        for _ in range(per_identity):
            shifted = np.roll(pattern, rng.integers(-4, 5, size=2), axis=(0, 1))
            chips.append(np.clip(shifted + rng.normal(0, 25, shifted.shape), 0, 255).astype(np.uint8))
            labels.append(label)
    names = [f"person {label}" for label in range(identities)]
    report = ScanReport(identities=identities, images=len(chips), singletons=[], unreadable=[], no_face=[])
    return ChipSet(np.stack(chips), np.array(labels, np.int64), names, [Path(f"{i}.png") for i in labels], report)


@pytest.fixture(scope="module")
def data() -> tuple[ChipSet, ChipSet]:
    return synthetic_identities(6, 6, seed=1), synthetic_identities(4, 5, seed=2)


CONFIG = TrainConfig(
    architecture="small-facenet",
    input_size=SIZE,
    template=tuple(map(tuple, ARCFACE_112_TEMPLATE)),
    p=4,
    k=4,
    extra_negatives=2,
    batches_per_epoch=2,
    epochs=2,
    lr=2e-3,
    device="cpu",
    augment=False,
    patience=10,
)


def read_metrics(out: Path) -> list[dict[str, str]]:
    with open(out / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize(
    ("loss", "miner"), [("triplet", "semihard"), ("triplet", "batch-hard"), ("triplet", "all"), ("binary", "semihard")]
)
def test_a_run_validates_before_and_after_each_epoch_and_writes_its_files(tmp_path, data, loss, miner):
    records = list(train(replace(CONFIG, loss=loss, miner=miner), *data, tmp_path))
    validations = [r for r in records if r.validation is not None]
    assert [r.epoch for r in validations] == [0, 1, 2] and records[-1].stopped == "2 epochs done"
    assert sum(r.loss is not None for r in records) == 4 and records[-1].step == 4
    measured = "active_fraction" if loss == "triplet" else "pair_accuracy"
    assert all(0 <= getattr(r, measured) <= 1 for r in records if r.loss is not None)
    assert {"checkpoint-last.pt", "checkpoint-best.pt", "metrics.csv"} <= {p.name for p in tmp_path.iterdir()}
    checkpoint = torch.load(tmp_path / "checkpoint-last.pt", weights_only=False)
    assert checkpoint["format"] == "faceguard-checkpoint/1" and checkpoint["epoch"] == 2 and checkpoint["dim"] == 128
    assert (checkpoint["head_state_dict"] is not None) == (loss == "binary")
    assert all((v.validation.head_accuracy is not None) == (loss == "binary") for v in validations)
    assert loss != "binary" or 0 <= validations[-1].validation.head_accuracy <= 1
    assert len(read_metrics(tmp_path)) == 4 + 3


@pytest.mark.slow
def test_triplet_training_lowers_the_loss_and_separates_held_out_identities(tmp_path, data):
    config = replace(CONFIG, epochs=6, batches_per_epoch=6)
    records = list(train(config, *data, tmp_path))
    losses = [r.loss for r in records if r.loss is not None]
    validations = [r.validation for r in records if r.validation is not None]
    assert np.mean(losses[-6:]) < np.mean(losses[:6])
    assert max(v.auc for v in validations[1:]) > validations[0].auc


def test_resuming_continues_where_the_run_stopped_and_matches_an_uninterrupted_run(tmp_path, data):
    whole = list(train(CONFIG, *data, tmp_path / "whole"))
    for record in train(CONFIG, *data, tmp_path / "part"):
        if record.epoch == 1 and record.validation is not None:
            break  # interrupted after the first epoch's checkpoint
    resumed = list(train(CONFIG, *data, tmp_path / "part", resume=tmp_path / "part" / "checkpoint-last.pt"))
    assert resumed[0].step == 3 and resumed[-1].step == whole[-1].step == 4
    assert resumed[-1].validation.auc == pytest.approx(whole[-1].validation.auc, abs=1e-6)


def test_early_stopping_and_the_time_limit_end_a_run(tmp_path, data):
    frozen = list(
        train(replace(CONFIG, lr=0.0, epochs=20, patience=2, batches_per_epoch=1), *data, tmp_path / "frozen")
    )
    assert frozen[-1].stopped.startswith("early stopping") and frozen[-1].epoch < 20
    timed = list(train(replace(CONFIG, epochs=50, time_limit=1e-9), *data, tmp_path / "timed"))
    assert timed[-1].stopped.startswith("time limit") and timed[-1].step == 1


def test_embed_returns_unit_vectors(data):
    from faceguard.vision.networks import build_network

    embeddings = embed(build_network("small-facenet", pretrained=False), data[1].chips, torch.device("cpu"))
    assert embeddings.shape == (20, 128) and np.allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)
