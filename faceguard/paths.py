"""The per-user data folder that the database and exported models share (platformdirs)."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """FaceGuard's folder in the platform's user data location (e.g. ~/.local/share/faceguard)."""
    return Path(platformdirs.user_data_dir("faceguard", appauthor=False))
