"""
A small numpy evaluator for the float ONNX graphs the tools export, used to
calibrate activation ranges for int8 quantization (the tools need no
onnxruntime for Python). It knows only the operators those graphs use.
"""
import numpy as np
from onnx import numpy_helper


def _attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
        elif a.type == a.FLOAT:
            out[a.name] = a.f
    return out


def _conv(x, w, b, at):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    group = at.get("group", 1)
    sh, sw = at.get("strides", [1, 1])
    pt, pl, pb, pr = at.get("pads", [0, 0, 0, 0])
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]
    out = np.empty((n, m, oh, ow), dtype=np.float32)
    mg = m // group
    for g in range(group):
        cg_cols = cols[:, g * cg : (g + 1) * cg].reshape(n, cg * kh * kw, oh * ow)
        wg = w[g * mg : (g + 1) * mg].reshape(mg, cg * kh * kw)
        out[:, g * mg : (g + 1) * mg] = np.einsum("mk,nkp->nmp", wg, cg_cols).reshape(n, mg, oh, ow)
    if b is not None:
        out += b.reshape(1, m, 1, 1)
    return out


def run(model, feeds):
    """Evaluates the graph; returns every tensor by name (inputs and intermediates)."""
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        ins = [env[n] if n else None for n in node.input]
        at = _attrs(node)
        op = node.op_type
        if op == "Conv":
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, at)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Gemm":
            b = ins[1].T if at.get("transB", 0) else ins[1]
            y = ins[0] @ b + (ins[2] if len(ins) > 2 else 0)
        else:
            raise ValueError(f"onnx_numpy: operator {op} is not supported")
        env[node.output[0]] = y.astype(np.float32)
    return env
