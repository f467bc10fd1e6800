# Source: nerfstudio-project/nerfacc examples/train_ngp_nerf_prop.py at 57ccfa14 (issue #307,
# maintainer: "probably an abuse of grad_scaler ... effectively (loss * 1024).backward()").
import torch
import torch.nn as nn
import torch.nn.functional as F


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


def train(model, batches, optimizer):
    grad_scaler = torch.cuda.amp.GradScaler(2**10)
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        grad_scaler.scale(loss).backward()
        optimizer.step()  # expect: GL803
