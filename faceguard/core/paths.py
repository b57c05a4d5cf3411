"""Where FaceGuard's files live: the per-user data folder (platformdirs) and the bundled resources."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def _resources() -> Path:
    """``<package>/resources`` when installed (a wheel or the frozen bundle carry a copy there), else the
    checkout's top-level ``resources/`` (running from source or an editable install)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "resources"
    return installed if installed.is_dir() else package.parent / "resources"


#: Style sheets, demo media and calibration data shipped with FaceGuard.
RESOURCES = _resources()
DEMO_PHOTOS = RESOURCES / "demo"


def data_dir() -> Path:
    """FaceGuard's folder in the platform's user data location (e.g. ~/.local/share/faceguard)."""
    return Path(platformdirs.user_data_dir("faceguard", appauthor=False))


def config_dir() -> Path:
    """FaceGuard's folder in the platform's user config location (e.g. ~/.config/faceguard): what is
    kept apart from the data, such as the key that encrypts the database's face data."""
    return Path(platformdirs.user_config_dir("faceguard", appauthor=False))
