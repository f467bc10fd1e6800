# Near-miss: the inference half of EDSR-PyTorch (issue #36, maintainer: "What you can do is
# half-precision test"): a .half() model and float16 autocast with no backward.
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


@torch.no_grad()
def evaluate(model, batches):
    model.half()
    correct = 0
    for x, y in batches:
        with torch.cuda.amp.autocast():
            correct += (model(x.half()).argmax(1) == y).sum().item()
    return correct


def train(model, batches, optimizer):
    model.float()
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
