"""
Step 4: float and int8 side by side on the held-out test split.
  python3 models/train/evaluate.py --model DIR
Reads DIR/train.json, DIR/onnxruntime-val.json (run-onnx's logits on the
validation split) and DIR/onnxruntime.json (logits and latency on the test
split), both measured through onnxruntime-node. The per-class reject
thresholds the package ships are chosen on validation for the int8 model,
the variant the daemon runs by default; the test split only reports. Writes
DIR/evaluation.json and prints the report with the acceptance checks.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics import choose_thresholds, format_report, report, softmax  # noqa: E402

# What a shipped inspection model must reach on held-out parts.
TARGETS = {
    "int8 defective recall >= 99%": lambda e: e["int8"]["recall_defective"] >= 0.99,
    "int8 false-reject rate <= 1%": lambda e: e["int8"]["false_reject_rate"] <= 0.01,
    "int8 accuracy within 1 point of float": lambda e: e["comparison"]["accuracy_delta"] >= -0.01,
    "int8 file <= 30% of float": lambda e: e["comparison"]["size_ratio"] <= 0.30,
    "int8 latency <= 40% of float": lambda e: e["comparison"]["latency_ratio"] <= 0.40,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    a = ap.parse_args()
    paths = {n: os.path.join(a.model, f) for n, f in [("train", "train.json"), ("ort", "onnxruntime.json"), ("val", "onnxruntime-val.json")]}
    for name, p in paths.items():
        if not os.path.isfile(p):
            sys.exit(f"evaluate: {p} not found: run the {'train' if name == 'train' else 'evaluate'} step first")
    with open(paths["train"]) as f:
        meta = json.load(f)
    with open(paths["ort"]) as f:
        ort = json.load(f)
    with open(paths["val"]) as f:
        val = json.load(f)
    labels, ok_label = meta["labels"], meta["ok_label"]
    if val["split"] != "val" or ort["split"] != "test":
        sys.exit(f"evaluate: expected validation and test logits, got {val['split']} and {ort['split']}")
    thresholds = choose_thresholds(softmax(np.array(val["models"]["int8"]["logits"], dtype=np.float64)), np.array(val["labels"]), labels, ok_label)
    on_val = report(np.array(val["models"]["int8"]["logits"]), np.array(val["labels"]), labels, ok_label, thresholds)
    print(f"thresholds chosen on validation for int8: {thresholds} (validation: defective recall "
          f"{on_val['recall_defective']*100:.2f}%, false reject {on_val['false_reject_rate']*100:.2f}%)")
    truth = np.array(ort["labels"])
    out = {"dataset": meta["dataset"], "split": ort["split"], "thresholds": thresholds,
           "thresholds_chosen_on": "validation split, int8 model",
           "latency": f"onnxruntime-node, {ort['threads']} thread, one image per run, median; input as the daemon "
                      f"feeds each: float {ort['models']['float'].get('input', 'float32')}, int8 {ort['models']['int8'].get('input', 'float32')}",
           "training": {k: meta[k] for k in ("epochs_run", "train_seconds", "parameters", "schedule") if k in meta}}
    for variant in ("float", "int8"):
        m = ort["models"][variant]
        r = report(np.array(m["logits"]), truth, labels, ok_label, thresholds)
        r["latency_ms"] = round(m["latency_ms"]["median"], 4)
        r["size_bytes"] = m["size_bytes"]
        out[variant] = r
        print(f"--- {variant}: {m['file']}, {m['size_bytes']} bytes, {r['latency_ms']} ms\n{format_report(r)}")
    out["comparison"] = {
        "accuracy_delta": out["int8"]["accuracy"] - out["float"]["accuracy"],
        "size_ratio": out["int8"]["size_bytes"] / out["float"]["size_bytes"],
        "latency_ratio": out["int8"]["latency_ms"] / out["float"]["latency_ms"],
    }
    out["checks"] = {name: bool(check(out)) for name, check in TARGETS.items()}
    c = out["comparison"]
    print(f"int8 vs float: accuracy {c['accuracy_delta']*100:+.2f} points, size {c['size_ratio']*100:.1f}%, latency {c['latency_ratio']*100:.1f}%")
    for name, ok in out["checks"].items():
        print(f"  {'pass' if ok else 'MISS'}  {name}")
    with open(os.path.join(a.model, "evaluation.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
