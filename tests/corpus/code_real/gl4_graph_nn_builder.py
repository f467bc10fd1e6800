"""Siamese graph network from a builder function, a softmax over the node similarities,
then CrossEntropyLoss. After mlelarge/graph_neural_net PR #37 ("There was a softmax before a
crossentropyloss... I removed the softmax", merged)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Siamese_Node(nn.Module):
    def __init__(self, n_features, depth):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(n_features, n_features) for _ in range(depth))

    def embed(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        return x

    def forward(self, g1, g2):
        e1, e2 = self.embed(g1), self.embed(g2)
        scores = torch.matmul(e1, e2.transpose(1, 2))
        return F.softmax(scores, dim=-1)


def get_model(args):
    model = Siamese_Node(args["n_features"], args["depth"])
    return model


def train_triplet(train_loader, model, criterion, optimizer):
    model.train()
    for g1, g2, target in train_loader:
        output = model(g1, g2)
        n_vertices = output.shape[-1]
        loss = criterion(output.view(-1, n_vertices), target.view(-1))  # expect: GL401
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main(args, loader):
    model = get_model(args)
    criterion = nn.CrossEntropyLoss(reduction="mean")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_triplet(loader, model, criterion, optimizer)
