"""Activity-recognition CNN: F.softmax at the end of forward, nn.CrossEntropyLoss in main.
After jindongwang/Deep-learning-activity-recognition issue #10 (the author: "It is true that I
shouldn't use F.softmax before nn.CrossEntropyLoss")."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(9, 32, (1, 9)), nn.ReLU(), nn.MaxPool2d((1, 2), 2))
        self.conv2 = nn.Sequential(nn.Conv2d(32, 64, (1, 9)), nn.ReLU(), nn.MaxPool2d((1, 2), 2))
        self.fc1 = nn.Sequential(nn.Linear(64 * 26, 1000), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(1000, 500), nn.ReLU())
        self.fc3 = nn.Sequential(nn.Linear(500, 6))

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        out = out.reshape(-1, 64 * 26)
        out = self.fc3(self.fc2(self.fc1(out)))
        return F.softmax(out, dim=1)


def train(model, optimizer, train_loader, test_loader):
    n_batch = len(train_loader.dataset) // 64
    criterion = nn.CrossEntropyLoss()
    for e in range(100):
        model.train()
        for index, (sample, target) in enumerate(train_loader):
            sample, target = sample.float(), target.long()
            sample = sample.view(-1, 9, 1, 128)
            output = model(sample)
            loss = criterion(output, target)  # expect: GL401
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
