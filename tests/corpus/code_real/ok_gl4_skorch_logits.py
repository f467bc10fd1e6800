"""Near-miss: skorch wrapper with criterion=nn.CrossEntropyLoss beside a module that returns
logits (the fixed ray-skorch example, PR #18)."""
import torch.nn as nn
from skorch import NeuralNetClassifier


class MyModule(nn.Module):
    def __init__(self, num_units=10):
        super().__init__()
        self.dense0 = nn.Linear(20, num_units)
        self.output = nn.Linear(num_units, 2)

    def forward(self, X, **kwargs):
        return self.output(nn.functional.relu(self.dense0(X)))


net = NeuralNetClassifier(MyModule, criterion=nn.CrossEntropyLoss, max_epochs=10, lr=0.1)
