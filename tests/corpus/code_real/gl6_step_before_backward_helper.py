"""Training step whose optimiser step sits in a helper called before backward (the closure
was moved around in a refactor)."""
import torch


def apply_update(optimizer, scheduler):
    optimizer.step()  # expect: GL603
    scheduler.step()


def train(model, loader, optimizer, scheduler, criterion):
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        apply_update(optimizer, scheduler)
        loss.backward()
