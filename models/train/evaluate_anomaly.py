"""
Evaluates the anomaly head, alone and beside the classifier.
  python3 models/train/evaluate_anomaly.py --anomaly DIR --anomaly-data DIR --data DIR [--classifier DIR] [--sets DIR,DIR] [--target-fr 0.005]
Reads run-onnx's outputs in the anomaly folder: onnxruntime-val.json (scores
on the anomaly dataset's validation split), onnxruntime.json (its test split,
with the latency of every model measured side by side) and, for each
evaluation set DIR (parts of unseen line seeds, with defect kinds no model was
trained on), onnxruntime-<basename DIR>.json. The threshold is chosen for the
int8 model on good validation images only, for a false-reject rate of at most
--target-fr; the test split and the evaluation sets only report. "Known" kinds
are the classes of --data (the classifier's dataset), "novel" every other
defect kind. Writes DIR/anomaly.json and prints the figures with the checks.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics import rejects, softmax  # noqa: E402

VARIANTS = {"float": ("float", "anomaly_float"), "int8": ("int8", "anomaly_int8")}


def choose_threshold(good_scores, target):
    """
    The lowest threshold that rejects at most `target` of the good validation
    parts, placed halfway to the next good score above it (a margin for parts
    the model has not seen). Scores are probabilities: at most 1.
    """
    s = np.sort(np.asarray(good_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(target * len(s)))
    over = s[allowed]
    above = s[allowed - 1] if allowed > 0 else min(1.0, over + max(1e-4, (1.0 - over) / 2))
    return float(min(1.0, (over + above) / 2 if above > over else np.nextafter(over, 2.0)))


def rates(rej, labels, names, ok, known):
    """Recall per defect kind, over known and over novel kinds, and the false-reject rate."""
    labels = np.asarray(labels)
    good = labels == names.index(ok)
    out = {"false_reject_rate": float(rej[good].mean()) if good.any() else None, "good": int(good.sum()), "per_kind": {}}
    groups = {"known": [], "novel": []}
    for i, name in enumerate(names):
        sel = labels == i
        if name == ok or not sel.any():
            continue
        out["per_kind"][name] = {"recall": float(rej[sel].mean()), "support": int(sel.sum())}
        groups["known" if name in known else "novel"].append(sel)
    for g, sels in groups.items():
        if sels:
            sel = np.any(sels, axis=0)
            out[f"recall_{g}"] = float(rej[sel].mean())
            out[f"{g}_parts"] = int(sel.sum())
    return out


def load(path, what):
    if not os.path.isfile(path):
        sys.exit(f"evaluate_anomaly: {path} not found: run the {what} step first")
    with open(path) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anomaly", required=True)
    ap.add_argument("--anomaly-data", required=True, help="the dataset the anomaly head trained on (its good parts)")
    ap.add_argument("--data", required=True, help="the classifier's dataset (its classes are the known kinds)")
    ap.add_argument("--classifier", help="the classifier's model folder (evaluation.json: its thresholds)")
    ap.add_argument("--sets", default="", help="evaluation set folders, comma-separated")
    ap.add_argument("--target-fr", type=float, default=0.005)
    a = ap.parse_args()
    known = set(load(os.path.join(a.data, "dataset.json"), "dataset")["labels"])
    val = load(os.path.join(a.anomaly, "onnxruntime-val.json"), "anomaly")
    vdata = load(os.path.join(a.anomaly_data, "dataset.json"), "dataset")
    ok = vdata["ok_label"]
    good_val = np.array(val["labels"]) == vdata["labels"].index(ok)
    score = lambda run, model: np.array([v[0] for v in run["models"][model]["logits"]], dtype=np.float64)
    threshold = choose_threshold(score(val, "anomaly_int8")[good_val], a.target_fr)
    print(f"anomaly threshold {threshold:.6f}, chosen on {int(good_val.sum())} good validation parts for int8 (target false rejects <= {a.target_fr*100:g}%)")
    cls = None
    if a.classifier:
        ev = load(os.path.join(a.classifier, "evaluation.json"), "evaluate")
        meta = load(os.path.join(a.classifier, "train.json"), "train")
        cls = {"labels": meta["labels"], "ok": meta["ok_label"], "thresholds": ev["thresholds"]}

    def judged(run, names, variant):
        c_model, a_model = VARIANTS[variant]
        out = {"anomaly": score(run, a_model) >= threshold}
        out["anomaly_score"] = score(run, a_model)
        if cls:
            logits = np.array(run["models"][c_model]["logits"], dtype=np.float64)
            out["classifier"] = rejects(softmax(logits), cls["labels"], cls["ok"], cls["thresholds"])
            out["both"] = out["classifier"] | out["anomaly"]
        return out

    result = {"threshold": threshold, "threshold_chosen_on": f"{int(good_val.sum())} good validation parts, int8 model",
              "target_false_reject_rate": a.target_fr, "method": load(os.path.join(a.anomaly, "train.json"), "anomaly")["method"]}
    test = load(os.path.join(a.anomaly, "onnxruntime.json"), "anomaly")
    tnames = vdata["labels"]
    result["test"] = {}
    for variant in VARIANTS:
        j = judged(test, tnames, variant)
        result["test"][variant] = {k: rates(j[k], test["labels"], tnames, ok, known) for k in ("anomaly", "classifier", "both") if k in j}
    lat = {name: m["latency_ms"]["median"] for name, m in test["models"].items() if m.get("latency_ms")}
    result["latency_ms"] = lat
    if "int8" in lat:
        result["latency_ratio_with_anomaly"] = (lat["int8"] + lat["anomaly_int8"]) / lat["int8"]
    result["sets"] = {}
    scores = {"good": [], "defective": []}
    for d in [s for s in a.sets.split(",") if s]:
        name = os.path.basename(os.path.normpath(d))
        names = load(os.path.join(d, "dataset.json"), "dataset")["labels"]
        run = load(os.path.join(a.anomaly, f"onnxruntime-{name}.json"), "anomaly")
        result["sets"][name] = {}
        for variant in VARIANTS:
            j = judged(run, names, variant)
            result["sets"][name][variant] = {k: rates(j[k], run["labels"], names, ok, known) for k in ("anomaly", "classifier", "both") if k in j}
        good = np.array(run["labels"]) == names.index(ok)
        scores["good"] += score(run, "anomaly_int8")[good].tolist()
        scores["defective"] += score(run, "anomaly_int8")[~good].tolist()
    result["int8_scores_on_sets"] = scores
    result["checks"] = checks(result, cls is not None)
    for head in ("classifier", "anomaly", "both"):
        for name, per in result["sets"].items():
            for variant, r in per.items():
                if head in r:
                    x = r[head]
                    print(f"{name:>14} {variant:>5} {head:>10}: novel recall {x.get('recall_novel', float('nan'))*100:6.2f}%  known recall "
                          f"{x.get('recall_known', float('nan'))*100:6.2f}%  false rejects {x['false_reject_rate']*100:5.2f}% ({x['good']} good)")
    for name, ok_ in result["checks"].items():
        print(f"  {'pass' if ok_ else 'MISS'}  {name}")
    with open(os.path.join(a.anomaly, "anomaly.json"), "w") as f:
        json.dump(result, f, indent=1)


def checks(r, with_classifier):
    """The acceptance figures, on every evaluation set; int8 (the variant the daemon runs) and float within a point of it."""
    out = {}
    sets = r["sets"].values()
    if not sets:
        return out
    head = "both" if with_classifier else "anomaly"
    worst = lambda key, variant="int8", h=head: min(s[variant][h].get(key, 1.0) for s in sets)
    most = lambda key, variant="int8", h=head: max(s[variant][h][key] for s in sets)
    out[f"int8 {head}: novel recall >= 95%"] = worst("recall_novel") >= 0.95
    out[f"int8 {head}: false rejects <= 1%"] = most("false_reject_rate") <= 0.01
    if with_classifier:
        out["int8 both: known recall >= 99% and no worse than the classifier alone"] = all(
            s["int8"]["both"]["recall_known"] >= max(0.99, s["int8"]["classifier"]["recall_known"]) for s in sets)
    else:
        out["int8 anomaly: known recall >= 95%"] = worst("recall_known") >= 0.95
    out["int8 within 1 point of float"] = all(
        abs(s["int8"][head][k] - s["float"][head][k]) <= 0.01 for s in sets for k in ("recall_novel", "recall_known", "false_reject_rate") if k in s["int8"][head])
    if "latency_ratio_with_anomaly" in r:
        out["classifier + anomaly latency <= 2x classifier alone"] = r["latency_ratio_with_anomaly"] <= 2.0
    return out


if __name__ == "__main__":
    main()
