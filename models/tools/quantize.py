"""
Static int8 quantization of the tools' float ONNX graphs, written with the
onnx helpers and numpy (onnxruntime's Python quantizer is not packaged for
Debian). Activations: uint8, asymmetric, min/max over a calibration batch.
Weights: int8, symmetric, per output channel. Bias: int32 at scale
x_scale * w_scale. Two encodings of the same numbers:
  - QDQ: QuantizeLinear/DequantizeLinear pairs around the float operators,
    which onnxruntime fuses into integer kernels (none between an operator
    and the Relu it feeds, so the Relu fuses too);
  - QOperator: QLinearConv / QLinearAdd / QLinearGlobalAveragePool directly,
    with a Relu folded into the preceding operator's output range.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import onnx_numpy

MS = "com.microsoft"


def _act_params(lo, hi):
    lo, hi = min(0.0, float(lo)), max(0.0, float(hi))
    scale = (hi - lo) / 255.0 or 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def _weight_params(w):
    amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shape = (-1,) + (1,) * (w.ndim - 1)
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def calibrate(model, batch):
    """uint8 (scale, zero point) of every activation tensor the batch passes through."""
    env = onnx_numpy.run(model, {model.graph.input[0].name: batch.astype(np.float32)})
    inits = {i.name for i in model.graph.initializer}
    return {name: _act_params(v.min(), v.max()) for name, v in env.items() if name not in inits}


class _Builder:
    def __init__(self, model):
        self.model = model
        self.inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        self.new_inits = []
        self.names = set()
        self.nodes = []

    def const(self, name, value):
        if name not in self.names:
            self.names.add(name)
            self.new_inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, node, w_name, b_name, x_scale):
        w = self.inits[w_name]
        if node.op_type == "Gemm" and not any(a.name == "transB" and a.i == 1 for a in node.attribute):
            w = w.T.copy()  # per-channel along the output axis
        q, scale = _weight_params(w)
        out = {"q": self.const(w_name + "_q", q), "scale": self.const(w_name + "_scale", scale),
               "zp": self.const(w_name + "_zp", np.zeros_like(scale, dtype=np.int8)), "transposed": w is not self.inits[w_name]}
        if b_name:
            b = self.inits[b_name]
            bscale = (x_scale * scale).astype(np.float32)
            out["b_q"] = self.const(b_name + "_q", np.clip(np.round(b / bscale), -2**31, 2**31 - 1).astype(np.int32))
            out["b_scale"] = self.const(b_name + "_scale", bscale)
            out["b_zp"] = self.const(b_name + "_zp", np.zeros_like(bscale, dtype=np.int32))
        return out

    def finish(self, name, nodes, used_inits):
        keep = [i for i in self.model.graph.initializer if i.name in used_inits]
        new = [i for i in self.new_inits if i.name in used_inits]
        g = helper.make_graph(nodes, name, list(self.model.graph.input), list(self.model.graph.output), keep + new)
        opsets = [helper.make_opsetid("", 13), helper.make_opsetid(MS, 1)]
        m = helper.make_model(g, opset_imports=opsets, producer_name="edge-inspect models/tools")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def to_qdq(model, qparams):
    b = _Builder(model)
    outputs = {o.name for o in model.graph.output}
    weights = set()
    for n in model.graph.node:
        if n.op_type in ("Conv", "Gemm"):
            weights.update(n.input[1:])
    consumers = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    nodes = []
    renamed = {}

    def relu_follows(n):
        nxt = consumers.get(n.output[0], [])
        return len(nxt) == 1 and nxt[0].op_type == "Relu"

    def qdq(t):
        s, z = qparams[t]
        sn, zn = b.const(t + "_scale", s), b.const(t + "_zp", z)
        nodes.append(helper.make_node("QuantizeLinear", [t, sn, zn], [t + "_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [t + "_q", sn, zn], [t + "_dq"]))
        renamed[t] = t + "_dq"

    qdq(model.graph.input[0].name)
    for n in model.graph.node:
        ins = [renamed.get(i, i) for i in n.input]
        if n.op_type in ("Conv", "Gemm"):
            x_scale = qparams[n.input[0]][0]
            w = b.weight(n, n.input[1], n.input[2] if len(n.input) > 2 else None, x_scale)
            axis = 1 if (n.op_type == "Gemm" and w["transposed"]) else 0
            nodes.append(helper.make_node("DequantizeLinear", [w["q"], w["scale"], w["zp"]], [n.input[1] + "_dq"], axis=axis))
            ins[1] = n.input[1] + "_dq"
            if "b_q" in w:
                nodes.append(helper.make_node("DequantizeLinear", [w["b_q"], w["b_scale"], w["b_zp"]], [n.input[2] + "_dq"], axis=0))
                ins[2] = n.input[2] + "_dq"
        nodes.append(helper.make_node(n.op_type, ins, list(n.output), name=n.name, **{a.name: helper.get_attribute_value(a) for a in n.attribute}))
        # No Q/DQ between an operator and the Relu it alone feeds: only the
        # Relu's output is quantized (zero point 0), so onnxruntime fuses
        # DQ -> Conv -> Relu -> Q into one QLinearConv. A pair at the Conv's
        # own range would survive as a float requantize of every activation.
        if n.output[0] not in outputs and not relu_follows(n):
            qdq(n.output[0])
    used = {i for n in nodes for i in n.input} - weights
    return b.finish(model.graph.name + "-qdq", nodes, used)


def to_qoperator(model, qparams):
    b = _Builder(model)
    g = model.graph
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    nodes = []
    # Quantized tensor name for each float tensor name; a folded Relu maps its input's
    # quantized tensor to its own output range.
    qname = {}
    x = g.input[0].name
    s, z = qparams[x]
    nodes.append(helper.make_node("QuantizeLinear", [x, b.const(x + "_scale", s), b.const(x + "_zp", z)], [x + "_q"]))
    qname[x] = x + "_q"
    skip = set()

    def out_tensor(n):
        """The tensor whose range the operator's uint8 output takes: its Relu's, when one follows alone."""
        nxt = consumers.get(n.output[0], [])
        if len(nxt) == 1 and nxt[0].op_type == "Relu":
            skip.add(nxt[0].name or id(nxt[0]))
            return nxt[0].output[0]
        return n.output[0]

    def sz(t):
        s, z = qparams[t]
        return [b.const(t + "_scale", s), b.const(t + "_zp", z)]

    for n in g.node:
        if (n.name or id(n)) in skip:
            continue
        if n.op_type == "Conv":
            xin = n.input[0]
            w = b.weight(n, n.input[1], n.input[2] if len(n.input) > 2 else None, qparams[xin][0])
            y = out_tensor(n)
            ins = [qname[xin], *sz(xin), w["q"], w["scale"], w["zp"], *sz(y)] + ([w["b_q"]] if "b_q" in w else [])
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            nodes.append(helper.make_node("QLinearConv", ins, [y + "_q"], **attrs))
            qname[y] = y + "_q"
        elif n.op_type == "Add":
            a, c = n.input
            y = out_tensor(n)
            nodes.append(helper.make_node("QLinearAdd", [qname[a], *sz(a), qname[c], *sz(c), *sz(y)], [y + "_q"], domain=MS))
            qname[y] = y + "_q"
        elif n.op_type == "Relu":
            y = n.output[0]
            nodes.append(helper.make_node("DequantizeLinear", [qname[n.input[0]], *sz(n.input[0])], [y + "_f"]))
            nodes.append(helper.make_node("Relu", [y + "_f"], [y + "_r"]))
            nodes.append(helper.make_node("QuantizeLinear", [y + "_r", *sz(y)], [y + "_q"]))
            qname[y] = y + "_q"
        elif n.op_type == "GlobalAveragePool":
            xin, y = n.input[0], n.output[0]
            nodes.append(helper.make_node("QLinearGlobalAveragePool", [qname[xin], *sz(xin), *sz(y)], [y + "_q"], domain=MS, channels_last=0))
            qname[y] = y + "_q"
        elif n.op_type == "Flatten":
            y = n.output[0]
            nodes.append(helper.make_node("Flatten", [qname[n.input[0]]], [y + "_q"], axis=1))
            qparams[y] = qparams[n.input[0]]
            qname[y] = y + "_q"
        elif n.op_type == "Gemm":
            # The logits stay float: dequantize the features, keep the float Gemm.
            xin = n.input[0]
            nodes.append(helper.make_node("DequantizeLinear", [qname[xin], *sz(xin)], [xin + "_f"]))
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            nodes.append(helper.make_node("Gemm", [xin + "_f", *n.input[1:]], list(n.output), **attrs))
        else:
            raise ValueError(f"to_qoperator: operator {n.op_type} is not supported")
    used = {i for n in nodes for i in n.input}
    return b.finish(g.name + "-qop", nodes, used)


def fold_identities(model):
    """Replaces Identity nodes over initializers (torch's export shares equal weights that way) by copies."""
    inits = {i.name: i for i in model.graph.initializer}
    keep = []
    for n in model.graph.node:
        if n.op_type == "Identity" and n.input[0] in inits:
            arr = numpy_helper.to_array(inits[n.input[0]])
            model.graph.initializer.append(numpy_helper.from_array(arr, n.output[0]))
        else:
            keep.append(n)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return model
