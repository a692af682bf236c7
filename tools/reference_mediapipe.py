"""Runs MediaPipe's own runtime (PyPI `mediapipe==0.10.14`) on the fixture photos and writes the
reference numbers the Rust port is tested against.

Writes, under tests/fixtures/:
    mediapipe_reference.json  per photo: size, detections (score, box, 6 keypoints; normalised
                              [0, 1] coordinates as the wheel reports them), the FaceMesh ROI
                              derived from each detection (centre, size normalised by the image
                              width / height, rotation in radians) and the 468 landmarks in
                              photo pixels (z in the same units as x).
    grace_hopper.webp         grace_hopper.jpg decoded by PIL and stored losslessly: JPEG
                              decoders differ by a few levels per pixel (PIL's libjpeg-turbo vs
                              the Rust image crate's zune-jpeg), which moves even the wheel's
                              own ROI rotation by 1.5e-3, so the reference runs on exactly the
                              pixels the Rust tests read.
    blazeface_input.png       a 128 x 128 letterboxed copy of grace_hopper.webp (PIL bilinear)
    facemesh_input.png        a 192 x 192 crop of grace_hopper.webp along the wheel's ROI
The raw network outputs on those two inputs are written by tools/reference_tflite.py.

Rebuild (outputs are committed):
    /work/venv-tools/bin/pip install mediapipe==0.10.14
    /work/venv-tools/bin/python tools/reference_mediapipe.py
    /work/venv-tools/bin/python tools/reference_mediapipe.py --bench   # timing only
"""
import json
import math
import pathlib
import sys
import time

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PHOTOS = ["grace_hopper.webp", "astronaut.png"]


def face_graph():
    """FaceMesh's own graph (face_landmark_front_cpu) in static mode, asked for its detections and
    detection-derived ROIs as well as its landmarks."""
    from mediapipe.python.solution_base import SolutionBase
    from mediapipe.python.solutions import face_mesh

    return SolutionBase(
        binary_graph_path=face_mesh._BINARYPB_FILE_PATH,
        side_inputs={"num_faces": 8, "with_attention": False, "use_prev_landmarks": False},
        calculator_params={
            "facedetectionshortrangecpu__facedetectionshortrange__facedetection__TensorsToDetectionsCalculator.min_score_thresh": 0.5,
            "facelandmarkcpu__ThresholdingCalculator.threshold": 0.5,
        },
        outputs=["multi_face_landmarks", "face_detections", "face_rects_from_detections"],
    )


def load(name: str) -> np.ndarray:
    return np.asarray(Image.open(FIXTURES / name).convert("RGB"))


def run_photo(graph, name: str) -> dict:
    img = load(name)
    h, w = img.shape[:2]
    r = graph.process(img)
    dets = []
    for d in r.face_detections or []:
        box = d.location_data.relative_bounding_box
        dets.append({
            "score": round(d.score[0], 6),
            "box": [round(v, 6) for v in (box.xmin, box.ymin, box.width, box.height)],
            "keypoints": [[round(k.x, 6), round(k.y, 6)] for k in d.location_data.relative_keypoints],
        })
    rois = [{
        "x_center": round(q.x_center, 6), "y_center": round(q.y_center, 6),
        "width": round(q.width, 6), "height": round(q.height, 6), "rotation": round(q.rotation, 6),
    } for q in r.face_rects_from_detections or []]
    marks = [[[round(p.x * w, 3), round(p.y * h, 3), round(p.z * w, 3)] for p in f.landmark]
             for f in r.multi_face_landmarks or []]
    return {"width": w, "height": h, "detections": dets, "rois": rois, "landmarks": marks}


def blazeface_input(img: np.ndarray) -> Image.Image:
    h, w = img.shape[:2]
    side = max(w, h)
    canvas = Image.new("RGB", (side, side))
    canvas.paste(Image.fromarray(img), ((side - w) // 2, (side - h) // 2))
    return canvas.resize((128, 128), Image.BILINEAR)


def facemesh_input(img: np.ndarray, roi: dict) -> Image.Image:
    """192 x 192 crop: output pixel (u, v) samples the photo at c + R(theta) (u s - S/2, v s - S/2),
    s = S / 192, the mapping MediaPipe's ImageToTensorCalculator uses."""
    h, w = img.shape[:2]
    size = roi["width"] * w
    cx, cy, th = roi["x_center"] * w, roi["y_center"] * h, roi["rotation"]
    s = size / 192
    c, n = math.cos(th), math.sin(th)
    # PIL's AFFINE maps output (x, y) to input (a x + b y + c0, d x + e y + f0), pixel corners.
    ox, oy = cx - c * size / 2 + n * size / 2, cy - n * size / 2 - c * size / 2
    coeffs = (c * s, -n * s, ox - 0.5 * (c * s - n * s) + 0.5, n * s, c * s, oy - 0.5 * (n * s + c * s) + 0.5)
    return Image.fromarray(img).transform((192, 192), Image.AFFINE, coeffs, Image.BILINEAR)


def bench(graph, repeats: int = 20) -> None:
    for name in PHOTOS:
        img = load(name)
        graph.process(img)
        t = time.perf_counter()
        for _ in range(repeats):
            graph.process(img)
        ms = (time.perf_counter() - t) / repeats * 1e3
        print(json.dumps({"photo": name, "wheel_ms": round(ms, 3)}))


def main() -> None:
    Image.open(FIXTURES / "grace_hopper.jpg").convert("RGB").save(FIXTURES / "grace_hopper.webp", lossless=True)
    graph = face_graph()
    if "--bench" in sys.argv:
        bench(graph)
        return
    ref = {name: run_photo(graph, name) for name in PHOTOS}
    (FIXTURES / "mediapipe_reference.json").write_text(json.dumps(ref, separators=(",", ":")) + "\n")
    for name, r in ref.items():
        print(name, [d["score"] for d in r["detections"]], r["rois"])
    img = load("grace_hopper.webp")
    blazeface_input(img).save(FIXTURES / "blazeface_input.png")
    facemesh_input(img, ref["grace_hopper.webp"]["rois"][0]).save(FIXTURES / "facemesh_input.png")


if __name__ == "__main__":
    main()
