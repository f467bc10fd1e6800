# expect-model: GL101
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(64, 256)
        self.hidden = nn.ModuleList([nn.Linear(256, 256) for i in range(11)])
        self.fc_out = nn.Linear(256, 10)

    def forward(self, x):
        x = torch.tanh(self.fc1(x))
        for fc in self.hidden:
            x = torch.tanh(fc(x))
        x = self.fc_out(x)
        return x


def build():
    return Net()
