"""Factorisation machine recommender: forward ends in sigmoid, fit uses BCEWithLogitsLoss.
After yudi-mars/daisyRec PR #15 ("Otherwise loss does not converge", merged)."""
import torch
import torch.nn as nn


class PointFM(nn.Module):
    def __init__(self, user_num, item_num, factors=84, epochs=20, lr=0.01, loss_type="CL"):
        super().__init__()
        self.embed_user = nn.Embedding(user_num, factors)
        self.embed_item = nn.Embedding(item_num, factors)
        self.u_bias = nn.Embedding(user_num, 1)
        self.i_bias = nn.Embedding(item_num, 1)
        self.bias_ = nn.Parameter(torch.tensor([0.0]))
        self.epochs, self.lr, self.loss_type = epochs, lr, loss_type

    def forward(self, user, item):
        pred = (self.embed_user(user) * self.embed_item(item)).sum(dim=-1, keepdim=True)
        pred += self.u_bias(user) + self.i_bias(item) + self.bias_
        return torch.sigmoid(pred.view(-1))

    def fit(self, train_loader):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.lr)
        if self.loss_type == "CL":
            criterion = nn.BCEWithLogitsLoss(reduction="sum")
        else:
            raise ValueError(self.loss_type)
        for epoch in range(1, self.epochs + 1):
            for user, item, label in train_loader:
                self.zero_grad()
                prediction = self.forward(user, item)
                loss = criterion(prediction, label)  # expect: GL403
                loss.backward()
                optimizer.step()
