"""Losses that train a face encoder: the triplet loss over mined triplets, and the binary
same/different classifier over pairs.

Embeddings are used as given: the training loop L2-normalises them before mining and the loss, so
squared distances lie in [0, 4] and the default margin of 0.2 is on that scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from faceguard.core.errors import InvalidInputError
from faceguard.training.miners import Triplets


@dataclass(frozen=True)
class TripletLossResult:
    """The mean loss, the share of triplets with a positive loss and the number of triplets."""

    loss: Tensor
    active_fraction: float
    triplets: int


class TripletLoss(nn.Module):
    """L(A, P, N) = max(‖f(A) − f(P)‖² − ‖f(A) − f(N)‖² + α, 0), α = margin = 0.2 by default.

    The loss is the mean over the given triplets; without triplets it is 0, still attached to the
    embeddings' graph so that backward() runs and yields zero gradients.
    """

    def __init__(self, margin: float = 0.2) -> None:
        super().__init__()
        if not margin >= 0:
            raise InvalidInputError(f"The triplet margin must not be negative, got {margin}.")
        self.margin = margin

    def forward(self, embeddings: Tensor, triplets: Triplets) -> TripletLossResult:
        a, p, n = triplets
        if not len(a):
            return TripletLossResult(embeddings.sum() * 0.0, 0.0, 0)
        anchors = embeddings[a]
        to_positive = (anchors - embeddings[p]).pow(2).sum(1)
        to_negative = (anchors - embeddings[n]).pow(2).sum(1)
        losses = F.relu(to_positive - to_negative + self.margin)
        return TripletLossResult(losses.mean(), int((losses > 0).sum()) / len(a), len(a))


class BinaryHead(nn.Module):
    """The binary-classification alternative (Taigman et al. / the Siamese course formulation):
    ŷ = sigmoid(Σ_k w_k |f(x_i)_k − f(x_j)_k| + b), the probability that two faces are one person."""

    def __init__(self, dim: int = 128) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, 1)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """Logits (N,) for the pairs of rows of ``a`` and ``b`` (N, dim), before the sigmoid."""
        return self.linear((a - b).abs()).squeeze(1)

    def probability(self, a: Tensor, b: Tensor) -> Tensor:
        """ŷ (N,): the sigmoid of the logits."""
        return torch.sigmoid(self(a, b))


def all_pairs(labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Every unordered pair of a batch once: index tensors i < j and whether labels[i] = labels[j]."""
    i, j = torch.triu_indices(len(labels), len(labels), offset=1, device=labels.device)
    return i, j, labels[i] == labels[j]


@dataclass(frozen=True)
class BinaryLossResult:
    """The loss, the share of pairs classified right at ŷ = 0.5 (same when ŷ ≥ 0.5), the number of pairs."""

    loss: Tensor
    accuracy: float
    pairs: int


class BinaryPairLoss(nn.Module):
    """Binary cross-entropy of a BinaryHead over all pairs of a batch, positives and negatives
    weighted to count equally: L = ½ mean_{same} −log ŷ + ½ mean_{different} −log(1 − ŷ).

    A batch whose pairs are all of one kind averages that kind alone. The head is a submodule, so
    its parameters are among this loss's parameters() (give them to the optimiser).
    """

    def __init__(self, head: BinaryHead) -> None:
        super().__init__()
        self.head = head

    def forward(self, embeddings: Tensor, labels: Tensor) -> BinaryLossResult:
        if len(embeddings) < 2:
            raise ValueError(f"A pair loss needs at least two embeddings, got {len(embeddings)}.")
        i, j, same = all_pairs(labels.to(embeddings.device))
        logits = self.head(embeddings[i], embeddings[j])
        positives = int(same.sum())
        negatives = len(same) - positives
        kinds = (positives > 0) + (negatives > 0)
        weight = torch.where(same, 1.0 / max(positives, 1), 1.0 / max(negatives, 1)).to(logits.dtype) / kinds
        loss = F.binary_cross_entropy_with_logits(logits, same.to(logits.dtype), weight=weight, reduction="sum")
        accuracy = int(((logits >= 0) == same).sum()) / len(same)
        return BinaryLossResult(loss, accuracy, len(same))
