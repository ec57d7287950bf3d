"""Evaluation report: what a quality engineer asks of an inspection model."""
import numpy as np


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def rejects(probs, labels, ok_label, thresholds):
    """The daemon's decide rule: reject when any defect class reaches its threshold."""
    ok = labels.index(ok_label)
    out = np.zeros(len(probs), dtype=bool)
    for c, name in enumerate(labels):
        if c != ok:
            out |= probs[:, c] >= thresholds.get(name, thresholds.get("default", 0.5))
    return out


# An escaped defect costs this many false rejects when thresholds are chosen.
ESCAPE_COST = 5
GRID = [round(0.05 * i, 2) for i in range(1, 20)]


def choose_thresholds(probs, truth, labels, ok_label, rounds=3):
    """
    Per-defect-class thresholds from validation parts: coordinate descent on
    escapes * ESCAPE_COST + false rejects, each class in turn over a 0.05
    grid. Of the equally good values a class can take, the middle one is
    kept: the widest margin on both sides for parts the model has not seen.
    """
    truth = np.asarray(truth)
    defective = truth != labels.index(ok_label)
    t = {name: 0.5 for name in labels if name != ok_label}

    def cost(th):
        rej = rejects(probs, labels, ok_label, th)
        return ESCAPE_COST * int((defective & ~rej).sum()) + int((~defective & rej).sum())

    for _ in range(rounds):
        for name in t:
            costs = [cost({**t, name: g}) for g in GRID]
            best = [g for g, c in zip(GRID, costs) if c == min(costs)]
            t[name] = best[len(best) // 2]
    values = sorted(t.values())
    default = values[len(values) // 2]
    return {"default": default, **{k: v for k, v in t.items() if v != default}}


def report(logits, truth, labels, ok_label, thresholds):
    probs = softmax(np.asarray(logits, dtype=np.float64))
    truth = np.asarray(truth)
    pred = probs.argmax(axis=1)
    k = len(labels)
    cm = np.zeros((k, k), dtype=int)
    for t, p in zip(truth, pred):
        cm[t, p] += 1
    per_class = {}
    for c, name in enumerate(labels):
        tp = cm[c, c]
        per_class[name] = {
            "precision": float(tp / cm[:, c].sum()) if cm[:, c].sum() else 0.0,
            "recall": float(tp / cm[c, :].sum()) if cm[c, :].sum() else 0.0,
            "support": int(cm[c, :].sum()),
        }
    ok = labels.index(ok_label)
    rej = rejects(probs, labels, ok_label, thresholds)
    defective = truth != ok
    recall = float(rej[defective].mean()) if defective.any() else 1.0
    frr = float(rej[~defective].mean()) if (~defective).any() else 0.0
    return {
        "samples": int(len(truth)),
        "accuracy": float((pred == truth).mean()),
        "recall_defective": recall,
        "escape_rate": 1.0 - recall,
        "false_reject_rate": frr,
        "per_class": per_class,
        "confusion_matrix": {"labels": labels, "rows_truth_cols_predicted": cm.tolist()},
    }


def format_report(r):
    labels = r["confusion_matrix"]["labels"]
    lines = [
        f"accuracy {r['accuracy']*100:.2f}%  defective recall {r['recall_defective']*100:.2f}%  "
        f"escape {r['escape_rate']*100:.2f}%  false reject {r['false_reject_rate']*100:.2f}%  ({r['samples']} parts)",
        "class           precision  recall  support",
    ]
    for name in labels:
        p = r["per_class"][name]
        lines.append(f"{name:<15} {p['precision']*100:8.2f}% {p['recall']*100:6.2f}% {p['support']:8d}")
    w = max(len(l) for l in labels)
    lines.append("confusion (rows truth, columns predicted):")
    lines.append(" " * (w + 1) + " ".join(f"{l[:7]:>7}" for l in labels))
    for name, row in zip(labels, r["confusion_matrix"]["rows_truth_cols_predicted"]):
        lines.append(f"{name:<{w}} " + " ".join(f"{v:7d}" for v in row))
    return "\n".join(lines)
