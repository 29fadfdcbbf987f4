"""ResNet-50, the paper's backbone: torchvision's architecture split into features and head (timm style)."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import resnet50


class ResNet50(nn.Module):
    """torchvision ResNet-50 whose forward returns (pooled 2,048-d features, 1,000 logits).

    Wrapping rather than re-implementing keeps the state-dict keys identical to torchvision's, so the published
    ``IMAGENET1K_V2`` file loads unchanged.
    """

    def __init__(self) -> None:
        super().__init__()
        self.net = resnet50(weights=None)
        self.feature_dim = 2048

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):  # noqa: ANN001
        return self.net.load_state_dict(state_dict, strict=strict, assign=assign)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        return torch.flatten(n.avgpool(x), 1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.net.fc(features)

    @property
    def classifier_layer(self) -> nn.Linear:
        """The ImageNet classifier on the pooled features (re-tagging applies it to stored features)."""
        return self.net.fc

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.forward_features(x)
        return features, self.forward_head(features)
