"""
The anomaly head of a package with a classifier (PaDiM-style): the
classifier's own backbone, cut before its widest layer, and one Gaussian of
its features over every cell of every good part. A cell's anomaly is the
Mahalanobis distance of its feature from that Gaussian, in the `--dims`
principal directions of the good features; the image score is the farthest
cell. Nothing is trained: the Gaussian is fitted on good parts in seconds.
  python3 models/train/gaussian_anomaly.py --data DIR --classifier DIR --out DIR [--depth 7] [--dims 64]
Writes DIR/anomaly.onnx (float), anomaly.int8.onnx (QDQ, calibrated on good
parts), reference.json and train.json, as train_anomaly.py does.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import DatasetError, INPUT_SCALE, load_manifest  # noqa: E402
from net import run_folded  # noqa: E402
from onnx_graph import read_float_convs, write_float, write_qdq  # noqa: E402
from quantize import activation_scales  # noqa: E402
from reference import write_reference  # noqa: E402
from train_anomaly import good_images  # noqa: E402


def features(layers, x, batch=100):
    with torch.no_grad():
        return torch.cat([run_folded(layers, x[i:i + batch]) for i in range(0, len(x), batch)])


def fit(f, dims):
    """
    Mean, principal directions and whitening of the cells' features f [N, C,
    h, w] as one 1x1 convolution: z = W (f - mean), |z|^2 the Mahalanobis
    distance in the first `dims` directions.
    """
    c = f.shape[1]
    x = f.permute(0, 2, 3, 1).reshape(-1, c).double()
    mean = x.mean(0)
    _, _, v = torch.pca_lowrank(x - mean, q=dims, center=False)
    p = (x - mean) @ v
    cov = torch.cov(p.T)
    cov += torch.eye(dims, dtype=torch.float64) * cov.diag().mean() * 1e-3
    # P = cov^-1 = L^T L with L = chol(P)^T: |L p|^2 = p^T P p.
    white = torch.linalg.cholesky(torch.linalg.inv(cov)).T @ v.T
    w = white.float()
    b = -(white @ mean).float()
    return w.numpy().reshape(dims, c, 1, 1).copy(), b.numpy().copy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--classifier", required=True, help="the classifier's model folder (its model.onnx)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--depth", type=int, default=7, help="backbone layers kept (7: through the 640-channel 1x1 convolution at 10x8)")
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--calibration", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    try:
        m = load_manifest(a.data)
        x_tr, x_va = good_images(a.data, m, "train"), good_images(a.data, m, "val")
    except DatasetError as e:
        sys.exit(f"gaussian_anomaly: {e}")
    t0 = time.time()
    backbone = read_float_convs(os.path.join(a.classifier, "model.onnx"))[:a.depth]
    f_tr = features(backbone, x_tr)
    if a.dims > f_tr.shape[1]:
        sys.exit(f"gaussian_anomaly: --dims {a.dims} is more than the {f_tr.shape[1]} feature channels")
    w, b = fit(f_tr, a.dims)
    head = {"kind": "conv", "w": w, "b": b, "stride": 1, "pad": 0, "groups": 1, "relu": False}
    # The distance's scale: the median of the good training parts' farthest
    # cells maps to 0.5, so scores spread over 0..1 and the threshold lands inside.
    d_tr = (features([head], f_tr) ** 2).sum(1).flatten(1).amax(1)
    head["scale"] = float(d_tr.median())
    layers = backbone + [head]
    scale = head["scale"]

    def image_score(z):
        d = (z ** 2).sum(1, keepdim=True)
        return (d / (d + scale)).amax(dim=(2, 3))

    os.makedirs(a.out, exist_ok=True)
    h, wd = m["input"]["height"], m["input"]["width"]
    write_float(layers, os.path.join(a.out, "anomaly.onnx"), (h, wd))
    gen = torch.Generator().manual_seed(a.seed)
    calib = x_tr[torch.randperm(len(x_tr), generator=gen)[:a.calibration]]
    write_qdq(layers, activation_scales(layers, calib, 99.999), os.path.join(a.out, "anomaly.int8.onnx"), (h, wd))
    write_reference(layers, x_va[:16], os.path.join(a.out, "reference.json"), image_score)
    meta = {
        "input": m["input"], "input_scale": INPUT_SCALE, "ok_label": m["ok_label"], "dataset": m["source"], "seed": a.seed,
        "good_images": {"train": len(x_tr), "val": len(x_va)}, "epochs_run": 0, "train_seconds": round(time.time() - t0, 1),
        "parameters": int(sum(l["w"].size + l["b"].size for l in layers)),
        "method": f"Gaussian of the classifier's features (its first {a.depth} layers, {f_tr.shape[1]} channels at "
                  f"{f_tr.shape[3]}x{f_tr.shape[2]} cells) over the good parts' cells, Mahalanobis distance in {a.dims} "
                  f"principal directions, score d / (d + {scale:.4g}) of the farthest cell",
        "schedule": "fitted, not trained", "history": [],
    }
    with open(os.path.join(a.out, "train.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"fitted in {meta['train_seconds']} s on {len(x_tr)} good parts ({len(x_tr) * f_tr.shape[2] * f_tr.shape[3]} cells); wrote {a.out}/anomaly.onnx, anomaly.int8.onnx")


if __name__ == "__main__":
    main()
