"""
The training report: one HTML file an engineer opens in a browser, with the
charts as inline SVG and the misjudged images as PNG files beside it.
  python3 models/train/report.py [--model DIR --data DIR] --anomaly DIR --anomaly-data DIR [--sets DIR,DIR] --out DIR
Writes OUT/report.html and OUT/report/*.png: loss and learning-rate curves,
the classifier's confusion matrix and per-class precision/recall (int8, test
split), the anomaly head's score histograms of good and defective parts with
its threshold, its ROC and precision/recall curves, and the parts the package
got wrong (escapes and false rejects) on the held-out sets.
"""
import argparse
import html
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from metrics import rejects, softmax  # noqa: E402
from pngio import write_png  # noqa: E402

W, H, PAD = 520, 260, 44
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]
MAX_WRONG = 24


def esc(v):
    return html.escape(str(v))


def svg_lines(series, xlabel, ylabel, log_y=False, xy_range=None, marks=()):
    """Line chart: series is [(name, xs, ys)]; marks are vertical lines [(x, label)]."""
    pts = [(x, y) for _, xs, ys in series for x, y in zip(xs, ys) if y is not None and (not log_y or y > 0)]
    if not pts:
        return "<p class=dim>no data</p>"
    tf = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    x0, x1 = xy_range[0] if xy_range else (min(p[0] for p in pts), max(p[0] for p in pts))
    y0, y1 = xy_range[1] if xy_range else (min(tf(p[1]) for p in pts), max(tf(p[1]) for p in pts))
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    sx = lambda x: PAD + (x - x0) / (x1 - x0) * (W - 2 * PAD)
    sy = lambda y: H - PAD - (tf(y) - y0) / (y1 - y0) * (H - 2 * PAD)
    out = [f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">',
           f'<rect x="{PAD}" y="{PAD}" width="{W-2*PAD}" height="{H-2*PAD}" fill="none" stroke="#999"/>']
    for t in (0, 0.5, 1):
        xv, yv = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        ylab = f"{10**yv:.2g}" if log_y else f"{yv:.3g}"
        out.append(f'<text x="{sx(xv):.1f}" y="{H-PAD+14}" font-size="10" text-anchor="middle">{xv:.3g}</text>')
        out.append(f'<text x="{PAD-4}" y="{H-PAD-t*(H-2*PAD)+3:.1f}" font-size="10" text-anchor="end">{ylab}</text>')
    out.append(f'<text x="{W/2}" y="{H-6}" font-size="11" text-anchor="middle">{esc(xlabel)}</text>')
    out.append(f'<text x="12" y="{H/2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {H/2})">{esc(ylabel)}</text>')
    for i, (name, xs, ys) in enumerate(series):
        c = COLOURS[i % len(COLOURS)]
        p = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys) if y is not None and (not log_y or y > 0))
        out.append(f'<polyline points="{p}" fill="none" stroke="{c}" stroke-width="1.6"/>')
        out.append(f'<text x="{W-PAD-4}" y="{PAD+14+14*i}" font-size="11" text-anchor="end" fill="{c}">{esc(name)}</text>')
    for x, label in marks:
        out.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{PAD}" y2="{H-PAD}" stroke="#000" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{sx(x)+3:.1f}" y="{PAD+12}" font-size="10">{esc(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def svg_histogram(groups, threshold):
    """Histograms of the anomaly score (logit scale), one bar colour per group, the threshold dashed."""
    allv = np.concatenate([logit(v) for _, v in groups if len(v)]) if any(len(v) for _, v in groups) else np.array([0.0])
    lo, hi = float(min(allv.min(), logit(threshold))) - 0.5, float(max(allv.max(), logit(threshold))) + 0.5
    bins = np.linspace(lo, hi, 41)
    counts = [np.histogram(logit(v), bins)[0] if len(v) else np.zeros(40, int) for _, v in groups]
    top = max(1, max(int(c.max()) for c in counts))
    sx = lambda x: PAD + (x - lo) / (hi - lo) * (W - 2 * PAD)
    sy = lambda n: H - PAD - n / top * (H - 2 * PAD)
    out = [f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">',
           f'<rect x="{PAD}" y="{PAD}" width="{W-2*PAD}" height="{H-2*PAD}" fill="none" stroke="#999"/>']
    for i, ((name, v), c) in enumerate(zip(groups, counts)):
        col = COLOURS[i % len(COLOURS)]
        for k, n in enumerate(c):
            if n:
                out.append(f'<rect x="{sx(bins[k]):.1f}" y="{sy(n):.1f}" width="{sx(bins[k+1])-sx(bins[k]):.1f}" height="{H-PAD-sy(n):.1f}" fill="{col}" fill-opacity="0.5"/>')
        out.append(f'<text x="{W-PAD-4}" y="{PAD+14+14*i}" font-size="11" text-anchor="end" fill="{col}">{esc(name)} ({len(v)})</text>')
    for t in (0, 0.5, 1):
        xv = lo + t * (hi - lo)
        out.append(f'<text x="{sx(xv):.1f}" y="{H-PAD+14}" font-size="10" text-anchor="middle">{1/(1+math.exp(-xv)):.2g}</text>')
    out.append(f'<text x="{PAD-4}" y="{PAD+4}" font-size="10" text-anchor="end">{top}</text>')
    tx = sx(float(logit(threshold)))
    out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{PAD}" y2="{H-PAD}" stroke="#000" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{tx+3:.1f}" y="{PAD+12}" font-size="10">threshold {threshold:.3g}</text>')
    out.append(f'<text x="{W/2}" y="{H-6}" font-size="11" text-anchor="middle">anomaly score (logit scale)</text>')
    out.append("</svg>")
    return "".join(out)


