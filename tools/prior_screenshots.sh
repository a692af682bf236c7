#!/usr/bin/env bash
# Before | after renders of the fit prior (`--fit-prior 0` vs the default) for `vrn` and
# `pix2pix` on the two fixture portraits and on three public-domain White House photographs
# (Joe Biden's and Barack Obama's official portraits and Obama at a podium; works of US federal
# employees) that the MIT-licensed `face_recognition` sdist on PyPI ships as test images. The
# photos are not committed; each panel shows the 128 px face crop the method saw, the mesh
# without the prior and with it (lit clay, `visage render`).
#
#   tools/prior_screenshots.sh      # writes screenshots/prior_{vrn,pix2pix}_*.png
#
# Needs: a release build, /work/venv-tools (pip, Pillow) or PYTHON pointing at one, and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${VISAGE_BIN:-target/release/visage}
py=${PYTHON:-/work/venv-tools/bin/python}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$py" -m pip download --quiet --no-deps --no-binary :all: face_recognition==1.3.0 -d "$scratch"
tar xzf "$scratch"/face_recognition-1.3.0.tar.gz -C "$scratch" \
  face_recognition-1.3.0/tests/test_images
images="$scratch/face_recognition-1.3.0/tests/test_images"

photos=(tests/fixtures/astronaut.png tests/fixtures/grace_hopper.jpg
  "$images/biden.jpg" "$images/obama.jpg" "$images/obama2.jpg")

for method in vrn pix2pix; do
  for photo in "${photos[@]}"; do
    name=$(basename "${photo%.*}")
    for w in 0 0.5; do
      "$bin" reconstruct "$photo" --method "$method" --fit-prior "$w" \
        --crop "$scratch/${name}_crop.png" -o "$scratch/${method}_${name}_$w.obj" >/dev/null 2>&1
      "$bin" render "$scratch/${method}_${name}_$w.obj" --size 384 \
        -o "$scratch/${method}_${name}_$w.png" >/dev/null 2>&1
    done
    "$py" - "$scratch" "$method" "$name" <<'EOF'
import sys
from PIL import Image
scratch, method, name = sys.argv[1:]
crop = Image.open(f"{scratch}/{name}_crop.png").convert("RGB").resize((384, 384), Image.LANCZOS)
panels = [crop] + [Image.open(f"{scratch}/{method}_{name}_{w}.png").convert("RGB") for w in ("0", "0.5")]
out = Image.new("RGB", (384 * len(panels), 384))
for i, p in enumerate(panels):
    out.paste(p, (384 * i, 0))
out.save(f"screenshots/prior_{method}_{name}.png")
EOF
    echo "screenshots/prior_${method}_${name}.png"
  done
done
