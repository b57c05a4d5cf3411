"""FaceGuard: one-shot face recognition for door access control."""

import os

# Before torch loads (its OpenMP runtime reads this once): idle OpenMP threads sleep instead of
# spin-waiting. Spinning threads fight any other process for the cores; beside two CPU-burning
# processes `faceguard bench` ran 8.8x slower with the default (active) policy. See docs/speed.md.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
