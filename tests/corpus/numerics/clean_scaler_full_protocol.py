# Near-miss: the PyTorch AMP recipe (recipes/recipes/amp_recipe.py), two optimisers and a clip of
# each after its own unscale_, as in amp_examples.rst "Working with multiple models".
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
    scaler = torch.amp.GradScaler("cuda")
    head = nn.Linear(4, 4)
    optimizer1 = torch.optim.SGD(head.parameters(), lr=0.01)
    for x, y in batches:
        optimizer.zero_grad()
        optimizer1.zero_grad()
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            loss0 = F.cross_entropy(model(x), y)
            loss1 = F.cross_entropy(head(model(x).detach()), y)
        scaler.scale(loss0).backward(retain_graph=True)
        scaler.scale(loss1).backward()
        scaler.unscale_(optimizer)
        scaler.unscale_(optimizer1)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.step(optimizer1)
        scaler.update()
