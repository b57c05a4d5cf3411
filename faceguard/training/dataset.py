"""What the training loop feeds on: a torch dataset of chips (with augmentation) and verification pairs."""

from __future__ import annotations

import numpy as np
import torch


class ChipDataset(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    """(float32 tensor (3, S, S) in [0, 255], label) pairs; augment=True adds a random horizontal flip and
    small brightness/contrast jitter (seeded per item, no torchvision).

    The n-th fetch of item i draws its augmentation from the generator seeded with (seed, i, n), so a
    photo looks different each epoch, yet two datasets with the same seed fetched in the same order
    give identical tensors (a run is reproducible; with DataLoader workers, per worker process).
    """

    #: Brightness: the chip times a factor in [1 - B, 1 + B]; contrast: its distance from its mean
    #: grey level times a factor in [1 - C, 1 + C] (as torchvision's ColorJitter(B, C)).
    BRIGHTNESS = 0.1
    CONTRAST = 0.1

    def __init__(self, chips: np.ndarray, labels: np.ndarray, augment: bool = False, seed: int = 0) -> None:
        if chips.ndim != 4 or chips.shape[3] != 3 or chips.dtype != np.uint8:
            raise ValueError(f"chips must be a uint8 array (N, S, S, 3), got {chips.dtype} {chips.shape}")
        labels = np.asarray(labels)
        if labels.shape != (len(chips),):
            raise ValueError(f"labels must have shape ({len(chips)},), got {labels.shape}")
        self.chips = chips
        self.labels = labels.astype(np.int64)
        self.augment = augment
        self.seed = int(seed)
        self._fetches = np.zeros(len(chips), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.chips)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        index = int(index)
        chip = self.chips[index].astype(np.float32)
        if self.augment:
            rng = np.random.default_rng([self.seed, index % len(self), int(self._fetches[index])])
            self._fetches[index] += 1
            if rng.random() < 0.5:
                chip = chip[:, ::-1]
            grey = float((chip @ np.array([0.299, 0.587, 0.114], np.float32)).mean())
            contrast = rng.uniform(1 - self.CONTRAST, 1 + self.CONTRAST)
            brightness = rng.uniform(1 - self.BRIGHTNESS, 1 + self.BRIGHTNESS)
            chip = np.clip(((chip - grey) * contrast + grey) * brightness, 0.0, 255.0).astype(np.float32)
        tensor = torch.from_numpy(np.ascontiguousarray(chip.transpose(2, 0, 1), dtype=np.float32))
        return tensor, int(self.labels[index])


def verification_pairs(
    labels: np.ndarray, negatives_per_positive: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, same) for a verification test: every same-person pair i < j, then different-person
    pairs i < j drawn without repetition with ``seed``, round(positives x ratio) of them (or all there
    are). Each group is sorted by (i, j); i and j are int64, same is bool.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    if not np.isfinite(negatives_per_positive) or negatives_per_positive < 0:
        raise ValueError(f"negatives_per_positive must be >= 0, got {negatives_per_positive}")
    n = len(labels)
    positives = [np.empty(0, np.int64)]
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        first, second = np.triu_indices(len(members), 1)
        positives.append(members[first] * n + members[second])
    positive_keys = np.sort(np.concatenate(positives))
    available = n * (n - 1) // 2 - len(positive_keys)
    wanted = min(round(len(positive_keys) * negatives_per_positive), available)
    negative_keys = _negative_keys(labels, wanted, available, np.random.default_rng(seed))
    keys = np.concatenate([positive_keys, negative_keys]).astype(np.int64)
    same = np.zeros(len(keys), dtype=bool)
    same[: len(positive_keys)] = True
    return keys // max(n, 1), keys % max(n, 1), same


def _negative_keys(labels: np.ndarray, wanted: int, available: int, rng: np.random.Generator) -> np.ndarray:
    """``wanted`` distinct keys i * n + j (i < j, different labels), sorted."""
    n = len(labels)
    if wanted <= 0:
        return np.empty(0, np.int64)
    if n * (n - 1) // 2 <= 2_000_000 or 2 * wanted >= available:  # enumerate them all and choose
        first, second = np.triu_indices(n, 1)
        different = labels[first] != labels[second]
        keys = first[different].astype(np.int64) * n + second[different]
        return np.sort(rng.choice(keys, size=wanted, replace=False))
    chosen: set[int] = set()  # many people: rejection sampling, at least half the draws succeed
    while len(chosen) < wanted:
        draws = 2 * (wanted - len(chosen)) + 64
        a, b = rng.integers(0, n, draws), rng.integers(0, n, draws)
        ok = labels[a] != labels[b]
        low, high = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
        for key in (low.astype(np.int64) * n + high).tolist():
            if len(chosen) == wanted:
                break
            chosen.add(key)
    return np.sort(np.fromiter(chosen, dtype=np.int64, count=len(chosen)))
