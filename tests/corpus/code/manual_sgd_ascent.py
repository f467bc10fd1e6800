"""Logistic regression trained with a hand-written SGD loop (no torch.optim)."""
import torch
import torch.nn.functional as F

torch.manual_seed(0)
n, d = 512, 20
X = torch.randn(n, d)
true_w = torch.randn(d, 1)
y = (X @ true_w + 0.1 * torch.randn(n, 1) > 0).float()


class LogReg(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.linear = torch.nn.Linear(d, 1)

    def forward(self, x):
        return self.linear(x)


model = LogReg(d)
lr = 0.1
for epoch in range(200):
    logits = model(X)
    loss = F.binary_cross_entropy_with_logits(logits, y)
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param.data += lr * param.grad  # expect: GL605
            param.grad.zero_()
    if epoch % 20 == 0:
        print(epoch, loss.item())
