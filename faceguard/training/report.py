"""What a finished run leaves beside its checkpoints: plots and a summary.json of the key figures."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from faceguard.evaluation.plots import plot_roc, plot_training
from faceguard.training.chips import ChipSet
from faceguard.training.export import read_checkpoint
from faceguard.training.loop import TrainConfig, validation_distances
from faceguard.vision.networks import build_network


def write_report(out: Path, val_set: ChipSet, config: TrainConfig) -> dict[str, Any]:
    """training.png (loss, active triplets, validation per epoch), roc.png (the best checkpoint on the
    validation pairs) and summary.json (untrained vs best figures); returns the summary."""
    with open(out / "metrics.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    miner = f", {config.miner} mining" if config.loss == "triplet" else ""
    plot_training(rows, out / "training.png", f"{config.architecture}, {config.loss} loss{miner}")
    best = read_checkpoint(out / "checkpoint-best.pt")
    model = build_network(config.architecture, pretrained=False)
    model.load_state_dict(best.state_dict)
    distances, same, _ = validation_distances(model, val_set, torch.device("cpu"), config.seed)
    plot_roc(
        distances,
        same,
        out / "roc.png",
        f"best epoch ({best.epoch}) on the validation identities",
        threshold=best.metrics["threshold"],
    )
    untrained = next(row for row in rows if row.get("val_auc"))
    summary = {
        "untrained_val_auc": float(untrained["val_auc"]),
        "untrained_val_accuracy": float(untrained["val_accuracy"]),
        "best_epoch": best.epoch,
        "best_val_auc": best.metrics["val_auc"],
        "best_val_accuracy": best.metrics["val_accuracy"],
        "threshold": best.metrics["threshold"],
        "best_val_head_accuracy": best.metrics.get("val_head_accuracy"),
        "steps": int(rows[-1]["step"]),
        "training_seconds": float(rows[-1]["elapsed_s"]),
        "validation_pairs": len(same),
        "config": asdict(config),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
