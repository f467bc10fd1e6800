# Near-miss: ultralytics/yolov5 train.py: accumulation over several batches, then unscale_,
# clip at 10, scaler.step and update once the accumulated batch is complete.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.cuda import amp


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


def train(model, batches, optimizer, accumulate=2):
    scaler = torch.cuda.amp.GradScaler(enabled=True)
    last_opt_step = -1
    for ni, (imgs, targets) in enumerate(batches):
        with amp.autocast(enabled=True):
            loss = F.cross_entropy(model(imgs), targets)
        scaler.scale(loss).backward()
        if ni - last_opt_step >= accumulate:
            scaler.unscale_(optimizer)  # unscale gradients
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)  # clip gradients
            scaler.step(optimizer)  # optimizer.step
            scaler.update()
            optimizer.zero_grad()
            last_opt_step = ni
