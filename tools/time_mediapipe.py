"""Times the wheel's (PyPI `mediapipe==0.10.14`) face solutions on photos, for comparison with the
Rust port's timings.

For each photo (decoded once with PIL, RGB), the median over N runs after one warm-up run of:
    short  FaceDetection(model_selection=0)  128 x 128 short-range BlazeFace
    full   FaceDetection(model_selection=1)  192 x 192 full-range BlazeFace
    mesh   FaceMesh(static_image_mode=True, max_num_faces=M, refine_landmarks=False):
           short-range detection + 468 landmarks on each face it finds (M = --max-faces, 10 by
           default, so that a photo of several people costs the wheel what it costs Visage)
(detectors at confidence 0.5; each solution is set up once, outside the timed loop). Prints a
table (photo, size, megapixels, the three medians in ms, faces found by each) and, with --json,
writes {"repeats": N, "rows": [the same rows]}.

    /work/venv-tools/bin/python tools/time_mediapipe.py FOLDER_OR_FILES... [--repeats N] [--max-faces M] [--json OUT]
"""
import argparse
import json
import pathlib
import statistics
import time

import numpy as np
from PIL import Image

EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def photos(args: list) -> list:
    out = []
    for a in map(pathlib.Path, args):
        out += sorted(p for p in a.iterdir() if p.suffix.lower() in EXTS) if a.is_dir() else [a]
    return out


def median_ms(fn, img: np.ndarray, repeats: int):
    result = fn(img)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(img)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--max-faces", type=int, default=10)
    ap.add_argument("--json")
    args = ap.parse_args()
    from mediapipe.python.solutions.face_detection import FaceDetection
    from mediapipe.python.solutions.face_mesh import FaceMesh

    short = FaceDetection(model_selection=0, min_detection_confidence=0.5)
    full = FaceDetection(model_selection=1, min_detection_confidence=0.5)
    mesh = FaceMesh(static_image_mode=True, max_num_faces=args.max_faces,
                    refine_landmarks=False, min_detection_confidence=0.5)
    solutions = {"short": (short, "detections"), "full": (full, "detections"),
                 "mesh": (mesh, "multi_face_landmarks")}
    rows = []
    print(f"{'photo':32} {'size':>11} {'MP':>5} {'short ms':>9} {'full ms':>9} {'mesh ms':>9}  faces s/f/m")
    for path in photos(args.inputs):
        img = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
        h, w = img.shape[:2]
        row = {"photo": str(path), "width": w, "height": h, "megapixels": round(w * h / 1e6, 3)}
        for key, (sol, field) in solutions.items():
            ms, result = median_ms(sol.process, img, args.repeats)
            row[f"{key}_ms"] = round(ms, 3)
            row[f"{key}_faces"] = len(getattr(result, field) or [])
        rows.append(row)
        print(f"{path.name[:32]:32} {f'{w}x{h}':>11} {row['megapixels']:5.2f} {row['short_ms']:9.2f} "
              f"{row['full_ms']:9.2f} {row['mesh_ms']:9.2f}  "
              f"{row['short_faces']}/{row['full_faces']}/{row['mesh_faces']}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"repeats": args.repeats, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
