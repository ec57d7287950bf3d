#!/usr/bin/python3
"""
Makes the test anomaly package test/fixtures/models/tiny-anomaly: an anomaly
"model" that needs no training, so the daemon's anomaly head can be tested on
known answers. Its map is the probability that a pixel is saturated red
(sigmoid of 4 R - 2 G - 2 B - 6 on the tiny classifier's normalised input,
RGB, 64x64): near 0 on the grey fixture parts, near 1 on a red patch. The
score is the map's maximum. Beside the good model, the broken ones the loader
must refuse: no map output, a map smaller than the input, NaN everywhere.
Deterministic: run again, same files.

    /usr/bin/python3 models/tools/make_anomaly_fixture.py
"""
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from package import write_manifest
from pngio import write_png

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PKG = os.path.join(ROOT, "test", "fixtures", "models", "tiny-anomaly")
IMAGES = os.path.join(ROOT, "test", "fixtures", "images", "classify")
SIZE = 64
MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]


def model(path, map_size=SIZE, with_map=True, nan=False):
    inits = [
        numpy_helper.from_array(np.array([[[[4.0]], [[-2.0]], [[-2.0]]]], dtype=np.float32), "w"),
        numpy_helper.from_array(np.array([-6.0], dtype=np.float32), "b"),
        numpy_helper.from_array(np.array(float("nan") if nan else 1.0, dtype=np.float32), "k"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["logit"], kernel_shape=[1, 1]),
        helper.make_node("Mul", ["logit", "k"], ["scaled"]),
        helper.make_node("Sigmoid", ["scaled"], ["prob"]),
        helper.make_node("MaxPool", ["prob"], ["pool"], kernel_shape=[SIZE, SIZE]),
        helper.make_node("Flatten", ["pool"], ["anomaly_score"], axis=1),
    ]
    outputs = [helper.make_tensor_value_info("anomaly_score", TensorProto.FLOAT, [1, 1])]
    if with_map:
        step = SIZE // map_size
        if step == 1:
            nodes.append(helper.make_node("Identity", ["prob"], ["anomaly_map"]))
        else:
            nodes.append(helper.make_node("MaxPool", ["prob"], ["anomaly_map"], kernel_shape=[step, step], strides=[step, step]))
        outputs.append(helper.make_tensor_value_info("anomaly_map", TensorProto.FLOAT, [1, 1, map_size, map_size]))
    graph = helper.make_graph(nodes, "tiny_anomaly", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, SIZE, SIZE])], outputs, initializer=inits)
    m = helper.make_model(graph, producer_name="edge-inspect models/tools", opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(PKG, path))
    return path


def main():
    shutil.rmtree(PKG, ignore_errors=True)
    os.makedirs(os.path.join(PKG, "golden"))
    files = [
        model("anomaly.onnx"),
        model("anomaly-no-map.onnx", with_map=False),
        model("anomaly-small-map.onnx", map_size=SIZE // 2),
        model("anomaly-nan.onnx", nan=True),
    ]
    shutil.copy(os.path.join(IMAGES, "ok-00.png"), os.path.join(PKG, "golden", "ok-00.png"))
    # A mid-grey part with a red square (BGR) at x 40..51, y 8..19.
    red = np.full((SIZE, SIZE, 3), 128, dtype=np.uint8)
    red[8:20, 40:52] = (0, 0, 255)
    write_png(os.path.join(PKG, "golden", "red.png"), red)
    files += ["golden/ok-00.png", "golden/red.png"]
    write_manifest(PKG, {
        "name": "tiny-anomaly",
        "version": "1.0.0",
        "engine": "onnx",
        "variants": {"float32": {"anomaly_model": "anomaly.onnx"}},
        "input": {"shape": [1, 3, SIZE, SIZE], "layout": "NCHW", "dtype": "float32", "color": "RGB", "resize": "stretch",
                  "normalize": {"scale": 1 / 255, "mean": MEAN, "std": STD}},
        "labels": ["ok"],
        "ok_label": "ok",
        "anomaly": {"threshold": 0.5, "score_output": "anomaly_score", "map_output": "anomaly_map"},
        "golden": [{"image": "golden/ok-00.png", "expect": "ok"}, {"image": "golden/red.png", "expect": "anomaly"}],
    }, files)
    print(f"wrote {PKG}")


if __name__ == "__main__":
    main()
