"""Linear evaluation of a self-supervised checkpoint: the backbone is frozen."""
import torch
import torch.nn as nn
import torchvision


class LinearProbe(nn.Module):
    def __init__(self, backbone: nn.Module, feat_dim=2048, num_classes=1000):
        super().__init__()
        self.backbone = backbone
        self.backbone.fc = nn.Identity()
        self.backbone.requires_grad_(False)
        self.backbone.eval()
        self.fc = nn.Linear(feat_dim, num_classes)

    def train(self, mode=True):
        super().train(mode)
        self.backbone.eval()
        return self

    def forward(self, x):
        with torch.no_grad():
            feats = self.backbone(x)
        feats = feats.detach()
        return self.fc(feats.flatten(1))


def build():
    backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1))
    return LinearProbe(backbone, feat_dim=8, num_classes=4), (torch.randn(2, 3, 8, 8),)


if __name__ == "__main__":
    resnet = torchvision.models.resnet50()
    resnet.load_state_dict(torch.load("moco_v2_800ep.pth"), strict=False)
    probe = LinearProbe(resnet)
    optimizer = torch.optim.SGD(probe.fc.parameters(), lr=30.0, momentum=0.9)
