"""Triplet miners: hand-computed batches, and agreement with naive loops over each miner's definition."""

from __future__ import annotations

from itertools import permutations

import pytest
import torch

from faceguard.training.miners import (
    AllTripletsMiner,
    BatchHardMiner,
    SemiHardMiner,
    squared_distances,
)

# Integer 2-D points (exact in float32). Squared distances:
#        0   1   2   3   4   5
#   0    0   1   4  18   4   9
#   1        0   5  13   1  10
#   2            0  10   8   1
#   3                0  10   9
#   4                    0  13
POINTS = torch.tensor([[0, 0], [1, 0], [0, 2], [3, 3], [2, 0], [0, 3]], dtype=torch.float32)
LABELS = torch.tensor([0, 0, 0, 2, 1, 1])


def as_set(triplets: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> set[tuple[int, int, int]]:
    a, p, n = triplets
    assert a.dtype == p.dtype == n.dtype == torch.long and len(a) == len(p) == len(n)
    found = list(zip(a.tolist(), p.tolist(), n.tolist()))
    assert len(found) == len(set(found)), "a triplet was returned twice"
    return set(found)


def random_batch(seed: int, size: int = 12, identities: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    embeddings = torch.nn.functional.normalize(torch.randn(size, 3, generator=generator), dim=1)
    return embeddings, torch.randint(identities, (size,), generator=generator)


def naive_pairs(labels: list[int]) -> list[tuple[int, int]]:
    return [(a, p) for a, p in permutations(range(len(labels)), 2) if labels[a] == labels[p]]


def naive_all(d: list[list[float]], labels: list[int]) -> set[tuple[int, int, int]]:
    return {(a, p, n) for a, p in naive_pairs(labels) for n in range(len(labels)) if labels[n] != labels[a]}


def naive_batch_hard(d: list[list[float]], labels: list[int]) -> set[tuple[int, int, int]]:
    found = set()
    for a in range(len(labels)):
        positives = [p for p in range(len(labels)) if p != a and labels[p] == labels[a]]
        negatives = [n for n in range(len(labels)) if labels[n] != labels[a]]
        if positives and negatives:
            farthest = max(positives, key=lambda p: (d[a][p], -p))  # lowest index among equals
            nearest = min(negatives, key=lambda n: (d[a][n], n))
            found.add((a, farthest, nearest))
    return found


def naive_semi_hard(d: list[list[float]], labels: list[int], margin: float) -> set[tuple[int, int, int]]:
    found = set()
    for a, p in naive_pairs(labels):
        semi_hard = [n for n in range(len(labels)) if labels[n] != labels[a] and d[a][p] < d[a][n] < d[a][p] + margin]
        if semi_hard:
            found.add((a, p, min(semi_hard, key=lambda n: (d[a][n], n))))
    return found


def test_squared_distances_match_naive_and_are_exact_on_the_diagonal():
    embeddings, _ = random_batch(0)
    naive = torch.tensor([[float(((x - y) ** 2).sum()) for y in embeddings] for x in embeddings])
    torch.testing.assert_close(squared_distances(embeddings), naive, atol=1e-6, rtol=0)
    assert squared_distances(POINTS).tolist()[0] == [0, 1, 4, 18, 4, 9]
    generator = torch.Generator().manual_seed(0)
    near_far = 30 * torch.randn(1, 8, generator=generator) + 1e-3 * torch.randn(6, 8, generator=generator)
    distances = squared_distances(near_far)  # ‖x‖² + ‖y‖² − 2x·y rounds below zero for some of these
    assert (distances >= 0).all() and (distances.diagonal() == 0).all()


def test_all_triplets_miner_returns_every_valid_triplet():
    found = as_set(AllTripletsMiner()(POINTS, LABELS))
    members = {0: [0, 1, 2], 1: [4, 5], 2: [3]}
    expected = {
        (a, p, n)
        for label, group in members.items()
        for a, p in permutations(group, 2)
        for n in range(6)
        if n not in group
    }
    assert found == expected
    assert len(found) == sum(len(g) * (len(g) - 1) * (6 - len(g)) for g in members.values()) == 26


def test_batch_hard_miner_pairs_each_anchor_with_farthest_positive_and_nearest_negative():
    # Anchor 3 is its identity's only image: no positive, no triplet.
    expected = {(0, 2, 4), (1, 2, 4), (2, 1, 5), (4, 5, 1), (5, 4, 2)}
    assert as_set(BatchHardMiner()(POINTS, LABELS)) == expected


def test_semi_hard_miner_picks_the_nearest_semi_hard_negative_and_skips_pairs_without_one():
    # margin 6: (2, 1) has d = 5 and semi-hard negatives 3 (10) and 4 (8) → 4; (0, 2) has d = 4 and
    # excludes negative 4 at exactly 4; (1, 0), (4, 5) and (5, 4) have no semi-hard negative.
    expected = {(0, 1, 4), (0, 2, 5), (1, 2, 5), (2, 0, 4), (2, 1, 4)}
    assert as_set(SemiHardMiner(margin=6.0)(POINTS, LABELS)) == expected


def test_ties_go_to_the_lowest_index():
    points = torch.tensor([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], dtype=torch.float32)
    labels = torch.tensor([0, 0, 0, 1, 1])
    # Anchor 0: positives 1 and 2 both at 1, negatives 3 and 4 both at 1.
    assert as_set(BatchHardMiner()(points, labels)) == {(0, 1, 3), (1, 2, 3), (2, 1, 3), (3, 4, 0), (4, 3, 0)}
    # Pairs (1, 0) and (2, 0): d = 1, negatives 3 and 4 both at 2.
    assert as_set(SemiHardMiner(margin=2.0)(points, labels)) == {(1, 0, 3), (2, 0, 3)}
    # With margin 1 those negatives lie at exactly d + margin: outside the open interval.
    assert as_set(SemiHardMiner(margin=1.0)(points, labels)) == set()


@pytest.mark.parametrize("miner", [AllTripletsMiner(), BatchHardMiner(), SemiHardMiner(margin=10.0)])
def test_a_batch_without_negatives_yields_no_triplets(miner):
    assert as_set(miner(POINTS, torch.zeros(6, dtype=torch.long))) == set()
    assert as_set(miner(POINTS[:1], torch.zeros(1, dtype=torch.long))) == set()
    assert as_set(miner(POINTS, torch.arange(6))) == set()  # no positives either


@pytest.mark.parametrize("seed", range(5))
def test_miners_agree_with_naive_loops_on_random_batches(seed):
    embeddings, labels = random_batch(seed)
    d, labels_list = squared_distances(embeddings).tolist(), labels.tolist()
    assert as_set(AllTripletsMiner()(embeddings, labels)) == naive_all(d, labels_list)
    assert as_set(BatchHardMiner()(embeddings, labels)) == naive_batch_hard(d, labels_list)
    semi_hard = as_set(SemiHardMiner(margin=0.5)(embeddings, labels))
    assert semi_hard == naive_semi_hard(d, labels_list, 0.5) and semi_hard


def test_miners_accept_embeddings_that_require_grad_and_are_deterministic():
    embeddings, labels = random_batch(7)
    embeddings.requires_grad_(True)
    for miner in (AllTripletsMiner(), BatchHardMiner(), SemiHardMiner(0.5)):
        first, second = miner(embeddings, labels), miner(embeddings, labels)
        assert all(torch.equal(x, y) for x, y in zip(first, second))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="B labels"):
        BatchHardMiner()(POINTS, LABELS[:5])
    with pytest.raises(ValueError, match="positive"):
        SemiHardMiner(margin=0.0)
