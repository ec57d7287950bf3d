"""Procedural part images (BGR uint8) with one defect class each, for the tools' test models."""
import numpy as np

LABELS = ["ok", "scratch", "stain", "hole"]


def render(rng, label, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(120, 170)
    grad = rng.uniform(-20, 20) * (xx / w - 0.5) + rng.uniform(-20, 20) * (yy / h - 0.5)
    img = np.repeat((base + grad)[:, :, None], 3, axis=2) + rng.normal(0, 5, (h, w, 3))
    img *= np.array([rng.uniform(0.9, 1.1) for _ in range(3)], dtype=np.float32)
    cx, cy = rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h
    if label == "scratch":
        ang = rng.uniform(0, np.pi)
        half = rng.uniform(0.2, 0.35) * min(h, w)
        dx, dy = np.cos(ang), np.sin(ang)
        t = np.clip((xx - cx) * dx + (yy - cy) * dy, -half, half)
        dist = np.hypot(xx - (cx + t * dx), yy - (cy + t * dy))
        mask = np.clip(1.5 - dist, 0, 1)
        img -= mask[:, :, None] * rng.uniform(60, 90)
    elif label == "stain":
        r = rng.uniform(0.1, 0.16) * min(h, w)
        d = np.hypot((xx - cx) / 1.3, yy - cy) / r
        mask = np.clip(1.5 - d, 0, 1)
        img -= mask[:, :, None] * np.array([70, 40, 10], dtype=np.float32)
    elif label == "hole":
        r = rng.uniform(0.05, 0.08) * min(h, w)
        mask = (np.hypot(xx - cx, yy - cy) < r).astype(np.float32)
        img = img * (1 - mask[:, :, None]) + 15 * mask[:, :, None]
    return np.clip(img, 0, 255).astype(np.uint8)
