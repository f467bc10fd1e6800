import torch
import torch.nn.functional as F
from torch.cuda.amp import GradScaler, autocast


def train(model, loader, epochs=10, lr=1e-3, clip=1.0, device="cuda"):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    scaler = GradScaler()
    for epoch in range(epochs):
        model.train()
        for step, (x, y) in enumerate(loader):
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad(set_to_none=True)
            with autocast():
                loss = F.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)  # expect: GL604
            if step % 100 == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.4f}")