def roc_pr(good, bad):
    """ROC (false-positive rate, recall) and precision/recall points over every threshold."""
    s = np.concatenate([good, bad])
    y = np.concatenate([np.zeros(len(good)), np.ones(len(bad))])
    order = np.argsort(-s, kind="stable")
    y = y[order]
    tp, fp = np.cumsum(y), np.cumsum(1 - y)
    tpr = tp / max(1, len(bad))
    fpr = fp / max(1, len(good))
    prec = tp / np.maximum(1, tp + fp)
    auc = float(np.trapz(np.concatenate([[0], tpr]), np.concatenate([[0], fpr])))
    return fpr, tpr, prec, auc


def table(header, rows):
    h = "".join(f"<th>{esc(c)}</th>" for c in header)
    b = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>"


def pct(v):
    return "–" if v is None else f"{v*100:.2f}%"


def load(path):
    with open(path) as f:
        return json.load(f)


def read_images(data_dir, split="test"):
    m = load(os.path.join(data_dir, "dataset.json"))
    s = m["splits"][split]
    shape = (m["input"]["height"], m["input"]["width"], 3)
    raw = np.fromfile(os.path.join(data_dir, s["file"]), dtype=np.uint8).reshape(s["count"], *shape)
    return m, raw


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model")
    ap.add_argument("--data")
    ap.add_argument("--anomaly", required=True)
    ap.add_argument("--anomaly-data", required=True)
    ap.add_argument("--sets", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "report"), exist_ok=True)
    an_train = load(os.path.join(a.anomaly, "train.json"))
    an = load(os.path.join(a.anomaly, "anomaly.json"))
    thr = an["threshold"]
    cls = None
    if a.model:
        cls = {"train": load(os.path.join(a.model, "train.json")), "eval": load(os.path.join(a.model, "evaluation.json"))}
    sections = []

    # Training curves.
    curves = []
    if cls:
        hist = cls["train"]["history"]
        ep = [h["epoch"] for h in hist]
        curves.append("<h3>Classifier</h3>" + svg_lines([("train loss", ep, [h["train_loss"] for h in hist]), ("validation loss", ep, [h["val_loss"] for h in hist])], "epoch", "loss", log_y=True)
                      + svg_lines([("learning rate", ep, [h["lr"] for h in hist])], "epoch", "learning rate", log_y=True))
    hist = an_train["history"]
    ep = [h["epoch"] for h in hist]
    if not hist:
        curves.append(f"<h3>Anomaly head</h3><p>{esc(an_train['schedule'])}: no curves.</p>")
    else:
        curves.append("<h3>Anomaly head</h3>" + svg_lines([("train loss", ep, [h["train_loss"] for h in hist]), ("validation loss (pasted anomalies)", ep, [h["val_loss"] for h in hist])], "epoch", "loss", log_y=True)
                      + svg_lines([("learning rate", ep, [h["lr"] for h in hist])], "epoch", "learning rate", log_y=True))
    sections.append(("curves", "Loss and learning rate", "".join(curves)))

    # Confusion matrices and per-class figures.
    conf = []
    if cls:
        r = cls["eval"]["int8"]
        labels = r["confusion_matrix"]["labels"]
        cm = r["confusion_matrix"]["rows_truth_cols_predicted"]
        conf.append("<h3>Classifier, int8, test split (rows truth, columns predicted)</h3>"
                    + table([""] + labels, [[f"<b>{esc(l)}</b>"] + [str(v) for v in row] for l, row in zip(labels, cm)]))
        per = r["per_class"]
        perclass = table(["class", "precision", "recall", "support"], [[esc(k), pct(v["precision"]), pct(v["recall"]), v["support"]] for k, v in per.items()])
    # The package's verdicts on the held-out line seeds: good/defective against pass/reject, per head.
    rows, columns, kinds = [], [], {}
    for name, per_set in an["sets"].items():
        for head, x in per_set["int8"].items():
            rej_good = round(x["false_reject_rate"] * x["good"])
            bad_n = x.get("known_parts", 0) + x.get("novel_parts", 0)
            caught = round(x.get("recall_known", 0) * x.get("known_parts", 0) + x.get("recall_novel", 0) * x.get("novel_parts", 0))
            rows.append([esc(name), esc(head), x["good"] - rej_good, rej_good, bad_n - caught, caught])
            columns.append(f"{name} {head}")
            for kind, k in x["per_kind"].items():
                kinds.setdefault(kind, {})[columns[-1]] = f"{pct(k['recall'])} <span class=dim>({k['support']})</span>"
    conf.append("<h3>Package verdicts, int8, held-out line seeds</h3>"
                + table(["set", "head", "good passed", "good rejected", "defective passed", "defective rejected"], rows))
    sections.append(("confusion", "Confusion matrix", "".join(conf)))
    pc = "<h3>Classifier, int8, test split</h3>" + perclass if cls else ""
    pc += ("<h3>Recall per defect kind, int8, held-out line seeds (parts)</h3>"
           + table(["kind"] + columns, [[f"<b>{esc(k)}</b>"] + [v.get(c, "–") for c in columns] for k, v in kinds.items()]))
    sections.append(("per-class", "Per-class precision and recall", pc))

    # Anomaly score distributions and curves.
    good = np.array(an["int8_scores_on_sets"]["good"])
    bad = np.array(an["int8_scores_on_sets"]["defective"])
    if not len(good):
        test = load(os.path.join(a.anomaly, "onnxruntime.json"))
        m = load(os.path.join(a.anomaly_data, "dataset.json"))
        lab = np.array(test["labels"])
        s = np.array([v[0] for v in test["models"]["anomaly_int8"]["logits"]])
        good, bad = s[lab == m["labels"].index(m["ok_label"])], s[lab != m["labels"].index(m["ok_label"])]
    sections.append(("histogram", "Anomaly scores: good and defective parts", svg_histogram([("good", good), ("defective", bad)], thr)
                     + f"<p>Threshold {thr:.4g}, chosen on {esc(an['threshold_chosen_on'])} for at most {an['target_false_reject_rate']*100:g}% false rejects.</p>"))
    if len(good) and len(bad):
        fpr, tpr, prec, auc = roc_pr(good, bad)
        thr_fpr = float((good >= thr).mean())
        curves = (svg_lines([(f"ROC (AUC {auc:.4f})", fpr.tolist(), tpr.tolist())], "false-reject rate", "recall", xy_range=((0, 1), (0, 1)), marks=[(thr_fpr, "threshold")])
                  + svg_lines([("precision / recall", tpr.tolist(), prec.tolist())], "recall", "precision", xy_range=((0, 1), (0, 1))))
    else:
        curves = "<p class=dim>needs good and defective held-out parts</p>"
    sections.append(("roc", "ROC and precision/recall (anomaly score, int8)", curves))

    # The parts the package got wrong.
    wrong = []
    head = "both" if cls else "anomaly"
    for d in [s for s in a.sets.split(",") if s]:
        name = os.path.basename(os.path.normpath(d))
        m, images = read_images(d)
        run = load(os.path.join(a.anomaly, f"onnxruntime-{name}.json"))
        score = np.array([v[0] for v in run["models"]["anomaly_int8"]["logits"]])
        rej = score >= thr
        if cls:
            c = cls["eval"]
            meta = cls["train"]
            rej = rej | rejects(softmax(np.array(run["models"]["int8"]["logits"], dtype=np.float64)), meta["labels"], meta["ok_label"], c["thresholds"])
        ok = m["labels"].index(m["ok_label"])
        for i, l in enumerate(run["labels"]):
            if (l == ok) == bool(rej[i]):
                wrong.append((name, i, m["labels"][l], "false reject" if l == ok else "escape", float(score[i]), images[i], m["splits"]["test"]["origins"][i]))
    cards = []
    for n, (name, i, label, what, s, img, origin) in enumerate(wrong[:MAX_WRONG]):
        f = f"report/wrong-{n:02d}.png"
        write_png(os.path.join(a.out, f), img)
        cards.append(f'<figure><img src="{f}" alt="{esc(label)}"><figcaption><b>{esc(what)}</b>: {esc(label)}<br>anomaly {s:.3g} · {esc(origin)}</figcaption></figure>')
    body = f"<p>{len(wrong)} of the held-out parts judged wrong by the package ({esc(head)}, int8)" + (f"; the first {MAX_WRONG} shown" if len(wrong) > MAX_WRONG else "") + ".</p>"
    sections.append(("wrong", "Test images it got wrong", body + ('<div class="cards">' + "".join(cards) + "</div>" if cards else "<p>None.</p>")))

    checks = dict(cls["eval"].get("checks", {})) if cls else {}
    checks.update(an.get("checks", {}))
    summary = table(["check", ""], [[esc(k), "pass" if v else "<b>MISS</b>"] for k, v in checks.items()])
    lat = an.get("latency_ms", {})
    summary += "<p>Latency (onnxruntime-node, 1 thread, median): " + ", ".join(f"{esc(k)} {v:.3f} ms" for k, v in lat.items()) + "</p>"
    summary += f"<p>Anomaly head: {esc(an_train['method'])}; {an_train['parameters']} parameters; trained {an_train['train_seconds']} s on {an_train['good_images']['train']} good parts.</p>"
    nav = "".join(f'<a href="#{k}">{esc(t)}</a> ' for k, t, _ in sections)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Training report</title><style>
body{{font:14px system-ui,sans-serif;margin:24px;max-width:1150px}} table{{border-collapse:collapse;margin:8px 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}} th{{background:#f3f3f3}} section{{margin:24px 0}}
svg{{margin:4px 12px 4px 0;background:#fff}} .cards{{display:flex;flex-wrap:wrap;gap:8px}} figure{{margin:0;width:180px;font-size:11px}}
figure img{{width:180px;image-rendering:pixelated}} .dim{{color:#777}} nav a{{margin-right:12px}}
</style></head><body><h1>Training report</h1><nav>{nav}</nav>
<section id="summary"><h2>Summary</h2>{summary}</section>
""" + "".join(f'<section id="{k}"><h2>{esc(t)}</h2>{b}</section>' for k, t, b in sections) + "</body></html>"
    with open(os.path.join(a.out, "report.html"), "w") as f:
        f.write(page)
    print(f"report {a.out}/report.html: {len(sections) + 1} sections, {min(len(wrong), MAX_WRONG)} misjudged images")


if __name__ == "__main__":
    main()
