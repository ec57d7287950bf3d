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
        self.features, cin = backbone(BLOCKS)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.features(x).amax(dim=(2, 3))
        return self.fc(self.dropout(x))

    def folded_tail(self):
        return [{"kind": "maxpool"}, {"kind": "fc", "w": self.fc.weight.detach().numpy().copy(), "b": self.fc.bias.detach().numpy().copy()}]


def backbone(blocks):
    """The stem and depthwise-separable blocks; returns them and their output channels."""
    layers = [conv_bn(3, STEM, STEM_STRIDE, STEM_STRIDE, pad=0)]
    cin = STEM
    for cout, stride in blocks:
        layers.append(conv_bn(cin, cin, 3, stride, groups=cin))
        layers.append(conv_bn(cin, cout, 1, 1))
        cin = cout
    return nn.Sequential(*layers), cin


# The anomaly net's blocks: the classifier's stem and strides, narrower (it
# runs beside the classifier and must cost less than it), one block more at
# stride 16 so that a cell of its map sees most of a part: a missing hole or
# a wrong part is only wrong against the rest of the part.
ANOMALY_BLOCKS = [(64, 1), (128, 2), (256, 2), (384, 1), (384, 1)]


class AnomalyNet(nn.Module):
    """
    The backbone with a 1x1 convolution to one logit per cell of the stride-16
    map instead of pooling and a classifier: the probability that the cell
    holds something a good part does not (sigmoid). Trained on good parts with
    synthetic anomalies pasted in (anomaly.py); the image score is the
    strongest cell.
    """

    def __init__(self, blocks=ANOMALY_BLOCKS):
        super().__init__()
        self.features, cin = backbone(blocks)
        self.head = nn.Conv2d(cin, 1, 1)

    def forward(self, x):
        """Map logits, [N, 1, h/16, w/16]."""
        return self.head(self.features(x))

    def folded_tail(self):
        return [{"kind": "conv", "w": self.head.weight.detach().numpy().copy(), "b": self.head.bias.detach().numpy().copy(),
                 "stride": 1, "pad": 0, "groups": 1, "relu": False}]


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
    return out + model.folded_tail()


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
