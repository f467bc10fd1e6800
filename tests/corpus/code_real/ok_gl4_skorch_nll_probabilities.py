"""Near-miss: skorch's default NLLLoss with a module that outputs probabilities: skorch's
NeuralNetClassifier takes the log itself before NLLLoss (its documented contract)."""
import torch.nn as nn
import torch.nn.functional as F
from skorch import NeuralNetClassifier


class ClassifierModule(nn.Module):
    def __init__(self, num_units=10):
        super().__init__()
        self.dense0 = nn.Linear(20, num_units)
        self.output = nn.Linear(num_units, 2)

    def forward(self, X, **kwargs):
        return F.softmax(self.output(F.relu(self.dense0(X))), dim=-1)


net = NeuralNetClassifier(ClassifierModule, criterion=nn.NLLLoss, max_epochs=20, lr=0.1)
