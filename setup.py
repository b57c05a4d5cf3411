"""The build hook that ships ``resources/`` (style, demo photos, calibration) inside the package.

The folder stays at the top of the checkout, where a source or editable install finds it; a built
package (a wheel, a non-editable ``pip install .``) gets a copy at ``faceguard/resources``, which
``faceguard.core.paths`` prefers. The copy is written into the build folder only, never the source tree.
Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's resources/ itself
            return
        if not RESOURCES.is_dir():
            raise SystemExit(f"Cannot build FaceGuard: its resources folder {RESOURCES} is missing.")
        target = Path(self.build_lib) / "faceguard" / "resources"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(RESOURCES, target)


setup(cmdclass={"build_py": BuildWithResources})
