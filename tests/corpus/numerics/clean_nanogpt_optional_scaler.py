# Near-miss: karpathy/nanoGPT train.py (after commit 924a0873): the scaler is enabled only for
# float16, the accumulation loop unscales before the clip, and bfloat16 needs no scaling.
import torch
import torch.nn as nn
import torch.nn.functional as F
from contextlib import nullcontext


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


def train(model, batches, optimizer, dtype="bfloat16", device_type="cpu", grad_clip=1.0, accum=2):
    ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
    scaler = torch.cuda.amp.GradScaler(enabled=(dtype == "float16"))
    for x, y in batches:
        for micro_step in range(accum):
            with ctx:
                loss = F.cross_entropy(model(x), y) / accum
            scaler.scale(loss).backward()
        if grad_clip != 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
