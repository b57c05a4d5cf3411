"""Choose the torch device (cuda > mps > cpu) and the CPU thread count."""

from __future__ import annotations

import torch


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then CPU; ``cpu``/``cuda``/``mps``/``cuda:1`` force one."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("A CUDA device was requested but none is available; use --device cpu or auto.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("An MPS device was requested but none is available; use --device cpu or auto.")
    return device


def set_threads(threads: int | None) -> None:
    """Limit torch's intra-op CPU threads; ``None`` keeps torch's default (one per core)."""
    if threads is not None:
        if threads < 1:
            raise ValueError("The thread count must be at least 1.")
        torch.set_num_threads(threads)
