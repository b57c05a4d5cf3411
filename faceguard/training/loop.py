"""The training loop, as a generator of progress records: the CLI shows them with a progress bar and a
GUI can run the same generator in a worker thread.

One step: a P x K batch → embeddings f(x), L2-normalised → a miner picks (anchor, positive, negative)
triplets → triplet loss (or, for ``loss="binary"``, the binary-classification head over all pairs of
the batch) → optimiser step. After each epoch the encoder is evaluated on verification pairs of
held-out identities (AUC, accuracy at the best threshold); the best epoch is kept, training stops
early when validation accuracy has not improved for ``patience`` epochs or when ``time_limit`` runs
out. Checkpoints hold everything needed to resume and to export.
"""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceguard.core.errors import FaceGuardError
from faceguard.evaluation.metrics import accuracy_at, auc, best_threshold
from faceguard.training.chips import ChipSet
from faceguard.training.dataset import ChipDataset, verification_pairs
from faceguard.training.export import CHECKPOINT_FORMAT, load_checkpoint
from faceguard.training.finetune import freeze_stages
from faceguard.training.losses import BinaryHead, BinaryPairLoss, TripletLoss
from faceguard.training.miners import AllTripletsMiner, BatchHardMiner, SemiHardMiner
from faceguard.training.sampler import PKSampler
from faceguard.vision.device import select_device
from faceguard.vision.networks import build_network

MINERS = {"semihard": SemiHardMiner, "batch-hard": BatchHardMiner, "all": AllTripletsMiner}
METRICS_COLUMNS = (
    "epoch",
    "step",
    "elapsed_s",
    "loss",
    "active_fraction",
    "pair_accuracy",
    "lr",
    "val_auc",
    "val_accuracy",
    "val_threshold",
    "val_head_accuracy",
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run (saved in every checkpoint)."""

    architecture: str = "small-facenet"
    input_size: int = 112
    template: tuple[tuple[float, float], ...] = ()
    loss: Literal["triplet", "binary"] = "triplet"
    miner: Literal["semihard", "batch-hard", "all"] = "semihard"
    margin: float = 0.2
    p: int = 8  # identities per batch
    k: int = 8  # photos per identity
    extra_negatives: int = 4  # photos of other identities per batch (single-photo identities first)
    batches_per_epoch: int = 40
    epochs: int = 30
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = 2e-3
    weight_decay: float = 5e-4
    schedule: Literal["cosine", "constant"] = "cosine"
    freeze_stages: int = 0  # dlib-resnet: stem and first residual levels kept fixed
    freeze_encoder: bool = False  # binary loss: train the head only, on a fixed encoder
    augment: bool = True
    patience: int = 6  # epochs without a better validation accuracy before stopping
    time_limit: float | None = None  # seconds of training (validation excluded)
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # mixed precision, used on CUDA only


@dataclass(frozen=True)
class Validation:
    auc: float
    accuracy: float  # at the best threshold on these pairs
    threshold: float
    pairs: int
    head_accuracy: float | None = None  # binary loss: the head's verdicts (p >= 0.5) on the same pairs


@dataclass(frozen=True)
class Progress:
    """One training step (``validation`` is set at the end of an epoch, and once before training)."""

    epoch: int
    step: int
    elapsed: float
    loss: float | None = None
    active_fraction: float | None = None  # triplet loss: share of mined triplets with a positive loss
    pair_accuracy: float | None = None  # binary loss: share of the batch's pairs classified right
    lr: float | None = None
    validation: Validation | None = None
    best: bool = False
    stopped: str | None = None  # why training ended, on the last record


@dataclass
class _Run:
    """The live objects of a run."""

    model: nn.Module
    head: BinaryHead | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    device: torch.device
    dim: int


@dataclass
class _State:
    epoch: int = 0
    step: int = 0
    elapsed: float = 0.0
    best_accuracy: float = -1.0
    stale_epochs: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def train(
    config: TrainConfig, train_set: ChipSet, val_set: ChipSet, out_dir: Path, resume: Path | None = None
) -> Iterator[Progress]:
    """Train, yielding a Progress per step; writes checkpoint-last.pt, checkpoint-best.pt and
    metrics.csv into ``out_dir`` as it goes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _seed_everything(config.seed)
    run = _build(config)
    state = _State()
    if resume is not None:
        state = _restore(resume, run)
    else:
        first = validate(run.model, val_set, run.device, config, run.head)
        state.history.append(_row(state, validation=first))
        _write_metrics(out_dir, state.history)
        yield Progress(0, 0, 0.0, validation=first)

    dataset = ChipDataset(train_set.chips, train_set.labels, augment=config.augment, seed=config.seed)
    step_loss = _step_function(config, run)
    stopped = None
    while stopped is None and state.epoch < config.epochs:
        sampler = PKSampler(
            train_set.labels,
            config.p,
            config.k,
            config.batches_per_epoch,
            seed=config.seed + state.epoch,
            extra_negatives=config.extra_negatives,
        )
        run.model.train()
        for batch in sampler:
            started = time.perf_counter()
            images, labels = _collate(dataset, batch, run.device)
            record = step_loss(images, labels)
            state.step += 1
            state.elapsed += time.perf_counter() - started
            lr = float(run.scheduler.get_last_lr()[0])
            progress = Progress(state.epoch + 1, state.step, state.elapsed, lr=lr, **record)
            state.history.append(_row(state, progress=progress))
            if config.time_limit is not None and state.elapsed >= config.time_limit:
                stopped = f"time limit of {config.time_limit:.0f} s reached"
                break
            yield progress
        state.epoch += 1
        validation = validate(run.model, val_set, run.device, config, run.head)
        best = validation.accuracy > state.best_accuracy
        state.best_accuracy, state.stale_epochs = (
            (validation.accuracy, 0) if best else (state.best_accuracy, state.stale_epochs + 1)
        )
        if stopped is None and state.stale_epochs >= config.patience:
            stopped = f"early stopping: no better validation accuracy for {config.patience} epochs"
        if stopped is None and state.epoch >= config.epochs:
            stopped = f"{config.epochs} epochs done"
        state.history.append(_row(state, validation=validation))
        checkpoint = _checkpoint(config, run, state, validation)
        torch.save(checkpoint, out_dir / "checkpoint-last.pt")
        if best:
            torch.save(checkpoint, out_dir / "checkpoint-best.pt")
        _write_metrics(out_dir, state.history)
        yield Progress(state.epoch, state.step, state.elapsed, validation=validation, best=best, stopped=stopped)


def _build(config: TrainConfig) -> _Run:
    device = select_device(config.device)
    model = build_network(config.architecture, pretrained=True).to(device)
    if config.freeze_stages:
        freeze_stages(model, config.freeze_stages)
    dim = _embedding_dim(model, config, device)
    head = BinaryHead(dim).to(device) if config.loss == "binary" else None
    if head is not None and config.freeze_encoder:
        model.requires_grad_(False)
    parameters = [p for p in [*model.parameters(), *(head.parameters() if head else [])] if p.requires_grad]
    if not parameters:
        raise FaceGuardError("Nothing to train: every parameter is frozen.")
    optimizer = _optimizer(config, parameters)
    total_steps = config.epochs * config.batches_per_epoch
    scheduler = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)
        if config.schedule == "cosine"
        else torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    )
    scaler = torch.amp.GradScaler("cuda", enabled=config.amp and device.type == "cuda")
    return _Run(model, head, optimizer, scheduler, scaler, device, dim)


