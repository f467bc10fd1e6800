# Near-miss: public GitHub code (code search, file id 19187736061): a grid policy whose convs
# are xavier-initialised with `nn.init.constant_(m.bias, -0.1)` ("slight negative bias to
# discourage ones") before F.relu. A shift of -0.1 against pre-activations of std ~1 kills no unit.
import torch
import torch.nn as nn
import torch.nn.functional as F


class GridPolicy(nn.Module):
    def __init__(self, in_channels=4, hidden=32):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, hidden, kernel_size=3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(hidden, hidden, kernel_size=3, stride=1, padding=1)
        self.conv3 = nn.Conv2d(hidden, hidden, kernel_size=3, stride=1, padding=1)
        self.conv4 = nn.Conv2d(hidden, 2, kernel_size=1, stride=1, padding=0)
        self._initialize_weights()

    def _initialize_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, -0.1)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        logits = self.conv4(x)
        return logits


def make():
    return GridPolicy(), torch.randn(16, 4, 16, 16)
