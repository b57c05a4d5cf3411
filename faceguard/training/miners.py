"""Triplet miners: which (anchor, positive, negative) triplets of a batch the triplet loss learns from.

A miner takes a batch of embeddings (B, D) and their identity labels (B,) and returns index tensors
(a, p, n) of equal length with label[a] = label[p], a ≠ p and label[n] ≠ label[a]. Miners measure the
triplet loss's metric, the squared Euclidean distance d(i, j) = ‖e_i − e_j‖², on the embeddings as
given (the training loop L2-normalises them first). They run under ``torch.no_grad()`` (no graph
is recorded), are vectorised over the batch and deterministic: triplets come ordered by anchor,
then positive, then negative, and ties go to the lowest index. When nothing qualifies (e.g. a batch
of one identity) they return empty long tensors.
"""

from __future__ import annotations

import torch
from torch import Tensor

from faceguard.core.errors import InvalidInputError

Triplets = tuple[Tensor, Tensor, Tensor]
"""Long index tensors (anchor, positive, negative) of equal length into the batch."""


def squared_distances(embeddings: Tensor) -> Tensor:
    """(B, B) ‖e_i − e_j‖² = ‖e_i‖² + ‖e_j‖² − 2 e_i·e_j, clamped at 0 against rounding, exactly 0 on
    the diagonal."""
    norms = (embeddings * embeddings).sum(1)
    squared = (norms[:, None] + norms[None, :] - 2.0 * embeddings @ embeddings.T).clamp_min(0.0)
    return squared.fill_diagonal_(0.0)


class AllTripletsMiner:
    """Every valid triplet of the batch: Σ_c n_c (n_c − 1)(B − n_c) for identities of n_c images
    (built from a (B, B, B) mask, so meant for batches of a few hundred)."""

    @torch.no_grad()
    def __call__(self, embeddings: Tensor, labels: Tensor) -> Triplets:
        positive, negative = _masks(embeddings, labels)
        a, p, n = (positive[:, :, None] & negative[:, None, :]).nonzero(as_tuple=True)
        return a, p, n


class BatchHardMiner:
    """Batch-hard mining (Hermans et al. 2017): one triplet per anchor that has a positive and a
    negative in the batch, pairing its farthest positive with its nearest negative."""

    @torch.no_grad()
    def __call__(self, embeddings: Tensor, labels: Tensor) -> Triplets:
        d, (positive, negative) = squared_distances(embeddings), _masks(embeddings, labels)
        anchors = (positive.any(1) & negative.any(1)).nonzero().squeeze(1)
        d, positive, negative = d[anchors], positive[anchors], negative[anchors]
        farthest = d.masked_fill(~positive, -torch.inf).argmax(1)  # argmax/argmin: first index on ties
        nearest = d.masked_fill(~negative, torch.inf).argmin(1)
        return anchors, farthest, nearest


class SemiHardMiner:
    """Semi-hard mining (FaceNet, Schroff et al. 2015): for each valid pair (a, p), the negatives with
    d(a, p) < d(a, n) < d(a, p) + margin are semi-hard; the pair's triplet uses the semi-hard negative
    nearest the anchor, and a pair without any yields no triplet."""

    def __init__(self, margin: float = 0.2) -> None:
        if not margin > 0:
            raise InvalidInputError(f"The semi-hard margin must be a positive squared distance, got {margin}.")
        self.margin = margin

    @torch.no_grad()
    def __call__(self, embeddings: Tensor, labels: Tensor) -> Triplets:
        d, (positive, negative) = squared_distances(embeddings), _masks(embeddings, labels)
        a, p = positive.nonzero(as_tuple=True)
        to_positive, to_others = d[a, p][:, None], d[a]  # (pairs, 1), (pairs, B)
        semi_hard = negative[a] & (to_others > to_positive) & (to_others < to_positive + self.margin)
        nearest = to_others.masked_fill(~semi_hard, torch.inf).argmin(1)
        keep = semi_hard.any(1)
        return a[keep], p[keep], nearest[keep]


def _masks(embeddings: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """(B, B) masks of the batch: positive (same label, i ≠ j) and negative (different label)."""
    if embeddings.ndim != 2 or len(embeddings) == 0 or labels.shape != embeddings.shape[:1]:
        raise ValueError(
            f"Expected a non-empty (B, D) batch of embeddings and B labels, got shapes "
            f"{tuple(embeddings.shape)} and {tuple(labels.shape)}."
        )
    same = labels.to(embeddings.device)[:, None] == labels.to(embeddings.device)[None, :]
    return same & ~torch.eye(len(labels), dtype=torch.bool, device=embeddings.device), ~same
