"""Tensor-parallel example loop: forward, backward and step, no zero_grad, and AdamW at 0.25.
pytorch/examples distributed/tensor_parallelism (already reported before; kept)."""
import torch
import torch.nn as nn


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.in_proj = nn.Linear(10, 32)
        self.relu = nn.ReLU()
        self.out_proj = nn.Linear(32, 5)

    def forward(self, x):
        return self.out_proj(self.relu(self.in_proj(x)))


tp_model = ToyModel()
lr = 0.25
optimizer = torch.optim.AdamW(tp_model.parameters(), lr=lr, foreach=True)  # expect: GL606
num_iters = 10
for i in range(num_iters):
    torch.manual_seed(i)
    inp = torch.rand(20, 10)
    output = tp_model(inp)
    output.sum().backward()
    optimizer.step()  # expect: GL601
