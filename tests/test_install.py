"""FaceGuard as a user installs it: one version everywhere, and a non-editable install (a wheel) that
finds its resources and its weights from anywhere, not only from a checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

import faceguard
from faceguard.cli import main

ROOT = Path(__file__).parents[1]
#: What a wheel is built from (copied, so a build never writes into the checkout others work in).
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "faceguard", "resources"]


def test_the_version_is_faceguards_and_the_command_prints_it(capsys):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "faceguard.__version__"}
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0 and capsys.readouterr().out == f"faceguard {faceguard.__version__}\n"


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow  # builds a wheel, installs it into a new venv and runs the self-test there (about 17 s)
@pytest.mark.subprocess
def test_a_wheel_installed_elsewhere_finds_its_resources_and_weights(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    shutil.rmtree(source / "faceguard" / "bundled_weights", ignore_errors=True)  # this test converts its own
    wheels = tmp_path / "wheels"
    python = Path(sys.executable)
    run(python, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", wheels, ".", cwd=source)
    (wheel,) = wheels.glob(f"faceguard-{faceguard.__version__}-*.whl")

    venv = tmp_path / "venv"
    run(python, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    venv_python = venv / "bin" / "python"
    run(python, "-m", "pip", "--python", venv_python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    site = Path(run(venv_python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).strip())
    # The project venv's third-party packages (torch, the weight packages …) after the venv's own, without
    # processing its .pth files: the editable faceguard's import hook stays out.
    (site / "zz_project_packages.pth").write_text(sysconfig.get_path("purelib") + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "FACEGUARD_BUNDLED_WEIGHTS")}
    where = run(
        venv_python,
        "-c",
        "import faceguard, faceguard.core.paths as p; print(faceguard.__file__); print(p.RESOURCES)",
        cwd=outside,
        env=env,
    ).splitlines()
    assert [Path(line).is_relative_to(site) for line in where] == [True, True], where
    assert Path(where[1]) == site / "faceguard" / "resources"

    out = run(venv_python, "-m", "faceguard.cli", "self-test", "--device", "cpu", cwd=outside, env=env)
    assert "PASSED: 5 of 5 steps OK" in out, out
    assert f"demo photos in {site / 'faceguard' / 'resources' / 'demo'}" in out
    assert "calibrations: dlib-resnet@1, dlib-sface@1, sface@1" in out
    assert "weights    converted from the installed packages" in out
