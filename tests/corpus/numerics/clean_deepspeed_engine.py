# Near-miss: the DeepSpeed getting-started loop (model_engine.backward / model_engine.step with
# "fp16": {"enabled": true} and "gradient_clipping" in the config): the engine scales, unscales
# and clips. The stub engine stands for deepspeed.initialize's.
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


class _Engine:
    def __init__(self, model, optimizer):
        self.module = model
        self.optimizer = optimizer

    def __call__(self, x):
        return self.module(x)

    def backward(self, loss):
        loss.backward()

    def step(self):
        torch.nn.utils.clip_grad_norm_(self.module.parameters(), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad()


def train(model, batches, optimizer):
    model_engine = _Engine(model, optimizer)
    for step, (x, y) in enumerate(batches):
        loss = F.cross_entropy(model_engine(x), y)
        model_engine.backward(loss)
        model_engine.step()
