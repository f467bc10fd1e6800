"""Representation autoencoder training with gradient accumulation: zero_grad inside the
micro-batch loop, one step after it. After bytetriper/RAE issue #67 ("zero_grad is called per
microbatch, breaking gradient accumulation"; acknowledged, fix in PR #78)."""
import torch


def train(model, loader, optimizer, scheduler, grad_accum_steps=4, clip=1.0):
    model.train()
    for step, batch in enumerate(loader):
        micro_batches = batch.chunk(grad_accum_steps)
        for micro in micro_batches:
            optimizer.zero_grad(set_to_none=True)  # expect: GL602
            loss = model(micro).mean() / grad_accum_steps
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        scheduler.step()
