"""
Trains the anomaly head on good parts only, and exports it in float and int8.
  python3 models/train/train_anomaly.py --data DIR --out DIR [--seed 1] [--epochs 30] [--threads 1]
Reads the good ('ok') images of the dataset's train split (other classes, if
any, are never trained on) and pastes synthetic anomalies into half of each
batch (anomaly.py); the net (net.AnomalyNet) learns a map of where a part
differs from a good one. Writes DIR/anomaly.onnx (float), anomaly.int8.onnx
(QDQ, calibrated on good and pasted images), reference.json (scores of the
trained net for the ONNX check) and train.json (loss and learning-rate
history). The threshold is chosen later, on validation parts through
onnxruntime (evaluate_anomaly.py).
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from anomaly import KINDS, cell_targets, paste_anomalies  # noqa: E402
from dataset import DatasetError, INPUT_SCALE, augment, load_manifest, load_split  # noqa: E402
from net import AnomalyNet, folded_layers, run_folded  # noqa: E402
from onnx_graph import write_float, write_qdq  # noqa: E402
from quantize import activation_scales  # noqa: E402
from reference import write_reference  # noqa: E402

CELL = 16  # input pixels per map cell: the stem's stride 4, two stride-2 blocks


def image_score(map_logits):
    """The model's score output: the strongest cell's probability, [N, 1]."""
    return torch.sigmoid(map_logits).amax(dim=(2, 3))


def loss_of(model, x, change):
    logits = model(x)
    target, weight = cell_targets(change, CELL)
    cells = F.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction="sum") / weight.sum().clamp(min=1)
    # The image score is the strongest cell: it is what decides a part.
    top = logits.amax(dim=(2, 3))
    image = F.binary_cross_entropy_with_logits(top, target.amax(dim=(2, 3)))
    return cells + image


def good_images(data, m, split):
    x, y = load_split(data, m, split)
    return x[y == m["labels"].index(m["ok_label"])]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--calibration", type=int, default=256, help="int8 calibration images (half with a pasted anomaly)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"the synthetic anomalies pasted, of {', '.join(KINDS)}")
    a = ap.parse_args()
    kinds = tuple(a.kinds.split(","))
    if not kinds or any(k not in KINDS for k in kinds):
        sys.exit(f"train_anomaly: --kinds must name some of {', '.join(KINDS)}, got '{a.kinds}'")

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    try:
        m = load_manifest(a.data)
        x_tr, x_va = good_images(a.data, m, "train"), good_images(a.data, m, "val")
    except DatasetError as e:
        sys.exit(f"train_anomaly: {e}")
    if len(x_tr) < 8 or len(x_va) < 1:
        sys.exit(f"train_anomaly: {len(x_tr)} good training and {len(x_va)} validation images: the anomaly head needs good parts ('{m['ok_label']}')")
    os.makedirs(a.out, exist_ok=True)
    cl = torch.channels_last
    model = AnomalyNet().to(memory_format=cl)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    steps = a.epochs * math.ceil(len(x_tr) / a.batch)
    # A fixed budget with a cosine decay: there is no validation loss to
    # stop on that means what it does for a classifier (the anomalies are synthetic).
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(a.seed)
    val_gen = torch.Generator().manual_seed(a.seed + 1)
    x_va_pasted, va_change = paste_anomalies(x_va, val_gen, kinds=kinds)
    history, t0 = [], time.time()
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(x_tr), generator=gen)
        total = 0.0
        lr = opt.param_groups[0]["lr"]
        for i in range(0, len(order), a.batch):
            x = augment(x_tr[order[i:i + a.batch]], gen, flips=False)
            x, change = paste_anomalies(x, gen, kinds=kinds)
            loss = loss_of(model, x.contiguous(memory_format=cl), change)
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            total += loss.item() * len(x)
        model.eval()
        with torch.no_grad():
            val_loss = loss_of(model, x_va_pasted.contiguous(memory_format=cl), va_change).item()
        history.append({"epoch": epoch, "train_loss": total / len(x_tr), "val_loss": val_loss, "lr": lr})
        print(f"epoch {epoch:2d}  train loss {total/len(x_tr):.4f}  val loss (pasted anomalies) {val_loss:.4f}  lr {lr:.1e}  {time.time()-t0:.0f}s", flush=True)

    model.eval()
    layers = folded_layers(model)
    with torch.no_grad():
        drift = (run_folded(layers, x_va[:32]) - model(x_va[:32])).abs().max().item()
    if drift > 1e-3:
        sys.exit(f"train_anomaly: folding batch norm changed the map logits by {drift} (expected < 1e-3)")
    h, w = m["input"]["height"], m["input"]["width"]
    write_float(layers, os.path.join(a.out, "anomaly.onnx"), (h, w))
    calib_gen = torch.Generator().manual_seed(a.seed + 2)
    calib = x_tr[torch.randperm(len(x_tr), generator=calib_gen)[:a.calibration]]
    calib, _ = paste_anomalies(calib, calib_gen, kinds=kinds)
    scales = activation_scales(layers, calib, 99.999)
    write_qdq(layers, scales, os.path.join(a.out, "anomaly.int8.onnx"), (h, w))
    write_reference(layers, x_va[:16], os.path.join(a.out, "reference.json"), image_score)
    torch.save({"state": model.state_dict()}, os.path.join(a.out, "anomaly.pt"))
    meta = {
        "input": m["input"], "input_scale": INPUT_SCALE, "ok_label": m["ok_label"], "dataset": m["source"], "seed": a.seed,
        "good_images": {"train": len(x_tr), "val": len(x_va)}, "epochs_run": len(history),
        "train_seconds": round(time.time() - t0, 1), "parameters": sum(p.numel() for p in model.parameters()),
        "method": f"synthetic anomalies pasted into good parts ({', '.join(kinds)}), "
                  f"per-cell map of {CELL}x{CELL} px cells, image score = strongest cell",
        "schedule": f"AdamW, one-cycle learning rate to {a.lr:g}, {a.epochs} epochs",
        "quantize": {"calibration_images": len(calib), "percentile": 99.999},
        "history": history,
    }
    with open(os.path.join(a.out, "train.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"trained in {meta['train_seconds']} s on {len(x_tr)} good images, {meta['parameters']} parameters; wrote {a.out}/anomaly.onnx, anomaly.int8.onnx")


if __name__ == "__main__":
    main()
