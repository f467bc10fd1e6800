import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class ChurnNet(nn.Module):
    """Tabular binary classifier: 3 hidden layers with batch norm."""

    def __init__(self, n_features, widths=(128, 64, 32)):
        super().__init__()
        layers = []
        prev = n_features
        for w in widths:
            layers += [nn.Linear(prev, w), nn.BatchNorm1d(w), nn.ReLU()]
            prev = w
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(prev, 1)

    def forward(self, x):
        logits = self.head(self.body(x))
        return torch.sigmoid(logits).squeeze(-1)


def fit(model: ChurnNet, loader, epochs=20, lr=1e-3, pos_weight=3.0):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    history = []
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            preds = model(xb)
            loss = loss_fn(preds, yb.float())  # expect: GL403
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        history.append(total / len(loader.dataset))
    return history


if __name__ == "__main__":
    df = pd.read_csv("churn.csv")
    y = torch.tensor(df.pop("churned").values)
    X = torch.tensor(df.values, dtype=torch.float32)
    dl = DataLoader(TensorDataset(X, y), batch_size=256, shuffle=True)
    print(fit(ChurnNet(X.shape[1]), dl))
