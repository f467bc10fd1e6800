# Source: victorchall/EveryDream2trainer train.py before PR #175 ("correctly apply
# clip_grad_scale to unscaled gradients"): gradient accumulation, the clip at the step.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.cuda.amp import GradScaler, autocast


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


def train(model, batches, optimizer, grad_accum=2, clip_grad_norm=1.0):
    scaler = GradScaler(enabled=True, init_scale=2**17.5, growth_factor=2, backoff_factor=1.0 / 2, growth_interval=25)
    for step, (x, y) in enumerate(batches):
        with autocast(enabled=True):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        if clip_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(parameters=model.parameters(), max_norm=clip_grad_norm)  # expect: GL801
        if ((step + 1) % grad_accum == 0) or (step == len(batches) - 1):
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
