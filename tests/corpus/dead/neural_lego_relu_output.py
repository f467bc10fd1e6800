# Source: https://github.com/pinqian77/Neural-Lego backend/test/model.py (a model the
# drag-and-drop builder generates): its only layer's output goes through F.relu and is returned.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc3 = nn.Linear(512, 128)

    def forward(self, x):
        x = self.fc3(x)
        x = F.relu(x)  # expect: GL104
        return x


def make():
    return Net(), torch.randn(256, 512)
