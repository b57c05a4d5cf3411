"""Where FaceGuard's files live: the per-user data folder (platformdirs) and the bundled resources."""

from __future__ import annotations

from pathlib import Path

import platformdirs

#: Style sheets, demo media and calibration data shipped with FaceGuard.
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DEMO_PHOTOS = RESOURCES / "demo"


def data_dir() -> Path:
    """FaceGuard's folder in the platform's user data location (e.g. ~/.local/share/faceguard)."""
    return Path(platformdirs.user_data_dir("faceguard", appauthor=False))
