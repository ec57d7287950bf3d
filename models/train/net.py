"""The compact classifier and its inference form (batch norm folded)."""
import torch
import torch.nn as nn

# (out_channels, stride) of each depthwise-separable block after the stem:
# narrow at 40x30, wide at 10x8, where the 1x1 convolutions hold nearly all
# the weights and multiply-adds.
BLOCKS = [(64, 1), (256, 2), (640, 2), (1024, 1)]
STEM = 32
STEM_STRIDE = 4


def conv_bn(cin, cout, k, stride, groups=1, pad=None):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2 if pad is None else pad, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class InspectNet(nn.Module):
    """
    A 4x4 stem at stride 4 (every pixel seen once: a thin scratch is not
    skipped, and the costly full-resolution layers are gone), then depthwise 3x3 + pointwise 1x1 blocks (each
    with batch norm and ReLU), global max pooling (a defect is small and
    anywhere: the strongest response counts, an average would drown it in
    good surface) and one linear layer giving logits. About 860 k parameters
    and 76 M multiply-adds at 160x120, over 90% of both in the 1x1
    convolutions: those are the layers int8 shrinks 4x and onnxruntime runs
    about 3.5x faster as u8s8 GEMMs (AVX512-VNNI), while int8 depthwise
    convolutions and the per-call overhead run no faster than in float. The
    earlier 71 k-parameter net (widths 64..256, 13 M multiply-adds, five
    blocks) ran in int8 at 75% of its float time; the width sits at the 10x8
    stage because there a 1x1 convolution trains fastest per multiply-add in
    PyTorch on a CPU (README, Train on your own parts).
    """

    def __init__(self, num_classes):
        super().__init__()
        layers = [conv_bn(3, STEM, STEM_STRIDE, STEM_STRIDE, pad=0)]
        cin = STEM
        for cout, stride in BLOCKS:
            layers.append(conv_bn(cin, cin, 3, stride, groups=cin))
            layers.append(conv_bn(cin, cout, 1, 1))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.features(x).amax(dim=(2, 3))
        return self.fc(self.dropout(x))


def folded_layers(model):
    """
    The trained network as a list of plain layers with batch norm folded into
    the convolution before it: what every exporter (ONNX float, ONNX int8,
    TF.js) writes, so all three compute the same function.
    """
    model = model.eval()
    out = []
    for block in model.features:
        conv, bn = block[0], block[1]
        s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
        w = conv.weight.detach() * s.view(-1, 1, 1, 1)
        b = bn.bias.detach() - bn.running_mean * s
        out.append({
            "kind": "conv", "w": w.numpy().copy(), "b": b.numpy().copy(),
            "stride": conv.stride[0], "pad": conv.padding[0], "groups": conv.groups, "relu": True,
        })
    out.append({"kind": "maxpool"})
    out.append({"kind": "fc", "w": model.fc.weight.detach().numpy().copy(), "b": model.fc.bias.detach().numpy().copy()})
    return out


def run_folded(layers, x, taps=None):
    """Runs folded layers in torch; `taps` (a list) collects each layer's input, for calibration."""
    import torch.nn.functional as F
    for layer in layers:
        if taps is not None:
            taps.append(x)
        if layer["kind"] == "conv":
            x = F.conv2d(x, torch.from_numpy(layer["w"]), torch.from_numpy(layer["b"]), layer["stride"], layer["pad"], 1, layer["groups"])
            if layer["relu"]:
                x = torch.relu(x)
        elif layer["kind"] == "maxpool":
            x = x.amax(dim=(2, 3))
        else:
            x = F.linear(x, torch.from_numpy(layer["w"]), torch.from_numpy(layer["b"]))
    return x
