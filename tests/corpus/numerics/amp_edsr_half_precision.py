# Source: sanghyun-son/EDSR-PyTorch (issue #36 "Half precision error": with --precision half the
# model is cast by .half() and trained by a plain backward; "Skip this batch! (Loss: inf)").
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


class Trainer:
    def __init__(self, model, optimizer, precision="half"):
        self.model = model
        if precision == "half":
            self.model.half()  # expect: GL802
        self.optimizer = optimizer
        self.params = list(self.model.parameters())

    def train(self, batches):
        for lr, hr in batches:
            if lr.dtype != next(self.model.parameters()).dtype:
                lr = lr.half()
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.model(lr).float(), hr)
            loss.backward()
            self.optimizer.step()


def train(model, batches, optimizer):
    Trainer(model, optimizer).train(batches)
