"""LRCN activity recognition: the model ends in softmax, the criterion reaches the training
function as an argument. After doronharitan/human_activity_recognition_LRCN issue #4 (the
maintainer agreed; removing the softmax made the model converge faster)."""
import torch
import torch.nn as nn


class ConvLstm(nn.Module):
    def __init__(self, latent_dim, hidden_size, n_class):
        super().__init__()
        self.conv_model = nn.Sequential(nn.Conv2d(3, latent_dim, 3, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.lstm = nn.LSTM(latent_dim, hidden_size, batch_first=True)
        self.output_layer = nn.Sequential(
            nn.Linear(hidden_size, n_class),
            nn.Softmax(dim=-1),
        )

    def forward(self, x):
        b, t, c, h, w = x.shape
        feats = self.conv_model(x.view(b * t, c, h, w)).view(b, t, -1)
        out, _ = self.lstm(feats)
        return self.output_layer(out[:, -1, :])


def train_model(model, dataloader, device, optimizer, criterion):
    model.train()
    for local_images, local_labels in dataloader:
        optimizer.zero_grad()
        output = model(local_images.to(device))
        loss = criterion(output, local_labels.to(device))  # expect: GL401
        loss.backward()
        optimizer.step()


def main(loader):
    model = ConvLstm(512, 256, 101)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    criterion = nn.CrossEntropyLoss()
    train_model(model, loader, "cpu", optimizer, criterion)
