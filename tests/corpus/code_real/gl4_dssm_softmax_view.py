"""Deep semantic similarity model: softmax over candidate scores, then CrossEntropyLoss.
After nishnik/Deep-Semantic-Similarity-Model-PyTorch issue #2 ("That was a mistake")."""
import torch
import torch.nn as nn
import torch.nn.functional as F

J = 4


class CDSSM(nn.Module):
    def __init__(self, word_depth=300, k=300, l=128):
        super().__init__()
        self.query_conv = nn.Conv1d(word_depth, k, 3)
        self.query_sem = nn.Linear(k, l)
        self.doc_conv = nn.Conv1d(word_depth, k, 3)
        self.doc_sem = nn.Linear(k, l)
        self.learn_gamma = nn.Conv1d(J + 1, J + 1, 1)

    def encode(self, conv, sem, x):
        h = torch.tanh(conv(x.transpose(1, 2))).max(dim=2)[0]
        return torch.tanh(sem(h))

    def forward(self, q, pos, negs):
        q_s = self.encode(self.query_conv, self.query_sem, q)
        docs = [self.encode(self.doc_conv, self.doc_sem, d) for d in [pos] + negs]
        dots = torch.stack([(q_s * d).sum(1) for d in docs], dim=1)
        with_gamma = self.learn_gamma(dots.unsqueeze(2)).squeeze(2)
        return F.softmax(with_gamma, dim=1)


model = CDSSM()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for q, pos, negs in []:
    y_pred = model(q, pos, negs)
    y = torch.zeros(y_pred.size(0), dtype=torch.long)
    loss = criterion(y_pred.view(-1, J + 1), y)  # expect: GL401
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
