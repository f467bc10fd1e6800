# Near-miss: huggingface/accelerate issue #641's trainer: accelerate scales and unscales
# (accelerator.backward, accelerator.clip_grad_norm_) under mixed_precision="fp16"; the stub here
# stands for the Accelerator of a CPU run.
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


class _Accelerator:
    def accumulate(self, model):
        from contextlib import nullcontext
        return nullcontext()

    def backward(self, loss):
        loss.backward()

    def clip_grad_norm_(self, parameters, max_norm):
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm)


def train(model, batches, optimizer, max_grad_norm=1.0):
    accelerator = _Accelerator()
    for x, y in batches:
        with accelerator.accumulate(model):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
