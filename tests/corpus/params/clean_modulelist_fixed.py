# Near-miss: the fix proposed in meta-pytorch/torchfix#31, nn.ModuleList over the comprehension.
import torch


class FeedForward(torch.nn.Module):
    def __init__(self, n_features, n_classes, n_hidden, width):
        super().__init__()
        self.hidden_layers = torch.nn.ModuleList(
            [torch.nn.Linear(n_features if i == 0 else width, width) for i in range(n_hidden)]
        )
        self.output = torch.nn.Linear(width, n_classes)

    def forward(self, x):
        for layer in self.hidden_layers:
            x = torch.relu(layer(x))
        return self.output(x)


def make():
    return FeedForward(10, 3, 2, 16), torch.randn(5, 10)
