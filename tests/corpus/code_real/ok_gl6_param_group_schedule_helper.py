"""Near-miss: MoCo-style adjust_learning_rate writing each group's rate every epoch; the
optimiser is built with lr=0 from a template and the schedule owns the rate."""
import math

import torch
import torch.nn as nn


def adjust_learning_rate(optimizer, epoch, base_lr, epochs):
    lr = base_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr


def main(model, loader, epochs=200, base_lr=0.03):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0, momentum=0.9, weight_decay=1e-4)
    for epoch in range(epochs):
        adjust_learning_rate(optimizer, epoch, base_lr, epochs)
        for images, target in loader:
            loss = criterion(model(images), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
