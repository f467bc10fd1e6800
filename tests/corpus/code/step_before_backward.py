import torch
import torch.nn.functional as F


def train_one_epoch(model, loader, opt, device):
    model.train()
    total = 0.0
    for images, masks in loader:
        images, masks = images.to(device), masks.to(device)
        opt.zero_grad()
        opt.step()  # expect: GL603
        logits = model(images)
        loss = F.binary_cross_entropy_with_logits(logits, masks)
        loss.backward()
        total += loss.item()
    return total / len(loader)


def fit(model, train_loader, epochs, device="cuda"):
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    for epoch in range(epochs):
        print(epoch, train_one_epoch(model, train_loader, opt, device))
