"""Adult-income handler: the target model ends in a sigmoid, the handler's criterion is
BCEWithLogitsLoss from a method. After aidotse/LeakPro issue #229 (labelled bug, closed by the fix)."""
import torch
import torch.nn as nn
from torch import optim


class AdultNet(nn.Module):
    def __init__(self, input_size, hidden_size=64, num_classes=1):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.fc2 = nn.Linear(hidden_size, hidden_size)
        self.fc3 = nn.Linear(hidden_size, num_classes)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        out = self.relu(self.fc1(x))
        out = self.relu(self.fc2(out))
        return self.sigmoid(self.fc3(out))


class AdultInputHandler:
    def get_criterion(self):
        return nn.BCEWithLogitsLoss()

    def get_optimizer(self, model):
        return optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train(self, dataloader, model: AdultNet, epochs=10):
        criterion = nn.BCEWithLogitsLoss()
        optimizer = self.get_optimizer(model)
        for e in range(epochs):
            for data, target in dataloader:
                optimizer.zero_grad()
                output = model(data)
                loss = criterion(output.squeeze(), target.float())  # expect: GL403
                loss.backward()
                optimizer.step()
