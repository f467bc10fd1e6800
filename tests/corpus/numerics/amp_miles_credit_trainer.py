# Source: NCAR/miles-credit credit/trainers/trainer.py before PR #141 ("Gradscaler for grad
# clipping fix"): the trainer's scaler scales the loss; the clip follows with no unscale_.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.cuda.amp import GradScaler


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
    def __init__(self, model, optimizer, grad_max_norm=1.0, amp=True):
        self.model = model
        self.optimizer = optimizer
        self.grad_max_norm = grad_max_norm
        self.scaler = GradScaler(enabled=amp)

    def train_one_epoch(self, batches):
        for x, y in batches:
            with torch.autocast(device_type="cuda", enabled=True):
                loss = F.cross_entropy(self.model(x), y)
            self.scaler.scale(loss).backward()
            if self.grad_max_norm > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm=self.grad_max_norm)  # expect: GL801
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad()


def train(model, batches, optimizer):
    Trainer(model, optimizer).train_one_epoch(batches)
