# Source: engichang1467/Open-Rig3R scripts/train.py (issue #35 "autocast defaults to fp16 with no
# GradScaler"): autocast on the training device, no scaler anywhere in the file.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.amp import autocast


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def make():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    batches = [(torch.randn(8, 16), torch.randint(0, 4, (8,))) for _ in range(3)]
    return model, batches, optimizer


def train(model, batches, optimizer, device=torch.device("cuda")):
    model.train()
    for images, target in batches:
        optimizer.zero_grad()
        with autocast(device_type=str(device)):  # expect: GL802
            outputs = model(images)
            loss = F.cross_entropy(outputs, target)
        loss.backward()
        optimizer.step()
