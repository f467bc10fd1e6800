import torch
import torch.nn as nn
from tqdm import tqdm


class Regressor(nn.Module):
    def __init__(self, d_in, d_hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, d_hidden), nn.Tanh(), nn.Linear(d_hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class Trainer:
    def __init__(self, model, lr=1e-3, device="cpu"):
        self.model = model.to(device)
        self.device = device
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.criterion = nn.MSELoss()

    def fit(self, loader, epochs=10):
        for epoch in range(epochs):
            pbar = tqdm(loader, desc=f"epoch {epoch}")
            for x, y in pbar:
                x, y = x.to(self.device), y.to(self.device)
                pred = self.model(x)
                loss = self.criterion(pred, y)
                loss.backward()
                self.optimizer.zero_grad()  # expect: GL602
                self.optimizer.step()
                pbar.set_postfix(loss=f"{loss.item():.4f}")
