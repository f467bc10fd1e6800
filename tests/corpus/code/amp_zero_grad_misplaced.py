import torch
from torch import nn
from torch.cuda.amp import GradScaler, autocast

from .models import build_unet  # project-local


def train(cfg, loader, device="cuda"):
    model = build_unet(cfg).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scaler = GradScaler(enabled=cfg.amp)
    criterion = nn.L1Loss()
    for epoch in range(cfg.epochs):
        for noisy, clean in loader:
            noisy, clean = noisy.to(device), clean.to(device)
            with autocast(enabled=cfg.amp):
                denoised = model(noisy)
                loss = criterion(denoised, clean)
            scaler.scale(loss).backward()
            optimizer.zero_grad()  # expect: GL602
            scaler.step(optimizer)
            scaler.update()
        torch.save(model.state_dict(), f"{cfg.out}/epoch{epoch}.pt")
