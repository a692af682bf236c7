"""Converts MediaPipe's BlazeFace (short range) and FaceMesh .tflite models to safetensors.

Reads the two models from the installed PyPI wheel `mediapipe==0.10.14` (Apache-2.0):
    mediapipe/modules/face_detection/face_detection_short_range.tflite
    mediapipe/modules/face_landmark/face_landmark.tflite
and writes, relative to the repository root:
    weights/blazeface.safetensors   float16, keys used by src/nn/blazeface.rs
    weights/facemesh.safetensors    float16, keys used by src/nn/facemesh.rs
    assets/facemesh_triangles.json  the 468-vertex triangulation (triangles recovered from the
                                    wheel's FACEMESH_TESSELATION edge list)

Rebuild (run once; outputs are committed):
    /work/venv-tools/bin/pip install mediapipe==0.10.14 tflite==2.18.0
    /work/venv-tools/bin/python tools/convert_mediapipe.py

Every weight in both graphs is stored as float16 behind a DEQUANTIZE op, so the float16 output
is lossless. Layouts are changed to candle's: convolutions OHWI -> OIHW, depthwise [1,kh,kw,C] ->
[C,1,kh,kw], PReLU [1,1,C] -> [C]. Key names follow the network structure:
    stem.{weight,bias}                   first (stride-2) convolution
    blocks.{i}.dw.{weight,bias}          depthwise 3x3 of residual block i
    blocks.{i}.pw.{weight,bias}          pointwise 1x1 of residual block i
    blocks.{i}.act.weight                PReLU slopes after block i (FaceMesh only)
    cls_{8,16}, reg_{8,16}               BlazeFace heads on the stride-8 and stride-16 maps
    landmarks.*, presence.*              FaceMesh's two heads
"""
import json
import pathlib
import struct

import numpy as np
import tflite

ROOT = pathlib.Path(__file__).resolve().parent.parent


def wheel_dir() -> pathlib.Path:
    import mediapipe

    return pathlib.Path(mediapipe.__file__).parent


def dequantized_weights(path: pathlib.Path) -> dict:
    """Maps each DEQUANTIZE output name (suffix `_dequantize` stripped) to its float16 array."""
    buf = path.read_bytes()
    model = tflite.Model.GetRootAsModel(buf, 0)
    graph = model.Subgraphs(0)
    out = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin != tflite.BuiltinOperator.DEQUANTIZE:
            continue
        src = graph.Tensors(op.Inputs(0))
        dst = graph.Tensors(op.Outputs(0))
        assert src.Type() == tflite.TensorType.FLOAT16, src.Name()
        data = model.Buffers(src.Buffer()).DataAsNumpy()
        arr = np.frombuffer(data.tobytes(), dtype=np.float16).reshape(src.ShapeAsNumpy())
        out[dst.Name().decode().removesuffix("_dequantize")] = arr
    return out


def conv(w: dict, name: str, prefix: str, out: dict, depthwise: bool = False) -> None:
    kernel = w.pop(f"{name}/Kernel")
    if depthwise:  # [1, kh, kw, C] -> [C, 1, kh, kw]
        kernel = kernel.transpose(3, 0, 1, 2)
    else:  # OHWI -> OIHW
        kernel = kernel.transpose(0, 3, 1, 2)
    out[f"{prefix}.weight"] = np.ascontiguousarray(kernel)
    out[f"{prefix}.bias"] = w.pop(f"{name}/Bias")


def suffix(i: int) -> str:
    return "" if i == 0 else f"_{i}"


def convert_blazeface(w: dict) -> dict:
    out = {}
    conv(w, "conv2d", "stem", out)
    for i in range(16):
        conv(w, f"depthwise_conv2d{suffix(i)}", f"blocks.{i}.dw", out, depthwise=True)
        conv(w, f"conv2d_{i + 1}", f"blocks.{i}.pw", out)
    # Heads, named by their stride: 8 (the 16x16 map), 16 (the 8x8 map).
    for stride in (8, 16):
        conv(w, f"classificator_{stride}", f"cls_{stride}", out)
        conv(w, f"regressor_{stride}", f"reg_{stride}", out)
    assert not w, f"unconverted BlazeFace tensors: {sorted(w)}"
    return out


def prelu(w: dict, index: int, prefix: str, out: dict) -> None:
    out[f"{prefix}.weight"] = w.pop(f"p_re_lu_{index}/Alpha").reshape(-1)


