# Source: rwth-i6/returnn returnn/torch/updater.py at cf394a24 (issue #1590 "gradient_clip wrong
# when grad_scaler is used", fixed by PR #1595). The clip is done by a helper of the updater.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Updater:
    def __init__(self, model, optimizer, gradient_clip_global_norm=1.0):
        self.network = model
        self.optimizer = optimizer
        self._grad_clip_global_norm = gradient_clip_global_norm
        self._grad_scaler = torch.cuda.amp.GradScaler()

    def _apply_grad_clipping(self):
        if self._grad_clip_global_norm:
            torch.nn.utils.clip_grad_norm_(self.network.parameters(), self._grad_clip_global_norm)  # expect: GL801

    def step(self, loss):
        self._grad_scaler.scale(loss).backward()
        self._apply_grad_clipping()
        self._grad_scaler.step(self.optimizer)
        self._grad_scaler.update()
        self.optimizer.zero_grad()


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
    updater = Updater(model, optimizer)
    for x, y in batches:
        with torch.autocast("cuda", dtype=torch.float16):
            loss = F.cross_entropy(model(x), y)
        updater.step(loss)
