import numpy as np
import torch
import torch.nn as nn
from scipy.ndimage import gaussian_filter


class HeatmapRegressor(nn.Module):
    """Keypoint heatmaps, smoothed with scipy before the refinement conv."""

    def __init__(self, in_ch=3, n_kp=17, width=32):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_ch, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        )
        self.heat = nn.Conv2d(width, n_kp, 1)
        self.refine = nn.Conv2d(n_kp, n_kp, 3, padding=1)

    def forward(self, x):
        h = self.heat(self.stem(x))
        smoothed = gaussian_filter(h.detach().cpu().numpy(), sigma=(0, 0, 1, 1))  # expect: GL503
        h = torch.from_numpy(smoothed.astype(np.float32)).to(x.device)
        return self.refine(h)


def build():
    return HeatmapRegressor(n_kp=4, width=8), (torch.randn(2, 3, 16, 16),)


def train(model, loader, epochs=10):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    for epoch in range(epochs):
        for img, target in loader:
            pred = model(img)
            loss = criterion(pred, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
