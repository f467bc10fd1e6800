# expect-model: GL202
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (128, 128)


class Net(nn.Module):
    def __init__(self, d=128, hidden=512, n_classes=20):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, hidden)
        self.fc4 = nn.Linear(hidden, hidden)
        self.fc5 = nn.Linear(hidden, hidden)
        self.fc6 = nn.Linear(hidden, n_classes)
        for fc in [self.fc1, self.fc2, self.fc3, self.fc4, self.fc5, self.fc6]:
            fc.weight.data.normal_(0, 0.01)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        x = F.relu(self.fc4(x))
        x = F.relu(self.fc5(x))
        return self.fc6(x)


def build():
    return Net()
