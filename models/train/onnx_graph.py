"""
Writes the folded layers as ONNX (opset 13, which Debian's onnx 1.12 checks
and every onnxruntime runs): once in float, once as int8 QDQ.

The QDQ form is the one onnxruntime fuses into integer kernels: every conv
and the final Gemm read DequantizeLinear(int8 weight, per-channel scale) and
DequantizeLinear(int32 bias, input scale x weight scale), and their input is
a QuantizeLinear/DequantizeLinear pair with a calibrated uint8 scale. ReLU is
not written in the int8 graph: the uint8 quantizer after each conv has zero
point 0, so it clamps at zero exactly as ReLU would.

What makes the int8 model fast on onnxruntime (x64, measured side by side
against the float model; see README, Train on your own parts):
- the stride-4 4x4 stem becomes SpaceToDepth (on the uint8 input) and a 1x1
  convolution, a plain u8s8 GEMM: a 3-channel 4x4 QLinearConv ran slower
  than the float convolution;
- the global max pool keeps its input's scale, so onnxruntime drops the Q/DQ
  around it and pools in uint8 (with another scale it pooled in float,
  between a DequantizeLinear and layout reorders).
The input stays float pixel/255, as the daemon feeds every variant: a uint8
input made no measurable difference.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
INPUT, OUTPUT = "input", "logits"
# An anomaly net (its last layer a convolution to one map channel, not a
# classifier) has two outputs instead of logits: the image score and the map
# at the input's resolution, both probabilities.
SCORE, MAP, MAP_LOGITS = "anomaly_score", "anomaly_map", "map_logits"


def _is_anomaly(layers):
    return layers[-1]["kind"] == "conv" and not layers[-1]["relu"]


def _last_name(layers):
    return MAP_LOGITS if _is_anomaly(layers) else OUTPUT


def _anomaly_tail(layers, hw):
    """
    The map's probability per cell: the sigmoid of one logit, or for a
    Gaussian head (its last layer carries `scale`) d / (d + scale) of the
    squared length d of the whitened feature (a Mahalanobis distance). The
    score is the strongest cell (a global max pool), the map the bilinear
    resize of the cells to the input size. Both read the float map: the int8
    graph's last convolution already leaves float.
    """
    h, w = hw
    inits = [numpy_helper.from_array(np.array([1, 1, h, w], dtype=np.int64), "map_sizes")]
    if "scale" in layers[-1]:
        inits.append(numpy_helper.from_array(np.array(layers[-1]["scale"], dtype=np.float32), "map_scale"))
        prob = [
            helper.make_node("ReduceSumSquare", [MAP_LOGITS], ["map_distance"], axes=[1], keepdims=1),
            helper.make_node("Add", ["map_distance", "map_scale"], ["map_denominator"]),
            helper.make_node("Div", ["map_distance", "map_denominator"], ["map_prob"]),
        ]
    else:
        prob = [helper.make_node("Sigmoid", [MAP_LOGITS], ["map_prob"])]
    nodes = prob + [
        helper.make_node("MaxPool", ["map_prob"], ["score_pool"], kernel_shape=_pool_kernel(layers, hw)),
        helper.make_node("Flatten", ["score_pool"], [SCORE], axis=1),
        helper.make_node("Resize", ["map_prob", "", "", "map_sizes"], [MAP], mode="linear", coordinate_transformation_mode="half_pixel"),
    ]
    return nodes, inits


def _model(nodes, inits, layers, hw, name):
    h, w = hw
    if _is_anomaly(layers):
        tail_nodes, tail_inits = _anomaly_tail(layers, hw)
        nodes, inits = nodes + tail_nodes, inits + tail_inits
        outputs = [helper.make_tensor_value_info(SCORE, TensorProto.FLOAT, [1, 1]),
                   helper.make_tensor_value_info(MAP, TensorProto.FLOAT, [1, 1, h, w])]
    else:
        outputs = [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [1, layers[-1]["w"].shape[0]])]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, 3, h, w])],
        outputs,
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="edge-inspect models/train", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def _conv_attrs(layer):
    k = layer["w"].shape[2]
    p = layer["pad"]
    return dict(kernel_shape=[k, k], strides=[layer["stride"]] * 2, pads=[p, p, p, p], group=layer["groups"])


def _pool_kernel(layers, hw):
    """The feature map size at the pooling layer: a MaxPool over all of it is a global max pool onnxruntime runs in uint8."""
    h, w = hw
    for layer in layers:
        if layer["kind"] == "conv":
            k, s, p = layer["w"].shape[2], layer["stride"], layer["pad"]
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return [h, w]


def write_float(layers, path, hw):
    nodes, inits, x = [], [], INPUT
    pool = _pool_kernel(layers, hw)
    for i, layer in enumerate(layers):
        y = _last_name(layers) if i == len(layers) - 1 else f"t{i}"
        if layer["kind"] == "maxpool":
            nodes.append(helper.make_node("MaxPool", [x], [f"{y}_pool"], kernel_shape=pool))
            nodes.append(helper.make_node("Flatten", [f"{y}_pool"], [y], axis=1))
        else:
            inits += [numpy_helper.from_array(layer["w"].astype(np.float32), f"w{i}"), numpy_helper.from_array(layer["b"].astype(np.float32), f"b{i}")]
            if layer["kind"] == "conv":
                nodes.append(helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"{y}_conv" if layer["relu"] else y], **_conv_attrs(layer)))
                if layer["relu"]:
                    nodes.append(helper.make_node("Relu", [f"{y}_conv"], [y]))
            else:
                nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [y], transB=1))
        x = y
    onnx.save(_model(nodes, inits, layers, hw, "inspect_float"), path)


def quantize_weight(w):
    """Symmetric per-output-channel int8: scale = max|w| / 127, zero point 0."""
    flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scale = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale.reshape(-1, *([1] * (w.ndim - 1)))), -127, 127).astype(np.int8)
    return q, scale


def _space_to_depth_stem(layer):
    """A convolution whose stride equals its kernel, without padding, as a 1x1 one over SpaceToDepth's patches; else None."""
    k = layer["w"].shape[2]
    if layer["kind"] != "conv" or layer["groups"] != 1 or layer["stride"] != k or layer["pad"] != 0 or k == 1:
        return None
    cout, cin = layer["w"].shape[:2]
    # SpaceToDepth orders a patch's channels (row in block, column in block, input channel).
    w = layer["w"].transpose(0, 2, 3, 1).reshape(cout, k * k * cin, 1, 1)
    return {**layer, "w": w, "stride": 1}


