"""Fine-tuning loop with gradient accumulation, AMP and clipping (effective batch = 8 x 16)."""
import math

import torch
from torch.cuda.amp import GradScaler, autocast


def train_one_epoch(model, loader, optimizer, lr_scheduler, scaler: GradScaler, accum_steps=8, max_grad_norm=1.0, device="cuda"):
    model.train()
    optimizer.zero_grad(set_to_none=True)
    num_updates = 0
    for step, batch in enumerate(loader):
        batch = {k: v.to(device) for k, v in batch.items()}
        with autocast(dtype=torch.bfloat16):
            outputs = model(**batch)
            loss = outputs.loss / accum_steps
        scaler.scale(loss).backward()
        if (step + 1) % accum_steps == 0 or step + 1 == len(loader):
            scaler.unscale_(optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            lr_scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            num_updates += 1
            if not math.isfinite(grad_norm.item()):
                print("non-finite grad norm at step", step)
    return num_updates


def main(model, loader, epochs=3):
    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=2e-5, eps=1e-8)
    total = epochs * math.ceil(len(loader) / 8)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / total))
    scaler = GradScaler()
    for _ in range(epochs):
        train_one_epoch(model, loader, optimizer, scheduler, scaler)
