"""The wheel's own face detectors (PyPI `mediapipe==0.10.14`, `mp.solutions.face_detection`) on
the fixture photos: short range (model_selection=0, 128 x 128 network) and full range
(model_selection=1, 192 x 192 sparse network), both at min_detection_confidence=0.5.

Writes tests/fixtures/mediapipe_full_range.json:
    {photo: {"width", "height", "short": [det...], "full": [det...]}}
    det = {"score", "box": [xmin, ymin, width, height], "keypoints": [[x, y] x 6]}, all normalised
    to [0, 1] by the photo's width / height, exactly as the wheel reports them.
Photos: astronaut.png, grace_hopper.webp and blazeface_full_input.png (three small copies of Grace
Hopper's face; written by tools/reference_tflite.py, run that first).

The graph options behind these detectors (anchors, decoding, letterbox, NMS) can be printed with
--options: the wheel's face_detection_*_cpu.binarypb only names a subgraph, so the graph is
expanded by the wheel's ValidatedGraphConfig and every node's options (defaults marked) printed.

    /work/venv-tools/bin/python tools/reference_full_range.py [--options]
"""
import json
import pathlib
import sys

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PHOTOS = ["astronaut.png", "grace_hopper.webp", "blazeface_full_input.png"]


def detections(detector, img: np.ndarray) -> list:
    out = []
    for d in detector.process(img).detections or []:
        box = d.location_data.relative_bounding_box
        out.append({
            "score": round(d.score[0], 6),
            "box": [round(v, 6) for v in (box.xmin, box.ymin, box.width, box.height)],
            "keypoints": [[round(k.x, 6), round(k.y, 6)] for k in d.location_data.relative_keypoints],
        })
    return out


def print_options() -> None:
    import mediapipe as mp
    from mediapipe.calculators.tensor import image_to_tensor_calculator_pb2 as itt
    from mediapipe.calculators.tensor import tensors_to_detections_calculator_pb2 as ttd
    from mediapipe.calculators.tflite import ssd_anchors_calculator_pb2 as ssd
    from mediapipe.calculators.util import non_max_suppression_calculator_pb2 as nms
    from mediapipe.framework import calculator_pb2
    from mediapipe.modules.face_detection import face_detection_pb2
    from mediapipe.python._framework_bindings import validated_graph_config

    def show(msg, indent="    "):
        for f in msg.DESCRIPTOR.fields:
            v = getattr(msg, f.name)
            if f.label == f.LABEL_REPEATED:
                print(f"{indent}{f.name} = {list(v)}")
            elif f.message_type is not None:
                print(f"{indent}{f.name}:")
                show(v, indent + "  ")
            else:
                v = f.enum_type.values_by_number[v].name if f.enum_type else v
                print(f"{indent}{f.name} = {v}{'' if msg.HasField(f.name) else '  (default)'}")

    modules = pathlib.Path(mp.__file__).parent / "modules" / "face_detection"
    for name in ("face_detection_short_range_cpu", "face_detection_full_range_cpu"):
        graph = calculator_pb2.CalculatorGraphConfig.FromString((modules / f"{name}.binarypb").read_bytes())
        # As FaceDetection(min_detection_confidence=0.5) sets it.
        graph.graph_options[0].Pack(face_detection_pb2.FaceDetectionOptions(min_score_thresh=0.5))
        valid = validated_graph_config.ValidatedGraphConfig()
        valid.initialize(graph_config=graph)
        print(f"===== {name}")
        for node in calculator_pb2.CalculatorGraphConfig.FromString(valid.binary_config).node:
            print(f"--- {node.calculator}")
            for opts in node.node_options:
                for cls in (itt.ImageToTensorCalculatorOptions, ssd.SsdAnchorsCalculatorOptions,
                            ttd.TensorsToDetectionsCalculatorOptions):
                    if opts.Is(cls.DESCRIPTOR):
                        msg = cls()
                        opts.Unpack(msg)
                        show(msg)
            if node.options.HasExtension(nms.NonMaxSuppressionCalculatorOptions.ext):
                show(node.options.Extensions[nms.NonMaxSuppressionCalculatorOptions.ext])


def main() -> None:
    if "--options" in sys.argv:
        print_options()
        return
    from mediapipe.python.solutions.face_detection import FaceDetection

    short = FaceDetection(model_selection=0, min_detection_confidence=0.5)
    full = FaceDetection(model_selection=1, min_detection_confidence=0.5)
    ref = {}
    for name in PHOTOS:
        img = np.asarray(Image.open(FIXTURES / name).convert("RGB"))
        ref[name] = {"width": img.shape[1], "height": img.shape[0],
                     "short": detections(short, img), "full": detections(full, img)}
        print(name, "short", [d["score"] for d in ref[name]["short"]],
              "full", [d["score"] for d in ref[name]["full"]])
    (FIXTURES / "mediapipe_full_range.json").write_text(json.dumps(ref, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
