import numpy as np
import torch
import torch.nn as nn


class LSTMForecaster(nn.Module):
    def __init__(self, input_dim=1, hidden_dim=64, num_layers=2, output_dim=1):
        super(LSTMForecaster, self).__init__()
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_dim, hidden_dim, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_dim, output_dim)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_dim).requires_grad_()
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_dim).requires_grad_()
        out, (hn, cn) = self.lstm(x, (h0.detach(), c0.detach()))
        out = self.fc(out[:, -1, :])
        return out


def build():
    return LSTMForecaster(hidden_dim=8), (torch.randn(3, 5, 1),)


def sliding_windows(series, lookback=20):
    xs, ys = [], []
    for i in range(len(series) - lookback):
        xs.append(series[i:i + lookback])
        ys.append(series[i + lookback])
    return torch.tensor(np.array(xs), dtype=torch.float32).unsqueeze(-1), torch.tensor(np.array(ys), dtype=torch.float32).unsqueeze(-1)


if __name__ == "__main__":
    series = np.sin(np.linspace(0, 100, 2000)) + 0.1 * np.random.randn(2000)
    x_train, y_train = sliding_windows(series)
    model = LSTMForecaster()
    criterion = torch.nn.MSELoss(reduction="mean")
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    hist = np.zeros(100)
    for t in range(100):
        y_train_pred = model(x_train)
        loss = criterion(y_train_pred, y_train)
        hist[t] = loss.item()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
