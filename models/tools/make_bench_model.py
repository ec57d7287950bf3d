#!/usr/bin/python3
"""
Makes models/bench-mobilenet: a MobileNetV2-style network (width 0.5,
224x224 RGB, 5 classes, seeded random weights) for `npm run bench --
inference`, as ONNX float32, ONNX int8 (QDQ) and a TF.js graph model
(uint8-stored weights, float compute). Speed only: it is not trained.

    /usr/bin/python3 models/tools/make_bench_model.py
"""
import os
import shutil

import numpy as np
import onnx
import torch

import quantize
import tfjs_writer
from package import write_manifest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PKG = os.path.join(ROOT, "models", "bench-mobilenet")
LABELS = ["ok", "scratch", "crack", "stain", "missing_hole"]


def conv_bn(i, o, k, s, groups=1, relu=True):
    layers = [torch.nn.Conv2d(i, o, k, s, k // 2, groups=groups, bias=False), torch.nn.BatchNorm2d(o)]
    return torch.nn.Sequential(*layers, *([torch.nn.ReLU()] if relu else []))


class Inverted(torch.nn.Module):
    def __init__(self, i, o, s, t):
        super().__init__()
        h = i * t
        self.res = s == 1 and i == o
        self.body = torch.nn.Sequential(*([conv_bn(i, h, 1, 1)] if t != 1 else []), conv_bn(h, h, 3, s, groups=h), conv_bn(h, o, 1, 1, relu=False))

    def forward(self, x):
        return x + self.body(x) if self.res else self.body(x)


class MobileNetV2(torch.nn.Module):
    # (expansion, channels, repeats, stride), MobileNetV2's table at width 0.5
    CFG = [(1, 8, 1, 1), (6, 16, 2, 2), (6, 16, 3, 2), (6, 32, 4, 2), (6, 48, 3, 1), (6, 80, 3, 2), (6, 160, 1, 1)]

    def __init__(self):
        super().__init__()
        layers, c = [conv_bn(3, 16, 3, 2)], 16
        for t, o, n, s in self.CFG:
            for k in range(n):
                layers.append(Inverted(c, o, s if k == 0 else 1, t))
                c = o
        layers.append(conv_bn(c, 1280, 1, 1))
        self.features = torch.nn.Sequential(*layers)
        self.fc = torch.nn.Linear(1280, len(LABELS))

    def forward(self, x):
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


def main():
    torch.manual_seed(0)
    net = MobileNetV2().eval()
    shutil.rmtree(PKG, ignore_errors=True)
    os.makedirs(PKG)
    x = torch.rand(2, 3, 224, 224) * 4 - 2
    path = os.path.join(PKG, "model.onnx")
    torch.onnx.export(net, x[:1], path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    model = quantize.fold_identities(onnx.load(path))
    onnx.save(model, path)
    onnx.save(quantize.to_qdq(model, quantize.calibrate(model, x.numpy())), os.path.join(PKG, "model.int8.onnx"))
    files = ["model.onnx", "model.int8.onnx"] + [f"tfjs/{f}" for f in tfjs_writer.write_graph_from_onnx(os.path.join(PKG, "tfjs"), model, "uint8")]
    write_manifest(PKG, {
        "name": "bench-mobilenet", "version": "1.0.0", "engine": "onnx",
        "variants": {
            "float32": {"model": "model.onnx"},
            "int8": {"model": "model.int8.onnx", "precision": "int8"},
            "tfjs": {"engine": "tfjs", "model": "tfjs/model.json", "input": {"shape": [1, 224, 224, 3], "layout": "NHWC"}},
        },
        "input": {"shape": [1, 3, 224, 224], "layout": "NCHW", "dtype": "float32", "color": "RGB", "resize": "stretch",
                  "normalize": {"scale": 1 / 255, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}},
        "labels": LABELS, "ok_label": "ok", "head": {"type": "classify", "activation": "softmax", "top_k": 5},
    }, files)
    print(f"wrote {PKG}")


if __name__ == "__main__":
    main()