def write_qdq(layers, act_scales, path, hw):
    """
    `act_scales[i]` is the calibrated uint8 scale of layer i's input (zero
    point 0: the model input is >= 0 and every later input follows a ReLU,
    which that quantizer applies). act_scales[0] = 1/255 quantizes the
    input, pixel/255, back to its pixels exactly.
    """
    nodes, inits = [], []
    pool = _pool_kernel(layers, hw)
    trained = layers
    scalar = lambda v, name, dtype=np.float32: inits.append(numpy_helper.from_array(np.array(v, dtype=dtype), name))
    layers = list(layers)
    scalar(float(act_scales[0]), "s_input")
    scalar(0, "z_input", np.uint8)
    nodes.append(helper.make_node("QuantizeLinear", [INPUT, "s_input", "z_input"], ["input_q"]))
    x = "input_q"
    stem = _space_to_depth_stem(layers[0])
    if stem is not None:
        nodes.append(helper.make_node("SpaceToDepth", [x], ["patches"], blocksize=layers[0]["w"].shape[2]))
        layers[0], x = stem, "patches"
    s_in = None
    for i, layer in enumerate(layers):
        last = i == len(layers) - 1
        y = _last_name(layers) if last else f"t{i}"
        if s_in is None:
            s_in = float(act_scales[i])
        scalar(s_in, f"s{i}")
        scalar(0, f"z{i}", np.uint8)
        if i == 0:
            nodes.append(helper.make_node("DequantizeLinear", [x, f"s{i}", f"z{i}"], [f"{y}_in"]))
        else:
            nodes.append(helper.make_node("QuantizeLinear", [x, f"s{i}", f"z{i}"], [f"{y}_q"]))
            nodes.append(helper.make_node("DequantizeLinear", [f"{y}_q", f"s{i}", f"z{i}"], [f"{y}_in"]))
        if layer["kind"] == "maxpool":
            # DQ -> pool -> Q with the same scale and zero point: onnxruntime
            # drops the pair and pools in uint8 (a max of values in range
            # stays in range). Flatten only moves bytes; the next layer reads
            # it at this scale too.
            nodes.append(helper.make_node("MaxPool", [f"{y}_in"], [f"{y}_pool"], kernel_shape=pool))
            nodes.append(helper.make_node("QuantizeLinear", [f"{y}_pool", f"s{i}", f"z{i}"], [f"{y}_pool_q"]))
            nodes.append(helper.make_node("DequantizeLinear", [f"{y}_pool_q", f"s{i}", f"z{i}"], [f"{y}_pool_dq"]))
            nodes.append(helper.make_node("Flatten", [f"{y}_pool_dq"], [y], axis=1))
            x = y
            continue  # s_in carries over to the next layer
        q, ws = quantize_weight(layer["w"])
        inits += [
            numpy_helper.from_array(q, f"w{i}_q"),
            numpy_helper.from_array(ws, f"w{i}_s"),
            numpy_helper.from_array(np.zeros(len(ws), np.int8), f"w{i}_z"),
        ]
        nodes.append(helper.make_node("DequantizeLinear", [f"w{i}_q", f"w{i}_s", f"w{i}_z"], [f"w{i}"], axis=0))
        bs = (ws * s_in).astype(np.float32)
        bq = np.round(layer["b"] / bs).astype(np.int32)
        inits += [
            numpy_helper.from_array(bq, f"b{i}_q"),
            numpy_helper.from_array(bs, f"b{i}_s"),
        ]
        # No zero point: an int32 one must be 0, which is the default.
        nodes.append(helper.make_node("DequantizeLinear", [f"b{i}_q", f"b{i}_s"], [f"b{i}"], axis=0))
        if layer["kind"] == "conv":
            nodes.append(helper.make_node("Conv", [f"{y}_in", f"w{i}", f"b{i}"], [y], **_conv_attrs(layer)))
        else:
            nodes.append(helper.make_node("Gemm", [f"{y}_in", f"w{i}", f"b{i}"], [y], transB=1))
        x = y
        s_in = None
    onnx.save(_model(nodes, inits, trained, hw, "inspect_int8"), path)


def read_float_convs(path):
    """
    The convolution layers of a float model write_float wrote, in order, as
    folded layers again (the classifier's backbone for a Gaussian anomaly
    head); the pooling and classifier layers are left out.
    """
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i).copy() for i in m.graph.initializer}
    relu_inputs = {n.input[0] for n in m.graph.node if n.op_type == "Relu"}
    layers = []
    for n in m.graph.node:
        if n.op_type != "Conv":
            continue
        at = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        layers.append({"kind": "conv", "w": init[n.input[1]], "b": init[n.input[2]], "stride": at["strides"][0],
                       "pad": at["pads"][0], "groups": at.get("group", 1), "relu": n.output[0] in relu_inputs})
    return layers