def validate(
    model: nn.Module, chips: ChipSet, device: torch.device, config: TrainConfig, head: BinaryHead | None = None
) -> Validation:
    """Verification on every same-identity pair of ``chips`` and as many different-identity pairs: by
    distance at the best threshold, and by the binary head when there is one."""
    distances, same, pairs = validation_distances(model, chips, device, config.seed)
    threshold = best_threshold(distances, same)
    head_accuracy = None
    if head is not None:
        with torch.no_grad():
            a, b = (torch.from_numpy(pairs[index]).to(device) for index in (0, 1))
            head_accuracy = float(((head.probability(a, b) >= 0.5).cpu().numpy() == same).mean())
    return Validation(
        auc(distances, same), accuracy_at(distances, same, threshold), threshold, len(same), head_accuracy
    )


def validation_distances(
    model: nn.Module, chips: ChipSet, device: torch.device, seed: int
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Distances and same-person flags of the verification pairs of ``chips``, with the two
    embeddings of each pair (for the binary head)."""
    embeddings = embed(model, chips.chips, device)
    i, j, same = verification_pairs(chips.labels, seed=seed)
    first, second = embeddings[i], embeddings[j]
    return np.linalg.norm(first - second, axis=1), same, (first, second)


def embed(model: nn.Module, chips: np.ndarray, device: torch.device, batch: int = 128) -> np.ndarray:
    """L2-normalised embeddings (N, dim) of uint8 chips (N, S, S, 3), in eval mode."""
    was_training = model.training
    model.eval()
    parts = []
    with torch.no_grad():
        for start in range(0, len(chips), batch):
            x = torch.from_numpy(chips[start : start + batch]).to(device).permute(0, 3, 1, 2).float()
            parts.append(F.normalize(model(x).float(), dim=1).cpu().numpy())
    model.train(was_training)
    return np.concatenate(parts) if parts else np.empty((0, 0), np.float32)


class StepFigures(TypedDict, total=False):
    """What one training step measured: the Progress fields it fills."""

    loss: float
    active_fraction: float
    pair_accuracy: float


def _step_function(config: TrainConfig, run: _Run) -> Callable[[torch.Tensor, torch.Tensor], StepFigures]:
    """The loss-specific forward/backward of one batch, returning the Progress fields it measured."""
    triplet_loss, miner = (
        TripletLoss(config.margin),
        MINERS[config.miner](**({"margin": config.margin} if config.miner == "semihard" else {})),
    )
    pair_loss = BinaryPairLoss(run.head) if run.head is not None else None

    def step(images: torch.Tensor, labels: torch.Tensor) -> StepFigures:
        run.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(run.device.type, enabled=run.scaler.is_enabled()):
            embeddings = F.normalize(run.model(images).float(), dim=1)
        if pair_loss is not None:
            result = pair_loss(embeddings, labels)
            figures = StepFigures(pair_accuracy=result.accuracy)
        else:
            result = triplet_loss(embeddings, miner(embeddings, labels))
            figures = StepFigures(active_fraction=result.active_fraction)
        run.scaler.scale(result.loss).backward()
        run.scaler.step(run.optimizer)
        run.scaler.update()
        run.scheduler.step()
        figures["loss"] = float(result.loss.detach())
        return figures

    return step


def _collate(dataset: ChipDataset, batch: list[int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    items = [dataset[index] for index in batch]
    images = torch.stack([image for image, _ in items]).to(device)
    labels = torch.as_tensor([label for _, label in items], dtype=torch.long, device=device)
    return images, labels


def _optimizer(config: TrainConfig, parameters: list[nn.Parameter]) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay, nesterov=True)
    return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)


def _embedding_dim(model: nn.Module, config: TrainConfig, device: torch.device) -> int:
    with torch.no_grad():
        was_training = model.training
        model.eval()
        dim = model(torch.zeros(1, 3, config.input_size, config.input_size, device=device)).shape[1]
        model.train(was_training)
    return int(dim)


def _checkpoint(config: TrainConfig, run: _Run, state: _State, validation: Validation) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "architecture": config.architecture,
        "state_dict": run.model.state_dict(),
        "head_state_dict": run.head.state_dict() if run.head is not None else None,
        "input_size": config.input_size,
        "template": [list(point) for point in config.template],
        "dim": run.dim,
        "normalize": True,
        "epoch": state.epoch,
        "config": asdict(config),
        "metrics": {
            "threshold": validation.threshold,
            "val_auc": validation.auc,
            "val_accuracy": validation.accuracy,
            "val_head_accuracy": validation.head_accuracy,
            "best_val_accuracy": state.best_accuracy,
        },
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "state": asdict(state),
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
    }


def _restore(path: Path, run: _Run) -> _State:
    """Continue a run from its checkpoint: weights, optimiser, schedule, counters and random state."""
    checkpoint = load_checkpoint(path, run.device)
    run.model.load_state_dict(checkpoint["state_dict"])
    if run.head is not None and checkpoint.get("head_state_dict") is not None:
        run.head.load_state_dict(checkpoint["head_state_dict"])
    run.optimizer.load_state_dict(checkpoint["optimizer"])
    run.scheduler.load_state_dict(checkpoint["scheduler"])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    np.random.set_state(checkpoint["rng"]["numpy"])
    random.setstate(checkpoint["rng"]["python"])
    return _State(**checkpoint["state"])


def _row(state: _State, progress: Progress | None = None, validation: Validation | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"epoch": state.epoch, "step": state.step, "elapsed_s": round(state.elapsed, 3)}
    if progress is not None:
        row.update(
            epoch=progress.epoch,
            loss=progress.loss,
            active_fraction=progress.active_fraction,
            pair_accuracy=progress.pair_accuracy,
            lr=progress.lr,
        )
    if validation is not None:
        row.update(
            val_auc=validation.auc,
            val_accuracy=validation.accuracy,
            val_threshold=validation.threshold,
            val_head_accuracy=validation.head_accuracy,
        )
    return row


def _write_metrics(out_dir: Path, history: list[dict[str, Any]]) -> None:
    with open(out_dir / "metrics.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, METRICS_COLUMNS)
        writer.writeheader()
        writer.writerows(history)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
