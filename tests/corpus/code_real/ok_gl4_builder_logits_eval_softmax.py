"""Near-miss: a model from a builder function whose softmax is applied in evaluation only,
under torch.no_grad."""
import torch
import torch.nn as nn


def make_model(n_in, n_out):
    return nn.Sequential(nn.Linear(n_in, 128), nn.ReLU(), nn.Linear(128, n_out))


def run(loader, val_loader):
    model = make_model(20, 3)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in loader:
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        for x, y in val_loader:
            probs = torch.softmax(model(x), dim=1)
            print((probs.argmax(1) == y).float().mean())
