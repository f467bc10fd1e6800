"""Mixed-precision training loop whose step lives in another file's helper, and which clears
no gradient anywhere: the held-out kind "helper in another file" for the training loop."""
import torch

from gl6_engine.gl6_engine_utils import optimizer_step


def train_one_epoch(model, criterion, data_loader, optimizer, scaler, device):
    model.train()
    for samples, targets in data_loader:
        with torch.autocast(device_type="cuda"):
            loss = criterion(model(samples.to(device)), targets.to(device))
        scaler.scale(loss).backward()
        optimizer_step(optimizer, scaler, model)  # expect: GL601
