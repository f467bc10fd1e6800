"""Candidate scorer with a softmax over candidates, trained with CrossEntropyLoss in a method
of another class. After bowang-lab/Transformer-GCN-QA PR #32 ("Removes erroneous extra
softmax", merged)."""
import torch
import torch.nn as nn


class TransformerGCN(nn.Module):
    def __init__(self, dim=768, n_rgcn_layers=3):
        super().__init__()
        self.rgcn = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_rgcn_layers))
        self.fc_logits = nn.Linear(dim, 1)
        self.softmax = nn.Softmax(dim=0)

    def forward(self, x):
        for layer in self.rgcn:
            x = torch.relu(layer(x))
        return self.softmax(self.fc_logits(x).squeeze(-1))


class QATrainer:
    def __init__(self, model: TransformerGCN, lr=1e-4):
        self.model = model
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def train_step(self, x, target):
        self.optimizer.zero_grad()
        logits = self.model(x)
        loss = self.criterion(logits.unsqueeze(0), target)  # expect: GL401
        loss.backward()
        self.optimizer.step()
        return loss.item()
