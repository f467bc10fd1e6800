# Source: DeepDiagnosis (Wardat, Cruz, Le, Rajan, ICSE 2022), saturation symptom: more than half
# of a tanh/sigmoid layer's inputs beyond +-5. Encoder layer of width 1024 drawn from N(0, 1)
# (`nn.init.normal_(w, std=1.0)`): the pre-activations have a std of about 32.
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, width=1024, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, classes)
        nn.init.normal_(self.fc1.weight, std=1.0)  # expect: GL102

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def make():
    return Encoder(), torch.randn(256, 1024)
