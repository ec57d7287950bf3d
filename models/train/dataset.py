"""Reads what export-dataset wrote and augments training batches."""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

FORMAT = "edge-inspect-dataset/1"
# Pixels reach the model as value / 255 (BGR order kept, no mean/std): the
# manifest says the same, and int8 quantization of the input is then exact.
INPUT_SCALE = 1.0 / 255.0


class DatasetError(Exception):
    pass


def load_manifest(data_dir):
    path = os.path.join(data_dir, "dataset.json")
    if not os.path.isfile(path):
        raise DatasetError(f"{path} not found: run `npm run model:dataset` (or export-dataset --out {data_dir}) first")
    with open(path) as f:
        m = json.load(f)
    if m.get("format") != FORMAT:
        raise DatasetError(f"{path}: format is {m.get('format')!r}, expected {FORMAT!r}")
    return m


def load_split(data_dir, manifest, split):
    """Returns (images as float NCHW tensor, labels as int64 tensor)."""
    s = manifest["splits"][split]
    shape = (manifest["input"]["height"], manifest["input"]["width"], 3)
    path = os.path.join(data_dir, s["file"])
    raw = np.fromfile(path, dtype=np.uint8)
    expected = s["count"] * shape[0] * shape[1] * shape[2]
    if raw.size != expected:
        raise DatasetError(f"{path}: {raw.size} bytes, dataset.json promises {s['count']} images of {shape} ({expected} bytes)")
    x = torch.from_numpy(raw.reshape(s["count"], *shape)).permute(0, 3, 1, 2).float().mul_(INPUT_SCALE)
    return x.contiguous(), torch.tensor(s["labels"], dtype=torch.int64)


def augment(x, gen, flips=True):
    """
    Rotation, shift, zoom, flips, brightness/contrast and sensor noise, as a
    camera on a line varies them. One affine warp per image (border pixels
    repeated: the belt goes on outside the frame). Without flips for a model
    of what good parts look like: a mirrored part is a wrong part.
    """
    n = x.shape[0]
    r = lambda *s: torch.rand(*s, generator=gen)
    angle = (r(n) - 0.5) * math.radians(30)
    zoom = 0.9 + r(n) * 0.2
    flip_x = torch.where(r(n) < 0.5, -1.0, 1.0)
    flip_y = torch.where(r(n) < 0.5, -1.0, 1.0)
    if not flips:
        flip_x, flip_y = torch.ones(n), torch.ones(n)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * flip_x
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin
    theta[:, 1, 1] = cos * flip_y
    theta[:, :, 2] = (r(n, 2) - 0.5) * 0.12
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    contrast = (0.8 + r(n) * 0.4).view(n, 1, 1, 1)
    brightness = ((r(n) - 0.5) * 0.2).view(n, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean + brightness
    x = x + torch.randn(x.shape, generator=gen) * (r(n) * 0.03).view(n, 1, 1, 1)
    return x.clamp_(0.0, 1.0)
