"""
Writes the folded layers as a TF.js layers model (model.json + one weights
file), the format tf.loadLayersModel reads. tensorflowjs_converter is not
needed: the topology is a plain Keras Sequential config and the weights are
little-endian float32 in manifest order.

TF.js runs NHWC. Keras 'same' padding at stride 2 pads only bottom/right while
the trained convolutions pad all sides, so stride-2 convolutions get an
explicit ZeroPadding2D and 'valid' padding.
"""
import json
import os

import numpy as np


def write_tfjs(layers, out_dir, hw):
    os.makedirs(out_dir, exist_ok=True)
    h, w = hw
    keras_layers, weights, blobs = [], [], []
    first = True

    def add(cls, name, config, tensors=()):
        nonlocal first
        config = {"name": name, "trainable": False, "dtype": "float32", **config}
        if first:
            config["batch_input_shape"] = [None, h, w, 3]
            first = False
        keras_layers.append({"class_name": cls, "config": config})
        for suffix, arr in tensors:
            arr = np.ascontiguousarray(arr, dtype="<f4")
            weights.append({"name": f"{name}/{suffix}", "shape": list(arr.shape), "dtype": "float32"})
            blobs.append(arr.tobytes())

    for i, layer in enumerate(layers):
        if layer["kind"] == "conv":
            wt, k, stride = layer["w"], layer["w"].shape[2], layer["stride"]
            padding = "same" if layer["pad"] > 0 else "valid"
            if stride > 1 and layer["pad"] > 0:
                add("ZeroPadding2D", f"pad{i}", {"padding": [[layer["pad"]] * 2] * 2, "data_format": "channels_last"})
                padding = "valid"
            common = {"kernel_size": [k, k], "strides": [stride, stride], "padding": padding, "data_format": "channels_last",
                      "dilation_rate": [1, 1], "activation": "relu" if layer["relu"] else "linear", "use_bias": True}
            if layer["groups"] > 1:
                # [C, 1, kh, kw] -> [kh, kw, C, 1]
                add("DepthwiseConv2D", f"conv{i}", {**common, "depth_multiplier": 1},
                    [("depthwise_kernel", wt.transpose(2, 3, 0, 1)), ("bias", layer["b"])])
            else:
                # [O, I, kh, kw] -> [kh, kw, I, O]
                add("Conv2D", f"conv{i}", {**common, "filters": int(wt.shape[0])},
                    [("kernel", wt.transpose(2, 3, 1, 0)), ("bias", layer["b"])])
        elif layer["kind"] == "maxpool":
            add("GlobalMaxPooling2D", f"pool{i}", {"data_format": "channels_last"})
        else:
            add("Dense", f"fc{i}", {"units": int(layer["w"].shape[0]), "activation": "linear", "use_bias": True},
                [("kernel", layer["w"].T), ("bias", layer["b"])])

    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        f.write(b"".join(blobs))
    model = {
        "format": "layers-model",
        "generatedBy": "edge-inspect models/train",
        "convertedBy": None,
        "modelTopology": {"class_name": "Sequential", "config": {"name": "inspect", "layers": keras_layers},
                          "keras_version": "2.11.0", "backend": "tensorflow"},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": weights}],
    }
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(model, f)
