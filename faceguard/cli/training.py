"""``faceguard train``: learn an encoder from a folder of identities (triplet loss or binary head)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

#: Learning rates that worked here: from scratch, and a gentle fine-tune of pretrained weights.
DEFAULT_LR = {"small-facenet": 2e-3, "dlib-resnet": 2e-6}


def add_training_commands(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train an encoder on DATA/Name/*.jpg (several photos per person)",
        description="Learn a face encoder with the triplet loss (semi-hard / batch-hard / all-triplet mining) "
        "or the binary-classification head, validating on held-out identities.",
    )
    train.add_argument("data", type=Path, metavar="DATA", help="a folder per identity with that person's photos")
    train.add_argument(
        "--model",
        dest="architecture",
        default="small-facenet",
        type=architecture_name,
        choices=["small-facenet", "dlib-resnet"],
        help="small (small-facenet) from scratch, or fine-tune dlib-resnet",
    )
    train.add_argument("--loss", choices=["triplet", "binary"], default="triplet")
    train.add_argument("--miner", choices=["semihard", "batch-hard", "all"], default="semihard")
    train.add_argument("--margin", type=float, default=0.2, help="triplet margin alpha")
    train.add_argument("--aligned", choices=["arcface112"], help="DATA holds aligned crops in this layout")
    train.add_argument("--validation", type=float, default=8, help="held-out identities: a count, or a fraction < 1")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batches", type=int, default=40, help="batches per epoch")
    train.add_argument("--p", type=int, default=8, help="identities per batch")
    train.add_argument("--k", type=int, default=8, help="photos per identity in a batch")
    train.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw")
    train.add_argument("--lr", type=float, help="learning rate (default: 2e-3 from scratch, 2e-6 fine-tuning)")
    train.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    train.add_argument("--freeze-stages", type=int, default=0, help="dlib-resnet: keep the stem and N levels fixed")
    train.add_argument("--freeze-encoder", action="store_true", help="binary loss: train only the head")
    train.add_argument("--patience", type=int, default=6, help="early stopping after N epochs without improvement")
    train.add_argument("--time-limit", type=float, metavar="MINUTES", help="stop after this much training time")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, default=Path("runs/train"), help="checkpoints, metrics.csv and plots")
    train.add_argument("--resume", type=Path, metavar="CHECKPOINT", help="continue a run from its checkpoint")
    train.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps")
    train.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: the cores other programs leave free)"
    )
    train.set_defaults(run=run_train)


def architecture_name(text: str) -> str:
    return "small-facenet" if text == "small" else text


def run_train(args: argparse.Namespace) -> int:
    from faceguard.training.chips import make_chip_set
    from faceguard.training.loop import TrainConfig, train
    from faceguard.training.photos import scan_folder, split_identities
    from faceguard.training.report import write_report
    from faceguard.vision.device import set_threads
    from faceguard.vision.networks import ARCHITECTURES
    from faceguard.vision.pipeline import FacePipeline

    set_threads(args.threads)
    size, template = ARCHITECTURES[args.architecture]
    validation = int(args.validation) if args.validation >= 1 else args.validation
    train_images, val_images = split_identities(scan_folder(args.data), validation, seed=args.seed)
    pipeline = None if args.aligned else FacePipeline.load(device=args.device, threads=args.threads)
    chip_sets = []
    for name, images in (("training", train_images), ("validation", val_images)):
        with tqdm(total=len(images), desc=f"aligning {name} photos", unit="photo") as bar:
            chips = make_chip_set(
                images,
                size,
                np.asarray(template, np.float32),
                aligned=args.aligned,
                pipeline=pipeline,
                progress=lambda done, total: bar.update(done - bar.n),
            )
        print(f"{name}: {chips.report.summary()}")
        chip_sets.append(chips)
    train_set, val_set = chip_sets
    config = TrainConfig(
        architecture=args.architecture,
        input_size=size,
        template=template,
        loss=args.loss,
        miner=args.miner,
        margin=args.margin,
        p=args.p,
        k=args.k,
        batches_per_epoch=args.batches,
        epochs=args.epochs,
        optimizer=args.optimizer,
        lr=DEFAULT_LR[args.architecture] if args.lr is None else args.lr,
        schedule=args.schedule,
        freeze_stages=args.freeze_stages,
        freeze_encoder=args.freeze_encoder,
        patience=args.patience,
        time_limit=args.time_limit * 60 if args.time_limit else None,
        seed=args.seed,
        device=args.device,
    )
    last = None
    with tqdm(total=config.epochs * config.batches_per_epoch, desc="training", unit="step") as bar:
        for last in train(config, train_set, val_set, args.out, resume=args.resume):
            bar.update(last.step - bar.n)
            bar.set_postfix(describe_progress(last), refresh=False)
            if last.validation is not None:
                head = last.validation.head_accuracy
                bar.write(
                    f"epoch {last.epoch}: validation AUC {last.validation.auc:.4f}, accuracy "
                    f"{last.validation.accuracy:.2%}"
                    + (f", head {head:.2%}" if head is not None else "")
                    + ("  (best)" if last.best else "")
                )
    print(last.stopped if last is not None and last.stopped else "stopped")
    print(json.dumps(write_report(args.out, val_set, config), indent=2))
    return 0


def describe_progress(progress: Any) -> dict[str, str]:
    fields = {"loss": progress.loss, "active": progress.active_fraction, "pairs ok": progress.pair_accuracy}
    return {name: f"{value:.3f}" for name, value in fields.items() if value is not None}
