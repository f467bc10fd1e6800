"""Near-miss: .item() values used for logging and an adaptive weight that scales a live term
(VQGAN-style), never added to the loss as numbers."""
import torch


def train(model, disc, loader, optimizer, log):
    running = 0.0
    for x in loader:
        rec = model(x)
        rec_loss = (rec - x).abs().mean()
        g_loss = -disc(rec).mean()
        d_weight = (rec_loss / (g_loss.abs() + 1e-4)).clamp(0, 1e4).item()
        loss = rec_loss + d_weight * g_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()
        log({"rec": rec_loss.item(), "g": g_loss.item(), "total": running})