def convert_facemesh(w: dict) -> dict:
    out = {}
    conv(w, "conv2d_1", "stem", out)
    prelu(w, 1, "stem_act", out)
    # Backbone: depthwise_conv2d_{i}, conv2d_{i+1}, p_re_lu_{i+1}, i = 1..14.
    for i in range(1, 15):
        conv(w, f"depthwise_conv2d_{i}", f"blocks.{i - 1}.dw", out, depthwise=True)
        conv(w, f"conv2d_{i + 1}", f"blocks.{i - 1}.pw", out)
        prelu(w, i + 1, f"blocks.{i - 1}.act", out)
    # Landmark head: three 128-channel blocks, a 1x1 down to 32, one 32-channel block, output.
    for j, i in enumerate((15, 16, 17)):
        conv(w, f"depthwise_conv2d_{i}", f"landmarks.blocks.{j}.dw", out, depthwise=True)
        conv(w, f"conv2d_{i + 1}", f"landmarks.blocks.{j}.pw", out)
        prelu(w, i + 1, f"landmarks.blocks.{j}.act", out)
    conv(w, "conv2d_19", "landmarks.reduce", out)
    prelu(w, 19, "landmarks.reduce_act", out)
    conv(w, "depthwise_conv2d_18", "landmarks.blocks.3.dw", out, depthwise=True)
    conv(w, "conv2d_20", "landmarks.blocks.3.pw", out)
    prelu(w, 20, "landmarks.blocks.3.act", out)
    conv(w, "conv2d_21", "landmarks.out", out)
    # Face-presence head, same shape with one output.
    conv(w, "depthwise_conv2d_23", "presence.blocks.0.dw", out, depthwise=True)
    conv(w, "conv2d_28", "presence.blocks.0.pw", out)
    prelu(w, 26, "presence.blocks.0.act", out)
    conv(w, "conv2d_29", "presence.reduce", out)
    prelu(w, 27, "presence.reduce_act", out)
    conv(w, "depthwise_conv2d_24", "presence.blocks.1.dw", out, depthwise=True)
    conv(w, "conv2d_30", "presence.blocks.1.pw", out)
    prelu(w, 28, "presence.blocks.1.act", out)
    conv(w, "conv2d_31", "presence.out", out)
    assert not w, f"unconverted FaceMesh tensors: {sorted(w)}"
    return out


def save_safetensors(tensors: dict, path: pathlib.Path, metadata: dict) -> None:
    """Writes the safetensors format by hand: u64 header length, JSON header, raw data."""
    dtypes = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32", np.dtype(np.uint32): "U32"}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": dtypes[arr.dtype],
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def triangles_from_source() -> list:
    """The wheel's FACEMESH_TESSELATION is a frozenset, but its source literal lists each
    triangle's directed edges a->b, b->c, c->a as consecutive triples: read them in order."""
    import ast

    from mediapipe.python.solutions import face_mesh_connections as fmc

    tree = ast.parse(pathlib.Path(fmc.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FACEMESH_TESSELATION":
            edges = ast.literal_eval(node.value.args[0])
            break
    else:
        raise RuntimeError("FACEMESH_TESSELATION not found")
    assert set(edges) == set(fmc.FACEMESH_TESSELATION)
    tris = []
    for k in range(0, len(edges), 3):
        (a, b), (b2, c), (c2, a2) = edges[k : k + 3]
        assert b == b2 and c == c2 and a == a2, f"edges {k}..{k + 2} are not a directed triangle"
        tris.append((a, b, c))
    # A consistently oriented surface uses every directed edge exactly once.
    assert len(edges) == len(set(edges)) == 3 * len(tris)
    return tris


def main() -> None:
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    modules = wheel_dir() / "modules"
    meta = {"source": "PyPI mediapipe==0.10.14", "license": "Apache-2.0"}
    bf = convert_blazeface(dequantized_weights(modules / "face_detection/face_detection_short_range.tflite"))
    save_safetensors(bf, ROOT / "weights/blazeface.safetensors", {**meta, "file": "face_detection_short_range.tflite"})
    fm = convert_facemesh(dequantized_weights(modules / "face_landmark/face_landmark.tflite"))
    save_safetensors(fm, ROOT / "weights/facemesh.safetensors", {**meta, "file": "face_landmark.tflite"})

    tris = triangles_from_source()
    undirected = {frozenset(e) for e in FACEMESH_TESSELATION}
    # Euler characteristic of a disc (the face mesh with its holes: eyes, mouth) is 1 - holes.
    chi = 468 - len(undirected) + len(tris)
    print(f"tessellation: {len(FACEMESH_TESSELATION)} directed edges, {len(undirected)} edges, "
          f"{len(tris)} triangles, Euler characteristic {chi}")
    out = ROOT / "assets/facemesh_triangles.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # Winding as listed: counter-clockwise on screen (seen from the camera); a Rust test checks
    # that nearly all triangles face +Z in the crop frame on the fixtures.
    out.write_text(json.dumps([list(t) for t in tris], separators=(",", ":")) + "\n")
    print("blazeface", sum(v.size for v in bf.values()), "params;",
          "facemesh", sum(v.size for v in fm.values()), "params")


if __name__ == "__main__":
    main()
