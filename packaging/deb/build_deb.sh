#!/usr/bin/env bash
# Package the frozen FaceGuard (dist/faceguard, made by packaging/build.sh) as
# dist/faceguard_<version>_amd64.deb.
#
#   packaging/deb/build_deb.sh [BUNDLE_DIR]
#
# Layout: the bundle under /opt/faceguard, /usr/bin/faceguard -> /opt/faceguard/faceguard, the kiosk
# and admin .desktop entries, hicolor icons, AppStream metainfo, the opt-in kiosk autostart
# (/usr/share/faceguard/faceguard-kiosk-autostart.desktop, /usr/lib/systemd/user/faceguard-kiosk.service,
# /usr/bin/faceguard-enable-kiosk-autostart). Depends: the system libraries the bundle's ELF files
# need and do not carry (checked against ldd on every build: a missing one fails the build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
HERE=packaging/deb
BUNDLE=${1:-dist/faceguard}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' faceguard/__init__.py)
ARCH=amd64
DEB=dist/faceguard_${VERSION}_${ARCH}.deb
STAGE=build/deb/root

[ -x "$BUNDLE/faceguard" ] || { echo "error: no bundle at $BUNDLE (run packaging/build.sh)" >&2; exit 1; }
[ -n "$VERSION" ] || { echo "error: no __version__ in faceguard/__init__.py" >&2; exit 1; }

# The system libraries the bundle's files name directly and the bundle does not carry (the spec leaves
# every library of the system out of it): exactly the packages packaging/deb/system_libs.py finds with
# readelf/ldd and dpkg -S on the build machine (Debian 12 names); the check below fails the build when
# the two differ. What those libraries need in turn is their own packages' Depends.
DEPENDS=(
    # C and C++ runtimes
    libc6 libgcc-s1 libstdc++6
    # Python's own extension modules: hashlib/ssl, sqlite3, ctypes, bz2, lzma, uuid, zlib
    libssl3 libsqlite3-0 libffi8 libbz2-1.0 liblzma5 libuuid1 zlib1g
    # QtCore, QtGui and QtDBus
    libglib2.0-0 libzstd1 libdbus-1-3 libfontconfig1 libfreetype6 libegl1 libgl1 libxkbcommon0
    # Qt's xcb platform plugin (libqxcb.so, libQt6XcbQpa.so.6) and its GLX integration
    libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
    libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
)
# Found by ldd but not Depends: of this package, with the reason (none today).
NOT_DEPENDS=()

echo "== system libraries the bundle needs (ldd)"
mapfile -t NEEDED < <(python3 "$HERE/system_libs.py" "$BUNDLE" --packages)
python3 "$HERE/system_libs.py" "$BUNDLE" | sed 's/^/   /'
missing=()
for package in "${NEEDED[@]}"; do
    skip=0
    for known in "${DEPENDS[@]}" "${NOT_DEPENDS[@]}"; do [ "$package" = "$known" ] && skip=1; done
    [ "$skip" = 1 ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "error: the bundle needs libraries from ${missing[*]}: add them to DEPENDS in $0" >&2
    exit 1
fi
unused=()
for package in "${DEPENDS[@]}"; do
    found=0
    for n in "${NEEDED[@]}"; do [ "$n" = "$package" ] && found=1; done
    [ "$found" = 1 ] || unused+=("$package")
done
if [ ${#unused[@]} -gt 0 ]; then
    echo "error: DEPENDS names ${unused[*]}, which no file of the bundle needs: remove them from $0" >&2
    exit 1
fi

echo "== staging root ($STAGE)"
rm -rf "$STAGE"
install -d "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/lib/faceguard" \
    "$STAGE/usr/share/applications" "$STAGE/usr/share/metainfo" "$STAGE/usr/share/faceguard" \
    "$STAGE/usr/lib/systemd/user" "$STAGE/usr/share/doc/faceguard" "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$STAGE/opt/faceguard"
ln -s /opt/faceguard/faceguard "$STAGE/usr/bin/faceguard"
install -m 0755 "$HERE/faceguard-enable-kiosk-autostart" "$STAGE/usr/bin/"
install -m 0755 "$HERE/faceguard-kiosk-session" "$STAGE/usr/lib/faceguard/"
install -m 0644 "$HERE/faceguard-kiosk.desktop" "$HERE/faceguard-admin.desktop" "$STAGE/usr/share/applications/"
install -m 0644 "$HERE/faceguard-kiosk-autostart.desktop" "$STAGE/usr/share/faceguard/"
install -m 0644 "$HERE/faceguard-kiosk.service" "$STAGE/usr/lib/systemd/user/"
sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$(date -u +%F)/" "$HERE/org.faceguard.FaceGuard.metainfo.xml" \
    > "$STAGE/usr/share/metainfo/org.faceguard.FaceGuard.metainfo.xml"
install -m 0644 packaging/icons/faceguard.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/faceguard.svg"
for png in packaging/icons/faceguard-*.png; do
    size=${png##*-}
    size=${size%.png}
    install -D -m 0644 "$png" "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/faceguard.png"
done
install -m 0644 packaging/README.md "$STAGE/usr/share/doc/faceguard/README.md"
{
    echo "FaceGuard $VERSION, packaged from its source tree. License: MIT."
    echo "The bundle under /opt/faceguard holds third-party software under its own licences"
    echo "(Python, Qt/PySide6 under LGPLv3, PyTorch, OpenCV, NumPy and others); the notices for the"
    echo "network weights and demo photos follow."
    echo
    cat NOTICE
} > "$STAGE/usr/share/doc/faceguard/copyright"
chmod 0644 "$STAGE/usr/share/doc/faceguard/copyright"

# Maintainer script: purge removes only what the package may have left under /opt. Upgrade, remove and
# purge never touch a home folder: the database and models live in each user's data folder
# (~/.local/share/faceguard), so an upgrade keeps them and a purge leaves them.
install -m 0755 "$HERE/postrm" "$STAGE/DEBIAN/postrm"

installed_kib=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
depends=$(printf '%s, ' "${DEPENDS[@]}")
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: faceguard
Version: $VERSION
Architecture: $ARCH
Maintainer: FaceGuard developers <faceguard@example.org>
Installed-Size: $installed_kib
Depends: ${depends%, }
Section: misc
Priority: optional
Description: face recognition for door access control
 FaceGuard recognises the people enrolled for a door from one photo each and
 grants or denies access, logging every decision with a face snapshot. This
 package holds the door kiosk (faceguard kiosk), the admin window (faceguard
 admin) and the faceguard command line, frozen with their Python, Qt, PyTorch
 (CPU) and OpenCV under /opt/faceguard, and the networks' converted weights:
 no Python, pip or network is needed.
 .
 The kiosk can start at a dedicated user's login:
 sudo faceguard-enable-kiosk-autostart USER.
CONTROL

echo "== $DEB"
mkdir -p dist
rm -f "$DEB"
dpkg-deb --root-owner-group -Zzstd --build "$STAGE" "$DEB"
echo "deb: $(du -h "$DEB" | cut -f1) ($(stat -c %s "$DEB") bytes), installed size: $((installed_kib / 1024)) MiB ($installed_kib KiB)"
