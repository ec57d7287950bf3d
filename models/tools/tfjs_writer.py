"""
Writes TF.js models in the formats tensorflowjs_converter produces (that
converter is not installable here), from a plain list of layers holding
numpy weights in torch's layout:
  ("conv", {"w": [out,in,kh,kw], "b": [out], "stride": s, "pad": p, "relu": bool})
  ("gap", {})
  ("dense", {"w": [out,in], "b": [out]})
The input is NHWC float32. Weights may be stored float32, float16 or uint8
(affine min/scale quantization), as the converter's --quantize_* options do.
"""
import base64
import json
import os

import numpy as np


def _encode(name, arr, quant):
    arr = np.asarray(arr)
    spec = {"name": name, "shape": list(arr.shape), "dtype": "int32" if arr.dtype == np.int32 else "float32"}
    if arr.dtype == np.int32 or quant == "float32":
        return spec, arr.astype(np.int32 if arr.dtype == np.int32 else np.float32).tobytes()
    if quant == "float16":
        spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
        return spec, arr.astype(np.float16).tobytes()
    lo, hi = float(arr.min()), float(arr.max())
    scale = (hi - lo) / 255.0 or 1.0
    spec["quantization"] = {"dtype": "uint8", "min": lo, "scale": scale, "original_dtype": "float32"}
    return spec, np.round((arr - lo) / scale).astype(np.uint8).tobytes()


def _write(out_dir, topology, fmt, weights, quant):
    os.makedirs(out_dir, exist_ok=True)
    specs, blobs = [], []
    for name, arr in weights:
        spec, blob = _encode(name, arr, quant)
        specs.append(spec)
        blobs.append(blob)
    shard = "group1-shard1of1.bin"
    with open(os.path.join(out_dir, shard), "wb") as f:
        f.write(b"".join(blobs))
    doc = {
        "format": fmt,
        "generatedBy": "edge-inspect models/tools",
        "convertedBy": "edge-inspect models/tools/tfjs_writer.py",
        "modelTopology": topology,
        "weightsManifest": [{"paths": [shard], "weights": specs}],
    }
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(doc, f)
    return ["model.json", shard]


def write_layers_model(out_dir, layers, input_hw, channels, quant="float32"):
    keras_layers, weights = [], []
    first = True
    for i, (kind, p) in enumerate(layers):
        extra = {"batch_input_shape": [None, input_hw[0], input_hw[1], channels], "dtype": "float32"} if first else {}
        first = False
        if kind == "conv":
            if p["pad"]:
                pad = p["pad"]
                keras_layers.append({"class_name": "ZeroPadding2D", "config": {"name": f"pad{i}", "trainable": False, "padding": [[pad, pad], [pad, pad]], "data_format": "channels_last", **extra}})
                extra = {}
            out_c, in_c, kh, kw = p["w"].shape
            keras_layers.append({"class_name": "Conv2D", "config": {
                "name": f"conv{i}", "trainable": False, "filters": int(out_c), "kernel_size": [int(kh), int(kw)],
                "strides": [p["stride"], p["stride"]], "padding": "valid", "data_format": "channels_last",
                "dilation_rate": [1, 1], "activation": "relu" if p["relu"] else "linear", "use_bias": True, **extra}})
            weights += [(f"conv{i}/kernel", p["w"].transpose(2, 3, 1, 0)), (f"conv{i}/bias", p["b"])]
        elif kind == "gap":
            keras_layers.append({"class_name": "GlobalAveragePooling2D", "config": {"name": f"gap{i}", "trainable": False, "data_format": "channels_last", **extra}})
        elif kind == "dense":
            keras_layers.append({"class_name": "Dense", "config": {"name": f"dense{i}", "trainable": False, "units": int(p["w"].shape[0]), "activation": "linear", "use_bias": True, **extra}})
            weights += [(f"dense{i}/kernel", p["w"].T), (f"dense{i}/bias", p["b"])]
    topology = {"class_name": "Sequential", "config": {"name": "sequential", "layers": keras_layers}, "keras_version": "2.11.0", "backend": "tensorflow"}
    return _write(out_dir, topology, "layers-model", weights, quant)


