"""Near-miss: micro-batch accumulation with zero_grad before the inner loop (nanoGPT style)."""
import torch


def train(model, get_batch, optimizer, max_iters, gradient_accumulation_steps=8, grad_clip=1.0):
    for iter_num in range(max_iters):
        for micro_step in range(gradient_accumulation_steps):
            X, Y = get_batch("train")
            logits, loss = model(X, Y)
            loss = loss / gradient_accumulation_steps
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
