# Source: Azure/MS-AMP examples/mnist.py after PR #36, fixed by PR #45 ("add scaler.update() in MNIST
# examples"): "RuntimeError: step() has already been called since the last update()".
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
    scaler = torch.cuda.amp.GradScaler()
    model.train()
    for data, target in batches:
        optimizer.zero_grad()
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            output = model(data)
            loss = F.nll_loss(F.log_softmax(output, dim=1), target)
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # expect: GL803
