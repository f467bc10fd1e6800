import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.cuda.amp import GradScaler, autocast


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    def __init__(self, num_blocks=(2, 2, 2, 2), num_classes=10):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers = []
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), num_blocks)):
            for s in [1 if i == 0 else 2] + [1] * (n - 1):
                layers.append(BasicBlock(self.in_planes, planes, s))
                self.in_planes = planes
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def train_epoch(net, loader, optimizer, scaler, scheduler, device, max_norm=5.0):
    net.train()
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    t0, seen, running = time.time(), 0, 0.0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            outputs = net(inputs)
            loss = criterion(outputs, targets)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(net.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        running += loss.item() * inputs.size(0)
        seen += inputs.size(0)
    print(f"train loss {running / seen:.3f} ({time.time() - t0:.0f}s)")


@torch.no_grad()
def evaluate(net, loader, device):
    net.eval()
    probs, labels = [], []
    for inputs, targets in loader:
        probs.append(F.softmax(net(inputs.to(device)), dim=1).cpu())
        labels.append(targets)
    probs = torch.cat(probs)
    return (probs.argmax(1) == torch.cat(labels)).float().mean().item()


if __name__ == "__main__":
    device = "cuda"
    net = ResNet().to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.2, total_steps=30 * 391)
    scaler = GradScaler()
    train_loader = torch.load(os.environ.get("CIFAR_LOADER", "loader.pt"))
    for epoch in range(30):
        train_epoch(net, train_loader, optimizer, scaler, scheduler, device)
