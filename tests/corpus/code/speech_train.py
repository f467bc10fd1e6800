import argparse

import torch
import torch.nn as nn
from speech_models import M5, M5Logits


def train(model, epoch, loader, optimizer, scheduler, device, log_interval=20):
    model.train()
    criterion = nn.CrossEntropyLoss()
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        output = model(data)
        loss = criterion(output, target)  # expect: GL401
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(loader.dataset)}]\tLoss: {loss.item():.6f}")
    scheduler.step()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--logits", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    loader = torch.load("speech_loader.pt")
    model = M5().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.0001)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.1)
    for epoch in range(1, args.epochs + 1):
        train(model, epoch, loader, optimizer, scheduler, device)


def finetune(model: M5Logits, loader, device="cpu"):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for data, target in loader:
        loss = nn.functional.cross_entropy(model(data.to(device)), target.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
