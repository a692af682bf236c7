"""Raw outputs of the two MediaPipe networks on fixed inputs, from the TFLite runtime itself, so
that the candle port can be checked network by network (before any pre/post-processing).

Inputs (written by tools/reference_mediapipe.py): tests/fixtures/blazeface_input.png (128 x 128,
scaled to 2 u8 / 255 - 1) and tests/fixtures/facemesh_input.png (192 x 192, scaled to u8 / 255).
Writes tests/fixtures/mediapipe_raw.json: BlazeFace's 896 score logits and the 16 regressor values
of the 8 highest-scoring anchors; FaceMesh's 1404 landmark values (468 x (x, y, z), crop pixels)
and its face-presence logit.

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
    print("top anchors", top[:4], "logits", logits[top[:4]], "presence", out["facemesh"]["presence_logit"])


if __name__ == "__main__":
    main()
