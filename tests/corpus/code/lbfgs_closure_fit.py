import torch
import torch.nn as nn


class CurveFit(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, t):
        return self.net(t)


def fit(x, y, iters=50):
    model = CurveFit()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, line_search_fn="strong_wolfe")
    loss_fn = nn.MSELoss()

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        return loss

    for it in range(iters):
        loss = optimizer.step(closure)
        if it % 10 == 0:
            print(it, loss.item())
    return model


if __name__ == "__main__":
    x = torch.linspace(-3, 3, 200).unsqueeze(1)
    fit(x, torch.sin(x) + 0.05 * torch.randn_like(x))
