"""Near-miss: gradient accumulation done right: zero_grad in the step branch, after the step."""
import torch


def train(model, loader, optimizer, scaler, accum_iter=4):
    model.train()
    optimizer.zero_grad()
    for data_iter_step, (samples, targets) in enumerate(loader):
        with torch.autocast("cuda"):
            loss = model(samples, targets) / accum_iter
        scaler.scale(loss).backward()
        if (data_iter_step + 1) % accum_iter == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
