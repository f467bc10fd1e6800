"""A module handed to skorch's classifier with criterion=nn.CrossEntropyLoss beside it.
After Yard1/ray-skorch PR #18 ("Remove softmax from output", merged)."""
import torch.nn as nn
import torch.nn.functional as F
from skorch import NeuralNetClassifier


class MyModule(nn.Module):
    def __init__(self, num_units=10, nonlin=nn.ReLU()):
        super().__init__()
        self.dense0 = nn.Linear(20, num_units)
        self.nonlin = nonlin
        self.dropout = nn.Dropout(0.5)
        self.dense1 = nn.Linear(num_units, num_units)
        self.output = nn.Linear(num_units, 2)

    def forward(self, X, **kwargs):
        X = self.nonlin(self.dense0(X))
        X = self.dropout(X)
        X = self.nonlin(self.dense1(X))
        X = F.softmax(self.output(X), dim=-1)
        return X


net = NeuralNetClassifier(  # expect: GL401
    MyModule,
    criterion=nn.CrossEntropyLoss,
    max_epochs=10,
    lr=0.1,
)
