#!/usr/bin/python3
"""
Makes the test classifier package test/fixtures/models/tiny-classifier and the
fixture images under test/fixtures/images/classify. A small CNN learns the
procedural parts of synthetic_parts.py; the same weights are written as ONNX
float32, ONNX int8 (QDQ and QOperator) and TF.js (layers float32 / uint8 /
float16, graph float32). Deterministic: run again, same files.

    /usr/bin/python3 models/tools/make_classifier.py
Needs Debian's python3-torch, python3-onnx, python3-numpy, python3-yaml.
"""
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F

import quantize
import tfjs_writer
from package import write_manifest
from pngio import write_png
from synthetic_parts import LABELS, render

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PKG = os.path.join(ROOT, "test", "fixtures", "models", "tiny-classifier")
IMAGES = os.path.join(ROOT, "test", "fixtures", "images", "classify")
SIZE = 64
MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]


def to_input(bgr_images):
    """What the daemon's preprocessing does: stretch-resize, BGR→RGB, (x/255 - mean)/std, NCHW."""
    out = []
    for img in bgr_images:
        t = torch.from_numpy(img[:, :, ::-1].copy()).permute(2, 0, 1)[None].float()
        t = F.interpolate(t, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
        out.append(t[0])
    x = torch.stack(out) / 255.0
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def dataset(rng, n):
    imgs, ys = [], []
    for i in range(n):
        y = i % len(LABELS)
        h, w = int(rng.integers(56, 128)), int(rng.integers(56, 128))
        imgs.append(render(rng, LABELS[y], h, w))
        ys.append(y)
    return imgs, torch.tensor(ys)


class Net(torch.nn.Module):
    CHANNELS = [(3, 16), (16, 32), (32, 32), (32, 64)]

    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList(torch.nn.Conv2d(i, o, 3, stride=2, padding=1) for i, o in self.CHANNELS)
        self.fc = torch.nn.Linear(64, len(LABELS))

    def forward(self, x):
        for c in self.convs:
            x = F.relu(c(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def layers(self):
        out = [("conv", {"w": c.weight.detach().numpy(), "b": c.bias.detach().numpy(), "stride": 2, "pad": 1, "relu": True}) for c in self.convs]
        return out + [("gap", {}), ("dense", {"w": self.fc.weight.detach().numpy(), "b": self.fc.bias.detach().numpy()})]


def train(net, x, y):
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for epoch in range(12):
        perm = torch.randperm(len(y), generator=g)
        for i in range(0, len(y), 64):
            idx = perm[i : i + 64]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            acc = (net(x).argmax(1) == y).float().mean().item()
        print(f"epoch {epoch}: loss {loss.item():.3f}, train accuracy {acc:.3f}")


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    rng = np.random.default_rng(1)
    imgs, y = dataset(rng, 3000)
    x = to_input(imgs)
    net = Net()
    train(net, x, y)
    net.eval()

    shutil.rmtree(PKG, ignore_errors=True)
    shutil.rmtree(IMAGES, ignore_errors=True)
    os.makedirs(PKG)
    os.makedirs(IMAGES)
    fixtures, fy = dataset(np.random.default_rng(99), 24)
    names = []
    for i, (img, yi) in enumerate(zip(fixtures, fy.tolist())):
        name = f"{LABELS[yi]}-{i:02d}.png"
        write_png(os.path.join(IMAGES, name), img)
        names.append(name)
    with torch.no_grad():
        acc = (net(to_input(fixtures)).argmax(1) == fy).float().mean().item()
    print(f"fixture accuracy {acc:.3f}")

    onnx_path = os.path.join(PKG, "model.onnx")
    torch.onnx.export(net, x[:1], onnx_path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    model = onnx.load(onnx_path)
    qparams = quantize.calibrate(model, x[:256].numpy())
    onnx.save(quantize.to_qdq(model, qparams), os.path.join(PKG, "model.int8.onnx"))
    onnx.save(quantize.to_qoperator(model, qparams), os.path.join(PKG, "model.int8-qop.onnx"))

    files = ["model.onnx", "model.int8.onnx", "model.int8-qop.onnx"]
    layers = net.layers()
    for sub, writer, quant in [("tfjs", tfjs_writer.write_layers_model, "float32"),
                               ("tfjs-uint8", tfjs_writer.write_layers_model, "uint8"),
                               ("tfjs-f16", tfjs_writer.write_layers_model, "float16"),
                               ("tfjs-graph", tfjs_writer.write_graph_model, "float32")]:
        files += [f"{sub}/{f}" for f in writer(os.path.join(PKG, sub), layers, (SIZE, SIZE), 3, quant)]

    os.makedirs(os.path.join(PKG, "golden"))
    golden = []
    for label in ("ok", "scratch"):
        name = next(n for n in names if n.startswith(label + "-"))
        shutil.copy(os.path.join(IMAGES, name), os.path.join(PKG, "golden", name))
        files.append(f"golden/{name}")
        golden.append({"image": f"golden/{name}", "expect": label})

    def nhwc():
        return {"shape": [1, SIZE, SIZE, 3], "layout": "NHWC"}
    write_manifest(PKG, {
        "name": "tiny-classifier",
        "version": "1.0.0",
        "engine": "onnx",
        "variants": {
            "float32": {"model": "model.onnx"},
            "int8": {"model": "model.int8.onnx", "precision": "int8"},
            "int8-qop": {"model": "model.int8-qop.onnx", "precision": "int8"},
            "tfjs": {"engine": "tfjs", "model": "tfjs/model.json", "input": nhwc()},
            "tfjs-uint8": {"engine": "tfjs", "model": "tfjs-uint8/model.json", "input": nhwc(), "precision": "uint8-weights"},
            "tfjs-f16": {"engine": "tfjs", "model": "tfjs-f16/model.json", "input": nhwc(), "precision": "float16-weights"},
            "tfjs-graph": {"engine": "tfjs", "model": "tfjs-graph/model.json", "input": nhwc()},
        },
        "input": {"shape": [1, 3, SIZE, SIZE], "layout": "NCHW", "dtype": "float32", "color": "RGB", "resize": "stretch",
                  "normalize": {"scale": 1 / 255, "mean": MEAN, "std": STD}},
        "labels": LABELS,
        "ok_label": "ok",
        "head": {"type": "classify", "activation": "softmax", "top_k": 3},
        "thresholds": {"default": 0.5, "hole": 0.4},
        "golden": golden,
    }, files)
    print(f"wrote {PKG} and {len(names)} images in {IMAGES}")


if __name__ == "__main__":
    main()
