"""Batches for metric learning: P identities × K images each, so every anchor has positives."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

from faceguard.core.errors import InvalidInputError


class PKSampler(Sampler[list[int]]):
    """Batches of P identities × K images (FaceNet / batch-hard style) so every anchor has positives.

    Each batch draws P distinct identities uniformly among those with at least two images (all of
    them when fewer than ``p`` qualify), then K of each identity's images without replacement, or all
    of its images when it has fewer than K (never duplicates: a repeated image would be a positive at
    distance 0). ``extra_negatives`` images are appended from identities outside the batch's P, one
    image per identity so that none of them has a positive in the batch and serves only as a
    negative: single-photo identities first (they are never drawn among the P), then identities with
    more photos; fewer are appended when fewer such identities exist. Indices refer to ``labels``;
    each batch lists its P groups, then its extra negatives. Every ``__iter__`` starts a new epoch
    with new draws; the sequence of epochs is the same for the same seed.
    """

    def __init__(
        self, labels: Sequence[int] | np.ndarray, p: int, k: int, batches: int, seed: int = 0, extra_negatives: int = 0
    ) -> None:
        if p < 2 or k < 2:
            raise InvalidInputError(f"A batch needs at least 2 identities of at least 2 images each, got p={p}, k={k}.")
        if batches < 1 or extra_negatives < 0:
            raise InvalidInputError(
                f"Expected at least one batch and a non-negative number of extra negatives, got "
                f"batches={batches}, extra_negatives={extra_negatives}."
            )
        images: dict[int, list[int]] = {}
        for index, label in enumerate(labels):
            images.setdefault(label, []).append(index)
        self._groups = [np.array(group, dtype=np.int64) for group in images.values() if len(group) >= 2]
        self._singles = np.array([group[0] for group in images.values() if len(group) == 1], dtype=np.int64)
        if len(self._groups) < 2:
            raise ValueError(
                f"Metric learning needs at least 2 identities with 2 or more images; these labels have "
                f"{len(self._groups)}."
            )
        self.p = min(p, len(self._groups))  # all eligible identities when fewer than p
        self.k, self.batches, self.extra_negatives = k, batches, extra_negatives
        self._seed, self._epoch = seed, 0

    def __len__(self) -> int:
        """Batches per epoch."""
        return self.batches

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self._seed, self._epoch])
        self._epoch += 1
        for _ in range(self.batches):
            chosen = rng.choice(len(self._groups), size=self.p, replace=False)
            yield np.concatenate([self._draw(rng, group) for group in chosen] + [self._extra(rng, chosen)]).tolist()

    def _draw(self, rng: np.random.Generator, group: int) -> np.ndarray:
        images = self._groups[group]
        return rng.choice(images, size=min(self.k, len(images)), replace=False)

    def _extra(self, rng: np.random.Generator, chosen: np.ndarray) -> np.ndarray:
        """Up to extra_negatives images, one per identity outside ``chosen``, single-photo ones first."""
        singles = rng.choice(self._singles, size=min(self.extra_negatives, len(self._singles)), replace=False)
        others = rng.permutation(np.setdiff1d(np.arange(len(self._groups)), chosen))
        others = others[: self.extra_negatives - len(singles)]
        return np.array([*singles, *(rng.choice(self._groups[group]) for group in others)], dtype=np.int64)
