"""Converts MediaPipe's full-range BlazeFace (`face_detection_full_range_sparse.tflite`, in the
PyPI wheel `mediapipe==0.10.14`, Apache-2.0) to weights/blazeface_full.safetensors (float16, keys
used by src/nn/blazeface_full.rs).

The model stores two thirds of its 1x1 weights as sparse float16 tensors behind DENSIFY and
DEQUANTIZE ops, so the weights are read from TFLite's own interpreter after one run (every
intermediate tensor kept): the DEQUANTIZE outputs are the dense float32 weights the kernels use.
Float16 storage of those values is lossless (they were float16 to begin with).

tflite-runtime needs numpy < 2 (same venv as tools/reference_tflite.py; the .tflite file comes
from the mediapipe wheel in /work/venv-tools):
    /work/venv-tflite/bin/pip install "numpy<2" tflite-runtime==2.14.0 tflite==2.18.0 pillow
    /work/venv-tflite/bin/python tools/convert_full_range.py

Layout changes: convolutions OHWI -> OIHW, depthwise [1, 3, 3, C] -> [C, 1, 3, 3]. The
convolutions are named in graph order (the script asserts every shape):
    stem                                 3x3 stride-2 convolution, 3 -> 32
    enc.{s}.blocks.{i}.{dw1,pw1,dw2,pw2} bottleneck blocks of encoder stage s (96, 48, 24, 12, 6 px)
    enc.{s}.lateral                      1x1 feeding the top-down path (stages 1-3)
    dec.{l}.reduce, dec.{l}.blocks.{i}.* top-down levels (12, 24, 48 px)
    cls.{pw,dw}, reg.{pw,dw}             the two heads (1x1, then 3x3 stride 2 + depth-to-space)
"""
import glob
import pathlib
import sys

import numpy as np
import tflite_runtime.interpreter as tfl

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from convert_mediapipe import save_safetensors  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
WHEEL = sorted(glob.glob("/work/venv-tools/lib/python3*/site-packages/mediapipe/modules"))[-1]
MODEL = "face_detection/face_detection_full_range_sparse.tflite"

# Encoder stages: (output channels, bottleneck width, residual blocks); stages after the first
# start with a stride-2 block without a residual.
ENCODER = [(32, 8, 2), (64, 16, 2), (128, 32, 2), (192, 48, 2), (384, 96, 3)]
# Top-down levels: (channels, bottleneck width, residual blocks).
DECODER = [(96, 48, 2), (64, 32, 2), (48, 24, 1)]


def expected_layers():
    """(name, kind, in channels, out channels) in graph order; kind 'conv' or 'dw'."""
    out = [("stem", "conv", 3, 32)]

    def block(prefix, c_in, mid, c_out):
        out.extend([(f"{prefix}.dw1", "dw", c_in, c_in), (f"{prefix}.pw1", "conv", c_in, mid),
                    (f"{prefix}.dw2", "dw", mid, mid), (f"{prefix}.pw2", "conv", mid, c_out)])

    c = 32
    for s, (c_out, mid, n) in enumerate(ENCODER):
        blocks = [(c, c_out)] * (s > 0) + [(c_out, c_out)] * n
        for i, (a, b) in enumerate(blocks):
            block(f"enc.{s}.blocks.{i}", a, mid, b)
        c = c_out
        if 1 <= s <= 3:
            out.append((f"enc.{s}.lateral", "conv", c_out, DECODER[3 - s][0]))
    for level, (c_out, mid, n) in enumerate(DECODER):
        out.append((f"dec.{level}.reduce", "conv", c, c_out))
        for i in range(n):
            block(f"dec.{level}.blocks.{i}", c_out, mid, c_out)
        c = c_out
    out.extend([("cls.pw", "conv", c, 4), ("cls.dw", "dw", 4, 4),
                ("reg.pw", "conv", c, 64), ("reg.dw", "dw", 64, 64)])
    return out


def main() -> None:
    it = tfl.Interpreter(f"{WHEEL}/{MODEL}", experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], np.zeros((1, 192, 192, 3), np.float32))
    it.invoke()
    layers = [op for op in it._get_ops_details() if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    want = expected_layers()
    assert len(layers) == len(want), f"{len(layers)} convolutions, expected {len(want)}"
    out = {}
    for op, (name, kind, c_in, c_out) in zip(layers, want):
        weight = it.get_tensor(op["inputs"][1]).astype(np.float32)
        bias = it.get_tensor(op["inputs"][2]).astype(np.float32)
        if kind == "dw":
            assert op["op_name"] == "DEPTHWISE_CONV_2D" and weight.shape == (1, 3, 3, c_in), (name, weight.shape)
            weight = weight.transpose(3, 0, 1, 2)
        else:
            k = 3 if name == "stem" else 1
            assert op["op_name"] == "CONV_2D" and weight.shape == (c_out, k, k, c_in), (name, weight.shape)
            weight = weight.transpose(0, 3, 1, 2)
        assert bias.shape == (c_out,), (name, bias.shape)
        for key, arr in ((f"{name}.weight", weight), (f"{name}.bias", bias)):
            half = arr.astype(np.float16)
            assert np.array_equal(half.astype(np.float32), arr), f"{key} is not float16-exact"
            out[key] = np.ascontiguousarray(half)
    meta = {"source": "PyPI mediapipe==0.10.14", "license": "Apache-2.0", "file": pathlib.Path(MODEL).name}
    save_safetensors(out, ROOT / "weights/blazeface_full.safetensors", meta)
    zeros = sum(int((v == 0).sum()) for v in out.values())
    total = sum(v.size for v in out.values())
    print(f"{len(want)} layers, {total} parameters ({zeros / total:.0%} zero)")


if __name__ == "__main__":
    main()
