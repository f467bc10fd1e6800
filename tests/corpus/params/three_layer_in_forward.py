# Source: https://github.com/pytorch/pytorch/issues/1291
# Confirmed: with the layers built in forward, list(model.parameters()) is empty; the answer
# is to define them in __init__.
import torch

D_in, H, D_out = 20, 16, 4


class ThreeLayerNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(D_out))

    def forward(self, x):
        h_relu = torch.nn.Linear(D_in, H)(x).clamp(min=0)  # expect: GL703
        h_relu = torch.nn.Linear(H, H)(h_relu).clamp(min=0)  # expect: GL703
        y_pred = torch.nn.Linear(H, D_out)(h_relu)  # expect: GL703
        return y_pred * self.scale


def make():
    return ThreeLayerNet(D_in, H, D_out), torch.randn(3, D_in)
