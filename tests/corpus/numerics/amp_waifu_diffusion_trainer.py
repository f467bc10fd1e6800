# Source: harubaru/waifu-diffusion trainer/diffusers_trainer.py at 27d301c5 (issue #64 "clip_grad_norm
# applied to scaled gradients"): the clip runs between the scaled backward and scaler.step.
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


def train(model, batches, optimizer, use_fp16=True, clip_grad_norm=1.0):
    scaler = torch.cuda.amp.GradScaler(enabled=use_fp16)
    for x, y in batches:
        with torch.autocast("cuda", enabled=use_fp16):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)  # expect: GL801
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
