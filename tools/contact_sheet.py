"""Contact sheet of real face crops next to synthetic renders of both styles.

Row 1: the faces of the given real photos, cropped around the box `visage detect` finds
(1.7 x its side, the framing of the training crops). Rows 2 and 3: the degraded network inputs
(`rgb`) of the first samples of a classic and a photo-style shard folder, the same ids, so each
column is one head, pose and camera in both styles.

    visage synth --count 8 --seed 1000 --size 128 --out /tmp/classic
    visage synth --style photo --count 8 --seed 1000 --size 128 --out /tmp/photo
    python tools/contact_sheet.py --visage target/release/visage \
        --real tests/fixtures/astronaut.png tests/fixtures/grace_hopper.jpg \
        --classic /tmp/classic --photo /tmp/photo --count 8 --out docs/synth_photo_style.png

Needs numpy, pillow and safetensors.
"""

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from safetensors.numpy import load_file

TILE = 128
LABEL = 18


def real_crop(visage: str, photo: Path) -> Image.Image:
    out = subprocess.run(
        [visage, "detect", "--no-overlay", str(photo)], check=True, capture_output=True, text=True
    )
    faces = json.loads(out.stdout)["faces"]
    if not faces:
        raise SystemExit(f"no face found in {photo}")
    x, y, w, h = faces[0]["bbox"]
    side = 1.7 * max(w, h)
    cx, cy = x + w / 2, y + h / 2
    img = Image.open(photo).convert("RGB")
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    return img.crop(tuple(round(v) for v in box)).resize((TILE, TILE), Image.LANCZOS)


def renders(folder: Path, count: int) -> list[Image.Image]:
    shard = load_file(str(sorted(folder.glob("shard_*.safetensors"))[0]))
    return [Image.fromarray(shard["rgb"][i]) for i in range(min(count, len(shard["rgb"])))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visage", default="target/release/visage")
    ap.add_argument("--real", nargs="+", type=Path, required=True)
    ap.add_argument("--classic", type=Path, required=True)
    ap.add_argument("--photo", type=Path, required=True)
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows = [
        ("real photos (face crops)", [real_crop(args.visage, p) for p in args.real]),
        ("synth --style classic", renders(args.classic, args.count)),
        ("synth --style photo (same ids)", renders(args.photo, args.count)),
    ]
    cols = max(len(r[1]) for r in rows)
    sheet = Image.new("RGB", (cols * TILE, len(rows) * (TILE + LABEL)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for k, (label, tiles) in enumerate(rows):
        top = k * (TILE + LABEL)
        draw.text((4, top + 3), label, fill=(0, 0, 0))
        for j, tile in enumerate(tiles):
            sheet.paste(tile, (j * TILE, top + LABEL))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out} ({sheet.width} x {sheet.height})")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
