"""A binary output block that applies the sigmoid, with BCEWithLogitsLoss as its default loss.
After NVIDIA-Merlin/models PR #1175 ("we apply sigmoid twice", merged, labelled bug)."""
import torch
import torch.nn as nn


class BinaryOutput(nn.Module):
    def __init__(self, in_features, loss=nn.BCEWithLogitsLoss()):
        super().__init__()
        self.linear = nn.Linear(in_features, 1)
        self.loss = loss

    def forward(self, inputs):
        return torch.sigmoid(self.linear(inputs)).squeeze(-1)

    def compute_loss(self, inputs, targets):
        predictions = self(inputs)
        return self.loss(predictions, targets.float())  # expect: GL403
