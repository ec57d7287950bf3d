"""
Step 3: post-training static int8 quantization of a trained model.
  python3 models/train/quantize.py --data DIR --model DIR [--calibration 512]
Calibrates every layer's input range on training images (no augmentation: the
camera's real distribution) and writes DIR/model.int8.onnx in QDQ form.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import DatasetError, INPUT_SCALE, load_manifest, load_split  # noqa: E402
from net import InspectNet, folded_layers, run_folded  # noqa: E402
from onnx_graph import write_qdq  # noqa: E402


def calibration_set(x, y, n, seed):
    """n images spread evenly over the classes, so rare defects set ranges too."""
    gen = np.random.default_rng(seed)
    classes = np.unique(y)
    per = max(1, n // len(classes))
    idx = np.concatenate([gen.permutation(np.where(y == c)[0])[:per] for c in classes])
    return x[torch.from_numpy(idx)]


def activation_scales(layers, x, percentile):
    taps = []
    with torch.no_grad():
        run_folded(layers, x, taps)
    scales = []
    for i, t in enumerate(taps):
        if i == 0:
            # The input is pixel/255: scale 1/255 represents it exactly.
            scales.append(INPUT_SCALE)
            continue
        v = t.flatten().numpy()
        top = float(np.percentile(v, percentile)) if percentile < 100 else float(v.max())
        scales.append(max(top, 1e-6) / 255.0)
    return scales


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="folder train.py wrote")
    ap.add_argument("--calibration", type=int, default=512, help="calibration images")
    ap.add_argument("--percentile", type=float, default=99.999, help="activation range clip (100 = max)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        m = load_manifest(a.data)
        x, y = load_split(a.data, m, "train")
    except DatasetError as e:
        sys.exit(f"quantize: {e}")
    ckpt_path = os.path.join(a.model, "model.pt")
    if not os.path.isfile(ckpt_path):
        sys.exit(f"quantize: {ckpt_path} not found: run `npm run model:train` first")
    ckpt = torch.load(ckpt_path)
    if ckpt["labels"] != m["labels"]:
        sys.exit(f"quantize: model labels {ckpt['labels']} differ from dataset labels {m['labels']}")
    model = InspectNet(len(ckpt["labels"]))
    model.load_state_dict(ckpt["state"])
    layers = folded_layers(model)
    calib = calibration_set(x, y.numpy(), a.calibration, a.seed)
    scales = activation_scales(layers, calib, a.percentile)
    h, w = m["input"]["height"], m["input"]["width"]
    out = os.path.join(a.model, "model.int8.onnx")
    write_qdq(layers, scales, out, (h, w))
    with open(os.path.join(a.model, "quantize.json"), "w") as f:
        json.dump({"calibration_images": len(calib), "percentile": a.percentile, "activation_scales": scales,
                   "weights": "int8 symmetric per output channel", "activations": "uint8, zero point 0"}, f, indent=1)
    print(f"quantized with {len(calib)} calibration images: {out} ({os.path.getsize(out)} bytes, float {os.path.getsize(os.path.join(a.model, 'model.onnx'))} bytes)")


if __name__ == "__main__":
    main()
