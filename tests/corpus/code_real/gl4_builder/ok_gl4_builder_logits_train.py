"""Near-miss: the same project's builder of a model that returns logits."""
import torch
import torch.nn as nn

from gl4_builder import gl4_builder_models as zoo


def fit(cfg, loader):
    model = zoo.build_logits_model(cfg)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for x, y in loader:
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
