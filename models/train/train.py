"""
Step 2: trains the classifier on a dataset from export-dataset, reports on
its test split and exports ONNX float, TF.js and a numeric reference.
  python3 models/train/train.py --data DIR --out DIR [--seed 1] [--epochs 40] [--threads 1]
The learning rate halves when validation loss has not improved for
--lr-patience epochs; training stops after --patience epochs without
improvement, or at --epochs.
"""
import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import DatasetError, INPUT_SCALE, augment, load_manifest, load_split  # noqa: E402
from metrics import choose_thresholds, format_report, report, softmax  # noqa: E402
from net import InspectNet, folded_layers, run_folded  # noqa: E402
from onnx_graph import write_float  # noqa: E402
from tfjs_export import write_tfjs  # noqa: E402
from reference import write_reference  # noqa: E402


def predict(model, x, batch=256):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=40, help="at most this many epochs")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--lr-patience", type=int, default=3, help="epochs without validation improvement before the learning rate halves")
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--patience", type=int, default=8, help="epochs without validation improvement before stopping")
    ap.add_argument("--settle", type=int, default=5,
                    help="first epochs run at the full rate whatever validation says (the averaged weights lag the trained ones)")
    ap.add_argument("--ok-weight", type=float, default=2.0,
                    help="loss weight of good parts against each defect class: a good part called defective is a false reject")
    ap.add_argument("--ema", type=float, default=0.98, help="decay of the weight average that is validated and shipped")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads; on a busy 2-core machine 2 threads ran a batch 4x slower than 1")
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    try:
        m = load_manifest(a.data)
        x_tr, y_tr = load_split(a.data, m, "train")
        x_va, y_va = load_split(a.data, m, "val")
        x_te, y_te = load_split(a.data, m, "test")
    except DatasetError as e:
        sys.exit(f"train: {e}")
    labels, ok_label = m["labels"], m["ok_label"]
    os.makedirs(a.out, exist_ok=True)

    # channels_last: PyTorch's oneDNN convolutions train this net about
    # twice as fast as in NCHW on one CPU thread.
    cl = torch.channels_last
    x_tr, x_va, x_te = (t.contiguous(memory_format=cl) for t in (x_tr, x_va, x_te))
    model = InspectNet(len(labels)).to(memory_format=cl)
    # The weights validated, kept and shipped are an exponential moving average
    # of the trained ones (batch-norm statistics included): one epoch's weights
    # swing with its last batches, which made validation loss jump and stopped
    # training while it was still improving.
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    # Reduce on plateau of the averaged weights' validation loss (smooth
    # enough that a plateau is a plateau, not one noisy epoch).
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=0.5, patience=a.lr_patience, threshold=1e-3, threshold_mode="rel", min_lr=a.min_lr)
    # Classes weigh inversely to their share of the training set, and good
    # parts a further ok-weight: escapes are then traded against false rejects
    # by the thresholds chosen on validation, not by the class mix.
    counts = torch.bincount(y_tr, minlength=len(labels)).clamp(min=1).float()
    weight = counts.sum() / (len(labels) * counts)
    weight[labels.index(ok_label)] *= a.ok_weight
    gen = torch.Generator().manual_seed(a.seed)
    best, best_state, stale, step = float("inf"), None, 0, 0
    t0 = time.time()
    history = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(x_tr), generator=gen)
        total = 0.0
        for i in range(0, len(order), a.batch):
            idx = order[i:i + a.batch]
            loss = F.cross_entropy(model(augment(x_tr[idx], gen).contiguous(memory_format=cl)), y_tr[idx], weight=weight, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            # The average starts short and lengthens to --ema: early weights
            # are soon left behind, averaging them in long only adds lag.
            decay = min(a.ema, (1 + step) / (10 + step))
            with torch.no_grad():
                for e, v in zip(ema.state_dict().values(), model.state_dict().values()):
                    if e.dtype.is_floating_point:
                        e.mul_(decay).add_(v, alpha=1 - decay)
                    else:
                        e.copy_(v)
            total += loss.item() * len(idx)
        logits = predict(ema, x_va)
        val_loss = F.cross_entropy(logits, y_va).item()
        val_acc = (logits.argmax(1) == y_va).float().mean().item()
        lr = opt.param_groups[0]["lr"]
        if epoch > a.settle:
            schedule.step(val_loss)
        history.append({"epoch": epoch, "train_loss": total / len(x_tr), "val_loss": val_loss, "val_accuracy": val_acc, "lr": lr})
        print(f"epoch {epoch:2d}  train loss {total/len(x_tr):.4f}  val loss {val_loss:.4f}  val acc {val_acc*100:.2f}%  lr {lr:.1e}  {time.time()-t0:.0f}s", flush=True)
        if val_loss < best - 1e-4:
            best, stale = val_loss, 0
            best_state = {k: v.clone() for k, v in ema.state_dict().items()}
        elif epoch > a.settle:
            stale += 1
            if stale >= a.patience:
                print(f"early stop: no validation improvement for {a.patience} epochs")
                break
    model.load_state_dict(best_state)
    model.eval()

    thresholds = choose_thresholds(softmax(predict(model, x_va).numpy()), y_va.numpy(), labels, ok_label)
    print(f"thresholds chosen on validation: {thresholds}")
    r = report(predict(model, x_te).numpy(), y_te.numpy(), labels, ok_label, thresholds)
    print(format_report(r))
    layers = folded_layers(model)
    with torch.no_grad():
        drift = (run_folded(layers, x_te[:64]) - model(x_te[:64])).abs().max().item()
    if drift > 1e-3:
        sys.exit(f"train: folding batch norm changed the logits by {drift} (expected < 1e-3)")

    torch.save({"state": model.state_dict(), "labels": labels}, os.path.join(a.out, "model.pt"))
    h, w = m["input"]["height"], m["input"]["width"]
    write_float(layers, os.path.join(a.out, "model.onnx"), (h, w))
    write_tfjs(layers, os.path.join(a.out, "tfjs"), (h, w))
    write_reference(layers, x_te[:16], os.path.join(a.out, "reference.json"))
    meta = {
        "labels": labels, "ok_label": ok_label, "input": m["input"], "input_scale": INPUT_SCALE,
        "dataset": m["source"], "seed": a.seed, "epochs_run": len(history), "train_seconds": round(time.time() - t0, 1),
        "parameters": sum(p.numel() for p in model.parameters()), "thresholds": thresholds,
        "schedule": f"AdamW lr {a.lr:g}, halved after {a.lr_patience} epochs without validation improvement (min {a.min_lr:g}), "
                    f"stopped after {a.patience} (at most {a.epochs} epochs); best validation loss kept",
        "history": history, "test": r,
    }
    with open(os.path.join(a.out, "train.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"trained in {meta['train_seconds']} s, {meta['parameters']} parameters; wrote {a.out}/model.onnx, tfjs/, reference.json, train.json")


if __name__ == "__main__":
    main()