def _s(text):
    return {"s": base64.b64encode(text.encode()).decode()}


def _ints(xs):
    return {"list": {"i": [str(x) for x in xs]}}


def write_graph_model(out_dir, layers, input_hw, channels, quant="float32"):
    T = {"T": {"type": "DT_FLOAT"}}
    nodes = [{"name": "input", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": {"dim": [{"size": "-1"}, {"size": str(input_hw[0])}, {"size": str(input_hw[1])}, {"size": str(channels)}]}}}}]
    weights = []

    def const(name, arr, dtype="DT_FLOAT"):
        nodes.append({"name": name, "op": "Const", "attr": {"dtype": {"type": dtype}, "value": {"tensor": {"dtype": dtype, "tensorShape": {"dim": [{"size": str(d)} for d in arr.shape]}}}}})
        weights.append((name, arr))
        return name

    x = "input"
    for i, (kind, p) in enumerate(layers):
        if kind == "conv":
            if p["pad"]:
                pad = p["pad"]
                paddings = const(f"pad{i}/paddings", np.array([[0, 0], [pad, pad], [pad, pad], [0, 0]], dtype=np.int32), "DT_INT32")
                nodes.append({"name": f"pad{i}", "op": "Pad", "input": [x, paddings], "attr": {**T, "Tpaddings": {"type": "DT_INT32"}}})
                x = f"pad{i}"
            k = const(f"conv{i}/kernel", p["w"].transpose(2, 3, 1, 0).astype(np.float32))
            nodes.append({"name": f"conv{i}/Conv2D", "op": "Conv2D", "input": [x, k], "attr": {**T, "strides": _ints([1, p["stride"], p["stride"], 1]), "padding": _s("VALID"), "data_format": _s("NHWC"), "dilations": _ints([1, 1, 1, 1])}})
            b = const(f"conv{i}/bias", p["b"].astype(np.float32))
            nodes.append({"name": f"conv{i}/BiasAdd", "op": "BiasAdd", "input": [f"conv{i}/Conv2D", b], "attr": {**T, "data_format": _s("NHWC")}})
            x = f"conv{i}/BiasAdd"
            if p["relu"]:
                nodes.append({"name": f"conv{i}/Relu", "op": "Relu", "input": [x], "attr": T})
                x = f"conv{i}/Relu"
        elif kind == "gap":
            axes = const(f"gap{i}/axes", np.array([1, 2], dtype=np.int32), "DT_INT32")
            nodes.append({"name": f"gap{i}", "op": "Mean", "input": [x, axes], "attr": {**T, "Tidx": {"type": "DT_INT32"}, "keep_dims": {"b": False}}})
            x = f"gap{i}"
        elif kind == "dense":
            w = const(f"dense{i}/kernel", p["w"].T.astype(np.float32).copy())
            nodes.append({"name": f"dense{i}/MatMul", "op": "MatMul", "input": [x, w], "attr": {**T, "transpose_a": {"b": False}, "transpose_b": {"b": False}}})
            b = const(f"dense{i}/bias", p["b"].astype(np.float32))
            nodes.append({"name": f"dense{i}/BiasAdd", "op": "BiasAdd", "input": [f"dense{i}/MatMul", b], "attr": {**T, "data_format": _s("NHWC")}})
            x = f"dense{i}/BiasAdd"
    nodes.append({"name": "logits", "op": "Identity", "input": [x], "attr": T})
    topology = {"node": nodes, "library": {}, "versions": {"producer": 1286}}
    return _write(out_dir, topology, "graph-model", weights, quant)


def write_graph_from_onnx(out_dir, model, quant="float32"):
    """
    A TF.js graph model (NHWC) from a float ONNX graph of Conv (plain or
    depthwise), Relu, Add, GlobalAveragePool, Flatten and Gemm, as torch
    exports a MobileNet-style network in eval mode (batch norm folded).
    """
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    inp = model.graph.input[0]
    dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    T = {"T": {"type": "DT_FLOAT"}}
    nodes = [{"name": "input", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": {"dim": [{"size": "-1"}, {"size": str(dims[2])}, {"size": str(dims[3])}, {"size": str(dims[1])}]}}}}]
    weights = []
    alias = {inp.name: "input"}

    def const(name, arr, dtype="DT_FLOAT"):
        nodes.append({"name": name, "op": "Const", "attr": {"dtype": {"type": dtype}, "value": {"tensor": {"dtype": dtype, "tensorShape": {"dim": [{"size": str(d)} for d in arr.shape]}}}}})
        weights.append((name, arr))
        return name

    for k, n in enumerate(model.graph.node):
        at = {a.name: (list(a.ints) if a.ints else a.i) for a in n.attribute}
        x = alias.get(n.input[0], n.input[0])
        name = f"n{k}_{n.op_type}"
        if n.op_type == "Conv":
            w, b = inits[n.input[1]], inits[n.input[2]]
            s = at.get("strides", [1, 1])
            pt, pl, pb, pr = at.get("pads", [0, 0, 0, 0])
            if any((pt, pl, pb, pr)):
                p = const(f"{name}/paddings", np.array([[0, 0], [pt, pb], [pl, pr], [0, 0]], dtype=np.int32), "DT_INT32")
                nodes.append({"name": f"{name}/pad", "op": "Pad", "input": [x, p], "attr": {**T, "Tpaddings": {"type": "DT_INT32"}}})
                x = f"{name}/pad"
            group = at.get("group", 1)
            conv_attr = {**T, "strides": _ints([1, s[0], s[1], 1]), "padding": _s("VALID"), "data_format": _s("NHWC"), "dilations": _ints([1, 1, 1, 1])}
            if group == 1:
                f = const(f"{name}/kernel", w.transpose(2, 3, 1, 0).astype(np.float32).copy())
                nodes.append({"name": f"{name}/conv", "op": "Conv2D", "input": [x, f], "attr": conv_attr})
            elif group == w.shape[0] and w.shape[1] == 1:
                f = const(f"{name}/kernel", w.transpose(2, 3, 0, 1).astype(np.float32).copy())
                nodes.append({"name": f"{name}/conv", "op": "DepthwiseConv2dNative", "input": [x, f], "attr": conv_attr})
            else:
                raise ValueError("write_graph_from_onnx: grouped convolution other than depthwise")
            bb = const(f"{name}/bias", b.astype(np.float32))
            nodes.append({"name": name, "op": "BiasAdd", "input": [f"{name}/conv", bb], "attr": {**T, "data_format": _s("NHWC")}})
        elif n.op_type == "Relu":
            nodes.append({"name": name, "op": "Relu", "input": [x], "attr": T})
        elif n.op_type == "Add":
            nodes.append({"name": name, "op": "AddV2", "input": [x, alias.get(n.input[1], n.input[1])], "attr": T})
        elif n.op_type == "GlobalAveragePool":
            axes = const(f"{name}/axes", np.array([1, 2], dtype=np.int32), "DT_INT32")
            nodes.append({"name": name, "op": "Mean", "input": [x, axes], "attr": {**T, "Tidx": {"type": "DT_INT32"}, "keep_dims": {"b": False}}})
        elif n.op_type == "Flatten":
            alias[n.output[0]] = x  # the Mean above already gives [batch, channels]
            continue
        elif n.op_type == "Gemm":
            w, b = inits[n.input[1]], inits[n.input[2]]
            wm = const(f"{name}/kernel", (w.T if at.get("transB", 0) else w).astype(np.float32).copy())
            nodes.append({"name": f"{name}/matmul", "op": "MatMul", "input": [x, wm], "attr": {**T, "transpose_a": {"b": False}, "transpose_b": {"b": False}}})
            bb = const(f"{name}/bias", b.astype(np.float32))
            nodes.append({"name": name, "op": "BiasAdd", "input": [f"{name}/matmul", bb], "attr": {**T, "data_format": _s("NHWC")}})
        else:
            raise ValueError(f"write_graph_from_onnx: operator {n.op_type} is not supported")
        alias[n.output[0]] = name
    nodes.append({"name": "logits", "op": "Identity", "input": [alias[model.graph.output[0].name]], "attr": T})
    topology = {"node": nodes, "library": {}, "versions": {"producer": 1286}}
    return _write(out_dir, topology, "graph-model", weights, quant)
