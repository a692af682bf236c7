"""Would FaceMesh with attention (`face_landmark_with_attention.tflite`, 478 points with refined
eyes, lips and irises, same wheel) improve the front end? Runs the wheel's
`FaceMesh(static_image_mode=True, refine_landmarks=False / True)` on the real development photos
and prints the 2D NME (% of sqrt(w * h) of the true 68-point box) of the inner 51 points
(Visage's fixed 468 -> 68 map, `src/pipeline/detect/landmarks68.rs`), of the eyes and of the
mouth, plus the median time of each graph. Evaluation only (docs/frontend.md).

    /work/venv-tools/bin/python tools/attention_check.py [../shared/real-eval/aflw-dev]

Needs mediapipe==0.10.14, scipy, pillow.
"""
import glob
import pathlib
import re
import statistics
import sys
import time

import mediapipe as mp
import numpy as np
import scipy.io
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent


def fixed_map() -> list:
    src = (ROOT / "src/pipeline/detect/landmarks68.rs").read_text()
    body = src[src.index("FACEMESH_TO_68: [usize; 68] = ["):]
    body = body[body.index("= [") + 3 : body.index("];")]
    ids = [int(x) for x in re.findall(r"\d+", re.sub(r"//.*", "", body))]
    assert len(ids) == 68
    return ids


def main() -> None:
    folder = sys.argv[1] if len(sys.argv) > 1 else str(ROOT.parent / "shared/real-eval/aflw-dev")
    ids = fixed_map()
    for refine in (False, True):
        errs, times = [], []
        with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                             refine_landmarks=refine) as fm:
            for mat in sorted(glob.glob(f"{folder}/*.mat")):
                photo = next(p for p in glob.glob(mat[:-4] + ".*") if not p.endswith(".mat"))
                rgb = np.asarray(Image.open(photo).convert("RGB"))
                truth = scipy.io.loadmat(mat)["pt3d_68"][:2].T
                w, h = truth.max(0) - truth.min(0)
                norm = np.sqrt(w * h) / 100
                for _ in range(6):
                    start = time.perf_counter()
                    result = fm.process(rgb)
                    times.append((time.perf_counter() - start) * 1e3)
                lm = result.multi_face_landmarks[0].landmark
                p = np.array([[lm[i].x * rgb.shape[1], lm[i].y * rgb.shape[0]] for i in ids])
                d = np.linalg.norm(p - truth, axis=1) / norm
                errs.append((d[17:].mean(), d[36:48].mean(), d[48:].mean()))
        e = np.array(errs)
        print(f"refine_landmarks={refine}: inner 51 {e[:, 0].mean():.2f} %, eyes {e[:, 1].mean():.2f} %, "
              f"mouth {e[:, 2].mean():.2f} %, per photo {np.round(e[:, 0], 2).tolist()}, "
              f"median {statistics.median(times):.1f} ms")


if __name__ == "__main__":
    main()
