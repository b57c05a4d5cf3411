"""The layer rules in pyproject.toml's [tool.importlinter] hold (Qt stays inside faceguard.gui)."""

import subprocess
import sys
from pathlib import Path


def test_import_contracts_hold():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
