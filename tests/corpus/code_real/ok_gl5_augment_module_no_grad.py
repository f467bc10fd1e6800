"""Near-miss: an augmentation stage of torchvision transforms applied under torch.no_grad to
images, before a trained backbone."""
import torch
import torch.nn as nn
import torchvision.transforms as T


class AugmentedClassifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.flip = T.RandomHorizontalFlip()
        self.jitter = T.ColorJitter(0.4, 0.4, 0.4)
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.flip(x)
        with torch.no_grad():
            x = self.jitter(x)
        return self.fc(self.backbone(x))
