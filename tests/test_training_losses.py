"""Triplet and binary pair losses equal naive loops over explicit triplets / pairs, values and gradients."""

from __future__ import annotations

import math

import pytest
import torch

from faceguard.training.losses import BinaryHead, BinaryPairLoss, TripletLoss, all_pairs
from faceguard.training.miners import AllTripletsMiner


def unit_embeddings(seed: int, size: int, dim: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(size, dim, generator=generator, dtype=torch.float64)
    return torch.nn.functional.normalize(embeddings, dim=1).requires_grad_(True)


def naive_triplet_loss(embeddings: torch.Tensor, triplets, margin: float) -> tuple[torch.Tensor, int]:
    total, active = embeddings.new_zeros(()), 0
    for a, p, n in zip(*(t.tolist() for t in triplets)):
        to_positive = sum((embeddings[a, k] - embeddings[p, k]) ** 2 for k in range(embeddings.shape[1]))
        to_negative = sum((embeddings[a, k] - embeddings[n, k]) ** 2 for k in range(embeddings.shape[1]))
        value = to_positive - to_negative + margin
        if value > 0:
            total, active = total + value, active + 1
    return total / len(triplets[0]), active


def naive_logit(head: BinaryHead, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    weight, bias = head.linear.weight[0], head.linear.bias[0]
    return sum(weight[k] * abs(x[k] - y[k]) for k in range(len(x))) + bias


def naive_pair_loss(head: BinaryHead, embeddings: torch.Tensor, labels: list[int]) -> tuple[torch.Tensor, float]:
    pairs = [(i, j) for i in range(len(labels)) for j in range(i + 1, len(labels))]
    positives = sum(labels[i] == labels[j] for i, j in pairs)
    negatives = len(pairs) - positives
    kinds = (positives > 0) + (negatives > 0)
    total, right = embeddings.new_zeros(()), 0
    for i, j in pairs:
        probability = torch.sigmoid(naive_logit(head, embeddings[i], embeddings[j]))
        if labels[i] == labels[j]:
            total = total - torch.log(probability) / (kinds * positives)
            right += bool(probability >= 0.5)
        else:
            total = total - torch.log(1 - probability) / (kinds * negatives)
            right += bool(probability < 0.5)
    return total, right / len(pairs)


def test_triplet_loss_equals_naive_loop_in_value_and_gradient():
    embeddings = unit_embeddings(0, 9, 4)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3])
    triplets = AllTripletsMiner()(embeddings, labels)
    result = TripletLoss(margin=0.2)(embeddings, triplets)
    expected, active = naive_triplet_loss(embeddings, triplets, 0.2)
    assert 0 < active < len(triplets[0]), "the batch should mix active and inactive triplets"
    assert result.triplets == len(triplets[0]) and result.active_fraction == active / len(triplets[0])
    torch.testing.assert_close(result.loss, expected, atol=1e-6, rtol=0)
    (gradient,) = torch.autograd.grad(result.loss, embeddings)
    (expected_gradient,) = torch.autograd.grad(expected, embeddings)
    torch.testing.assert_close(gradient, expected_gradient, atol=1e-6, rtol=0)


def test_triplet_loss_uses_the_given_triplets_as_they_are():
    embeddings = unit_embeddings(1, 5, 3)
    triplets = tuple(torch.tensor(t) for t in ([0, 0, 3, 0], [1, 1, 4, 1], [2, 2, 0, 3]))  # one repeated
    result = TripletLoss(margin=1.0)(embeddings, triplets)
    expected, active = naive_triplet_loss(embeddings, triplets, 1.0)
    torch.testing.assert_close(result.loss, expected, atol=1e-6, rtol=0)
    assert result.active_fraction == active / 4 and result.triplets == 4


def test_triplet_loss_without_triplets_is_zero_and_still_backpropagates():
    embeddings = unit_embeddings(2, 4, 3)
    empty = torch.empty(0, dtype=torch.long)
    result = TripletLoss()(embeddings, (empty, empty, empty))
    assert result.loss.item() == 0 and result.loss.requires_grad
    assert result.active_fraction == 0.0 and result.triplets == 0
    result.loss.backward()
    assert embeddings.grad is not None and (embeddings.grad == 0).all()


def test_triplet_loss_refuses_a_negative_margin():
    with pytest.raises(ValueError, match="margin"):
        TripletLoss(margin=-0.1)


def test_binary_head_equals_naive_weighted_absolute_difference():
    torch.manual_seed(3)
    head = BinaryHead(dim=5).double()
    a, b = unit_embeddings(3, 4, 5), unit_embeddings(4, 4, 5)
    expected = torch.stack([naive_logit(head, x, y) for x, y in zip(a, b)])
    torch.testing.assert_close(head(a, b), expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(head.probability(a, b), torch.sigmoid(expected), atol=1e-12, rtol=0)


def test_all_pairs_lists_each_unordered_pair_once():
    labels = torch.tensor([3, 1, 3, 1, 2])
    i, j, same = all_pairs(labels)
    found = list(zip(i.tolist(), j.tolist(), same.tolist()))
    expected = [(x, y, labels[x].item() == labels[y].item()) for x in range(5) for y in range(x + 1, 5)]
    assert sorted(found) == expected


@pytest.mark.parametrize(
    "labels",
    [[0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 0, 0], [0, 1, 2, 3]],
    ids=["mixed", "positives-only", "negatives-only"],
)
def test_binary_pair_loss_equals_naive_class_balanced_bce(labels):
    torch.manual_seed(5)
    head = BinaryHead(dim=4).double()
    with torch.no_grad():  # w in (−3, −1), b = 2: probabilities spread over 0.02..0.65
        head.linear.weight.mul_(2.0).sub_(2.0)
        head.linear.bias.fill_(2.0)
    embeddings = unit_embeddings(6, len(labels), 4)
    result = BinaryPairLoss(head)(embeddings, torch.tensor(labels))
    expected, accuracy = naive_pair_loss(head, embeddings, labels)
    assert result.pairs == len(labels) * (len(labels) - 1) // 2
    assert result.accuracy == accuracy
    torch.testing.assert_close(result.loss, expected, atol=1e-6, rtol=0)
    parameters = (embeddings, head.linear.weight, head.linear.bias)
    for got, want in zip(torch.autograd.grad(result.loss, parameters), torch.autograd.grad(expected, parameters)):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_binary_pair_loss_weights_positives_and_negatives_equally():
    # 1 positive pair and 5 negatives, every pair predicted same with ŷ = 0.9:
    # L = ½(−log 0.9) + ½(−log 0.1), not the plain mean (−log 0.9 + 5·(−log 0.1)) / 6.
    head = BinaryHead(dim=2)
    with torch.no_grad():
        head.linear.weight.fill_(0.0)
        head.linear.bias.fill_(math.log(9.0))
    result = BinaryPairLoss(head)(torch.randn(4, 2), torch.tensor([0, 0, 1, 2]))
    assert result.loss.item() == pytest.approx(0.5 * -math.log(0.9) + 0.5 * -math.log(0.1))
    assert result.accuracy == 1 / 6 and result.pairs == 6


def test_binary_pair_loss_needs_a_pair():
    with pytest.raises(ValueError, match="at least two"):
        BinaryPairLoss(BinaryHead(2))(torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))
