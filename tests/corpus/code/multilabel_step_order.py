import torch
import torch.nn as nn
from sklearn.metrics import f1_score


def run_epoch(model, loader, criterion, optimizer, device, threshold=0.5):
    model.train()
    preds, gts = [], []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device).float()
        optimizer.zero_grad()
        outputs = model(images)
        optimizer.step()  # expect: GL603
        loss = criterion(outputs, labels)
        loss.backward()
        preds.append((outputs.sigmoid() > threshold).cpu())
        gts.append(labels.cpu())
    return f1_score(torch.cat(gts).numpy(), torch.cat(preds).numpy(), average="macro")


def main(model, train_loader, epochs=15, device="cuda"):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for epoch in range(epochs):
        print(epoch, run_epoch(model, train_loader, criterion, optimizer, device))
