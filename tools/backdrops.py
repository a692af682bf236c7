"""Rebuilds assets/backdrops/: the natural photos behind the photo-style synthetic renders.

Eight images that ship inside the scikit-image wheel (`skimage/data/`), all CC0 or public
domain (assets/backdrops/README.md lists each source and licence), shrunk to 384 px on the
longer side and saved as JPEG (quality 88). Photos of people are left out on purpose: a face in
the backdrop would teach the networks a second face.

    python -m pip download --no-deps scikit-image -d /tmp/skw
    python tools/backdrops.py /tmp/skw/scikit_image-*.whl

Needs pillow.
"""

import io
import sys
import zipfile
from pathlib import Path

from PIL import Image

NAMES = [
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "brick.png",
    "grass.png",
    "gravel.png",
    "coins.png",
    "hubble_deep_field.jpg",
]
SIDE = 384


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = Path(__file__).resolve().parent.parent / "assets" / "backdrops"
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(sys.argv[1]) as wheel:
        for name in NAMES:
            img = Image.open(io.BytesIO(wheel.read(f"skimage/data/{name}"))).convert("RGB")
            scale = SIDE / max(img.size)
            if scale < 1:
                size = (round(img.size[0] * scale), round(img.size[1] * scale))
                img = img.resize(size, Image.LANCZOS)
            path = out / (name.rsplit(".", 1)[0] + ".jpg")
            img.save(path, quality=88)
            print(f"{path.name}: {img.size[0]} x {img.size[1]}")


if __name__ == "__main__":
    main()
