#!/usr/bin/python3
"""
Makes detection test packages whose outputs are known exactly: each model
ignores its pixels (it multiplies them by zero) and adds a constant tensor
in one export layout, so the decode, NMS and letterbox-undo tests can hold
hand-computed boxes. Written to test/fixtures/models/{yolov5,yolov8,ssd}-const.

    /usr/bin/python3 models/tools/make_detectors.py
"""
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from package import write_manifest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "models")
LABELS = ["ok", "scratch", "stain"]
SIZE = 64

# Boxes in model-input pixels (cx, cy, w, h), objectness, class scores.
ROWS = [
    ([32, 32, 16, 8], 0.9, [0.0, 0.8, 0.1]),  # scratch 0.72: kept
    ([33, 32, 16, 8], 0.8, [0.0, 0.8, 0.1]),  # scratch 0.64, IoU 0.88 with the first: suppressed
    ([32, 32, 16, 8], 0.9, [0.0, 0.1, 0.6]),  # stain 0.54 on the same box: kept (NMS is per class)
    ([10, 50, 4, 4], 0.1, [0.0, 0.9, 0.0]),   # objectness 0.1: under conf
    ([48, 20, 8, 8], 0.5, [0.0, 0.0, 0.7]),   # stain 0.35: kept
]


def const_model(name, outputs):
    """input [batch,3,64,64] → each output = constant + 0 * sum(input), batch-shaped."""
    inp = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])
    nodes = [
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.zeros((), np.float32))),
        helper.make_node("Mul", ["images", "zero"], ["zeros"]),
        helper.make_node("ReduceSum", ["zeros"], ["z4"], keepdims=1),
        helper.make_node("Constant", [], ["shape3"], value=numpy_helper.from_array(np.array([-1, 1, 1], np.int64))),
        helper.make_node("Reshape", ["z4", "shape3"], ["z"]),
    ]
    outs, inits = [], []
    for out_name, arr in outputs:
        inits.append(numpy_helper.from_array(arr.astype(np.float32)[None], out_name + "_const"))
        nodes.append(helper.make_node("Add", ["z", out_name + "_const"], [out_name]))
        outs.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["batch", *arr.shape]))
    g = helper.make_graph(nodes, name, [inp], outs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="edge-inspect models/tools")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def package(name, model, head):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    onnx.save(model, os.path.join(d, "model.onnx"))
    write_manifest(d, {
        "name": name, "version": "1.0.0", "engine": "onnx",
        "variants": {"float32": {"model": "model.onnx"}},
        "input": {"shape": [1, 3, SIZE, SIZE], "layout": "NCHW", "dtype": "float32", "color": "RGB", "resize": "letterbox",
                  "normalize": {"scale": 1 / 255}},
        "labels": LABELS, "ok_label": "ok", "head": head, "thresholds": {"default": 0.3},
    }, ["model.onnx"])


def main():
    v5 = np.array([[*b, obj, *cls] for b, obj, cls in ROWS], np.float32)  # [N, 5+C]
    package("yolov5-const", const_model("yolov5-const", [("output0", v5)]), {"type": "detect", "layout": "yolov5", "conf": 0.25, "iou": 0.5})
    # YOLOv8 has no objectness: its class scores are the products above.
    v8 = np.array([[*b, *(obj * np.array(cls))] for b, obj, cls in ROWS], np.float32).T  # [4+C, N]
    package("yolov8-const", const_model("yolov8-const", [("output0", v8)]), {"type": "detect", "layout": "yolov8", "conf": 0.25, "iou": 0.5})
    boxes = np.array([[(cx - w / 2) / SIZE, (cy - h / 2) / SIZE, (cx + w / 2) / SIZE, (cy + h / 2) / SIZE] for (cx, cy, w, h), _, _ in ROWS], np.float32)
    scores = np.array([obj * np.array(cls) for _, obj, cls in ROWS], np.float32)
    package("ssd-const", const_model("ssd-const", [("boxes", boxes), ("scores", scores)]),
            {"type": "detect", "layout": "ssd", "conf": 0.25, "iou": 0.5, "outputs": ["boxes", "scores"]})
    print(f"wrote yolov5-const, yolov8-const, ssd-const in {OUT}")


if __name__ == "__main__":
    main()
