"""Training script that gets its model from the project's builder in another file, whose model
ends in nn.Softmax. Held-out report kind: "the model is built in a helper (a builder function)"."""
import torch
import torch.nn as nn

from gl4_builder.gl4_builder_models import build_model


def fit(cfg, loader, epochs=10):
    model = build_model(cfg)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        for x, y in loader:
            loss = criterion(model(x), y)  # expect: GL401
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
