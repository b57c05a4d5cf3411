"""PKSampler: P identities × K images per batch, extra negatives from other identities, reproducible."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from faceguard.training.sampler import PKSampler

# Identity → number of images; the labels are shuffled so that identities' indices interleave.
COUNTS = {0: 5, 1: 3, 2: 2, 3: 6, 4: 1, 5: 1, 6: 4, 7: 1}
ELIGIBLE = {label for label, count in COUNTS.items() if count >= 2}
SINGLES = {label for label, count in COUNTS.items() if count == 1}
_ORDERED = [label for label, count in COUNTS.items() for _ in range(count)]
LABELS = [_ORDERED[i] for i in torch.randperm(len(_ORDERED), generator=torch.Generator().manual_seed(0)).tolist()]


def check_batch(batch: list[int], p: int, k: int, extra: int) -> tuple[set[int], list[int]]:
    """Asserts one batch's structure; returns its P identities and its extra negatives' identities."""
    assert all(type(i) is int for i in batch) and len(batch) == len(set(batch)), "duplicate index"
    per_identity = Counter(LABELS[i] for i in batch)
    chosen = {label for label, count in per_identity.items() if count >= 2}
    assert len(chosen) == p and chosen <= ELIGIBLE
    assert all(per_identity[label] == min(k, COUNTS[label]) for label in chosen)
    size = sum(per_identity[label] for label in chosen)
    assert {LABELS[i] for i in batch[:size]} == chosen, "the P groups come first"
    extras = [LABELS[i] for i in batch[size:]]
    assert len(extras) == extra and not set(extras) & chosen
    return chosen, extras


def test_batches_hold_k_images_of_p_identities_plus_single_photo_negatives():
    sampler = PKSampler(LABELS, p=3, k=4, batches=30, seed=0, extra_negatives=2)
    seen = set()
    for batch in sampler:
        chosen, extras = check_batch(batch, p=3, k=4, extra=2)
        assert set(extras) <= SINGLES  # three single-photo identities cover the two extras
        seen |= chosen
    assert seen == ELIGIBLE


def test_extra_negatives_beyond_the_singles_come_one_per_other_identity():
    for batch in PKSampler(LABELS, p=3, k=2, batches=20, extra_negatives=4):
        _, extras = check_batch(batch, p=3, k=2, extra=4)
        assert set(extras) >= SINGLES and len(set(extras)) == 4
    for batch in PKSampler(LABELS, p=3, k=2, batches=20, extra_negatives=10):
        check_batch(batch, p=3, k=2, extra=5)  # 3 singles + the 2 identities not drawn


def test_without_extra_negatives_single_photo_identities_never_appear():
    for batch in PKSampler(LABELS, p=4, k=3, batches=20):
        check_batch(batch, p=4, k=3, extra=0)


def test_p_beyond_the_eligible_identities_uses_all_of_them():
    sampler = PKSampler(LABELS, p=9, k=3, batches=5, extra_negatives=5)
    assert sampler.p == len(ELIGIBLE)
    for batch in sampler:
        chosen, extras = check_batch(batch, p=len(ELIGIBLE), k=3, extra=len(SINGLES))
        assert chosen == ELIGIBLE and set(extras) == SINGLES


def test_epochs_are_reproducible_for_a_seed_and_differ_from_each_other():
    def epochs(seed: int) -> list[list[list[int]]]:
        sampler = PKSampler(LABELS, p=3, k=2, batches=6, seed=seed, extra_negatives=1)
        return [list(sampler), list(sampler)]

    first, second = epochs(1)
    assert epochs(1) == [first, second]
    assert first != second and epochs(2)[0] != first
    assert len(PKSampler(LABELS, p=3, k=2, batches=6)) == len(first) == 6


def test_works_as_a_data_loader_batch_sampler():
    loader = DataLoader(TensorDataset(torch.tensor(LABELS)), batch_sampler=PKSampler(LABELS, 2, 2, batches=3))
    batches = [labels for (labels,) in loader]
    assert len(batches) == 3 and all(sorted(Counter(b.tolist()).values()) == [2, 2] for b in batches)


@pytest.mark.parametrize(
    ("labels", "p", "k", "message"),
    [
        ([0, 0, 1, 2, 3], 2, 2, "at least 2 identities with 2 or more images; these labels have 1"),
        (LABELS, 1, 2, "at least 2 identities of at least 2 images"),
        (LABELS, 2, 1, "at least 2 identities of at least 2 images"),
    ],
)
def test_impossible_batches_are_refused(labels, p, k, message):
    with pytest.raises(ValueError, match=message):
        PKSampler(labels, p=p, k=k, batches=1)


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="at least one batch"):
        PKSampler(LABELS, 2, 2, batches=0)
    with pytest.raises(ValueError, match="non-negative number of extra negatives"):
        PKSampler(LABELS, 2, 2, batches=1, extra_negatives=-1)
