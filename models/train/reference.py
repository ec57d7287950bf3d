"""A few test inputs and the trained network's logits for them, so each export can be checked numerically."""
import base64
import json

import numpy as np
import torch

from net import run_folded


def write_reference(layers, x, path, outputs=lambda y: y):
    """`outputs` maps the folded layers' result to the model's first output (the anomaly net's score)."""
    with torch.no_grad():
        logits = outputs(run_folded(layers, x)).numpy()
    # Inputs are value/255 of uint8 pixels: store the pixels, exactly.
    pixels = np.round(x.numpy() * 255).astype(np.uint8).transpose(0, 2, 3, 1)  # NCHW -> NHWC (BGR)
    with open(path, "w") as f:
        json.dump({
            "note": "pixels: base64 uint8 HWC BGR; the model input is pixel/255",
            "shape": list(pixels.shape[1:]),
            "pixels": [base64.b64encode(p.tobytes()).decode() for p in pixels],
            "logits": logits.tolist(),
        }, f)
