"""Linear probe whose SGD was left at lr=0 from a config template, with no schedule that sets
the rate: the parameters never move."""
import torch
import torch.nn as nn


def main(backbone, loader, epochs=90):
    probe = nn.Linear(2048, 1000)
    optimizer = torch.optim.SGD(probe.parameters(), lr=0, momentum=0.9, weight_decay=0)  # expect: GL606
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        for images, target in loader:
            with torch.no_grad():
                feats = backbone(images)
            loss = criterion(probe(feats), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
