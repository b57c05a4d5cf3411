#!/usr/bin/env bash
# Render faceguard.svg to the hicolor PNG sizes (needs rsvg-convert: apt-get install librsvg2-bin).
# The PNGs are committed, so a package build does not need the tool; run this after changing the SVG.
set -euo pipefail
cd "$(dirname "$0")"
for size in 16 24 32 48 64 128 256; do
    rsvg-convert --width "$size" --height "$size" faceguard.svg --output "faceguard-$size.png"
done
ls -l faceguard-*.png
# Windows (.ico) and macOS (.icns) icons for the spec's other branches, made from the PNGs with Pillow.
PY=${PYTHON:-../../.venv/bin/python}
"$PY" - <<'PYEOF'
from PIL import Image

big = Image.open("faceguard-256.png").convert("RGBA")
big.save("faceguard.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
big.save("faceguard.icns")
PYEOF
ls -l faceguard.ico faceguard.icns
