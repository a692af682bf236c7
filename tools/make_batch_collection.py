"""Writes a mixed photo collection for timing `visage batch` (README, "Batch"): variants of the
three fixture portraits (scaled 0.25-2x, mirrored, slightly rotated, placed on plain or noisy
canvases, saved as JPEG, PNG or WebP), plus a corrupt JPEG, a photo without a face, a
12-megapixel photo and a group photo. Deterministic (seed 7). Needs Pillow and NumPy.

    python tools/make_batch_collection.py OUT_DIR [COUNT=100] [COPIES=1]

COPIES > 1 repeats the collection in sub-folders (copy0/, copy1/, ...), for memory checks over
hundreds of photos.
"""
import os
import random
import sys

import numpy as np
from PIL import Image

FIXTURES = ["astronaut.png", "grace_hopper.jpg", "grace_hopper.webp"]


def variant(rng, faces):
    face = rng.choice(faces)
    s = rng.uniform(0.25, 2.0)
    img = face.resize((max(16, int(face.width * s)), max(16, int(face.height * s))), Image.BICUBIC)
    if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    img = img.rotate(rng.uniform(-10, 10), resample=Image.BICUBIC, expand=True, fillcolor=(90, 90, 90))
    pad = rng.uniform(1.0, 2.0)
    w, h = int(img.width * pad), int(img.height * pad)
    if rng.random() < 0.5:
        canvas = Image.new("RGB", (w, h), tuple(rng.randrange(256) for _ in range(3)))
    else:
        noise = np.random.default_rng(rng.randrange(1 << 30)).integers(0, 255, (h, w, 3), dtype=np.uint8)
        canvas = Image.fromarray(noise)
    canvas.paste(img, (rng.randrange(w - img.width + 1), rng.randrange(h - img.height + 1)))
    return canvas


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    copies = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    here = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
    faces = [Image.open(os.path.join(here, f)).convert("RGB") for f in FIXTURES]
    for c in range(copies):
        rng = random.Random(7)
        d = os.path.join(out, f"copy{c}") if copies > 1 else out
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "corrupt.jpg"), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0" + bytes(200))
        Image.fromarray(np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(
            os.path.join(d, "no_face.png"))
        big = Image.new("RGB", (4000, 3000), (40, 60, 80))
        big.paste(faces[0].resize((1400, 1400), Image.BICUBIC), (1300, 800))
        big.save(os.path.join(d, "twelve_megapixel.jpg"), quality=90)
        group = Image.new("RGB", (1600, 700), (200, 200, 190))
        for k, (f, s) in enumerate([(0, 0.8), (1, 0.7), (0, 0.35), (1, 0.3)]):
            im = faces[f].resize((int(faces[f].width * s), int(faces[f].height * s)), Image.BICUBIC)
            group.paste(im, (20 + 420 * k, 30))
        group.save(os.path.join(d, "group.jpg"), quality=90)
        for i in range(count - 4):
            ext = rng.choice(["jpg", "png", "webp"])
            variant(rng, faces).save(os.path.join(d, f"photo_{i:03d}.{ext}"))


if __name__ == "__main__":
    main()
