# expect-model: none
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (32, 20, 12)


class GRUNet(nn.Module):
    """Bidirectional GRU over sensor windows, mean-pooled over time."""

    def __init__(self, input_size=12, hidden_size=64, n_classes=6):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True, bidirectional=True)
        self.fc1 = nn.Linear(2 * hidden_size, 64)
        self.fc2 = nn.Linear(64, n_classes)

    def forward(self, x):
        out, _ = self.gru(x)
        out = out.mean(dim=1)
        return self.fc2(F.relu(self.fc1(out)))


def build():
    return GRUNet()
