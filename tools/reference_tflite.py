"""Raw outputs of the MediaPipe networks on fixed inputs, from the TFLite runtime itself, so that
the candle port can be checked network by network (before any pre/post-processing).

Inputs (written by tools/reference_mediapipe.py): tests/fixtures/blazeface_input.png (128 x 128,
scaled to 2 u8 / 255 - 1) and tests/fixtures/facemesh_input.png (192 x 192, scaled to u8 / 255).
Writes tests/fixtures/mediapipe_raw.json: BlazeFace's 896 score logits and the 16 regressor values
of the 8 highest-scoring anchors; FaceMesh's 1404 landmark values (468 x (x, y, z), crop pixels)
and its face-presence logit.

Full-range BlazeFace (face_detection_full_range_sparse.tflite, 192 x 192, 2304 anchors on a 48 x 48
grid): this script also writes its input, tests/fixtures/blazeface_full_input.png, a grey canvas
with the face of grace_hopper.webp pasted three times (faces about 60, 38 and 24 px wide, PIL
bilinear), so that the anchors of small faces are exercised; and its outputs on it (scaled to
u8 / 127.5 - 1) in tests/fixtures/mediapipe_raw_full.json: all 2304 score logits, the 8 highest
anchors and their 16 regressor values.

tflite-runtime needs numpy < 2, so it runs from its own venv (the .tflite files are read from the
mediapipe wheel installed in /work/venv-tools):
    python3 -m venv /work/venv-tflite
    /work/venv-tflite/bin/pip install "numpy<2" tflite-runtime==2.14.0 pillow
    /work/venv-tflite/bin/python tools/reference_tflite.py
"""
import glob
import json
import pathlib

import numpy as np
import tflite_runtime.interpreter as tfl
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
WHEEL = sorted(glob.glob("/work/venv-tools/lib/python3*/site-packages/mediapipe/modules"))[-1]


def run(model: str, x: np.ndarray) -> dict:
    it = tfl.Interpreter(f"{WHEEL}/{model}")
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x[None].astype(np.float32))
    it.invoke()
    return {o["name"]: it.get_tensor(o["index"]) for o in it.get_output_details()}


def full_range_input() -> Image.Image:
    """Grace Hopper's face (the wheel's box: x 171-366, y 147-341 of the 512 x 600 photo) cropped
    with margin to a 310 px square, pasted at 96, 60 and 38 px (faces ~60, 38, 24 px wide)."""
    face = Image.open(FIXTURES / "grace_hopper.webp").convert("RGB").crop((114, 89, 424, 399))
    canvas = Image.new("RGB", (192, 192), (110, 110, 110))
    for side, xy in ((96, (6, 10)), (60, (118, 30)), (38, (40, 140))):
        canvas.paste(face.resize((side, side), Image.BILINEAR), xy)
    return canvas


def main() -> None:
    bf_in = np.asarray(Image.open(FIXTURES / "blazeface_input.png").convert("RGB"), np.float32)
    bf = run("face_detection/face_detection_short_range.tflite", bf_in / 127.5 - 1.0)
    logits = bf["classificators"].reshape(896)
    top = np.argsort(-logits)[:8]
    fm_in = np.asarray(Image.open(FIXTURES / "facemesh_input.png").convert("RGB"), np.float32)
    fm = run("face_landmark/face_landmark.tflite", fm_in / 255.0)
    out = {
        "blazeface": {
            "logits": [round(float(v), 5) for v in logits],
            "top_anchors": [int(i) for i in top],
            "top_regressors": [[round(float(v), 4) for v in bf["regressors"][0, i]] for i in top],
        },
        "facemesh": {
            "landmarks": [round(float(v), 4) for v in fm["conv2d_21"].reshape(-1)],
            "presence_logit": round(float(fm["conv2d_31"].reshape(-1)[0]), 5),
        },
    }
    (FIXTURES / "mediapipe_raw.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")
    full_range_input().save(FIXTURES / "blazeface_full_input.png")
    fr_in = np.asarray(Image.open(FIXTURES / "blazeface_full_input.png").convert("RGB"), np.float32)
    fr = run("face_detection/face_detection_full_range_sparse.tflite", fr_in / 127.5 - 1.0)
    # Outputs are named Identity (regressors [1, 2304, 16]) and Identity_1 (logits [1, 2304, 1]).
    fr_logits, fr_reg = fr["Identity_1"].reshape(2304), fr["Identity"]
    fr_top = np.argsort(-fr_logits)[:8]
    full = {
        "logits": [round(float(v), 5) for v in fr_logits],
        "top_anchors": [int(i) for i in fr_top],
        "top_regressors": [[round(float(v), 4) for v in fr_reg[0, i]] for i in fr_top],
    }
    (FIXTURES / "mediapipe_raw_full.json").write_text(json.dumps(full, separators=(",", ":")) + "\n")
    print("full range: top anchors", fr_top, "logits", fr_logits[fr_top].round(3))
    print("top anchors", top[:4], "logits", logits[top[:4]], "presence", out["facemesh"]["presence_logit"])


if __name__ == "__main__":
    main()
