# Near-miss: https://github.com/ikostrikov/pytorch-a2c-ppo-acktr model.py init_normc_: weights
# drawn from N(0, 1) and then each row rescaled to unit norm before tanh; the rescale brings the
# pre-activations back to a std of about 1, so the tanh units are not saturated.
import torch
import torch.nn as nn


def init_normc_(weight, gain=1):
    weight.normal_(0, 1)
    weight *= gain / torch.sqrt(weight.pow(2).sum(1, keepdim=True))


class MLPBase(nn.Module):
    def __init__(self, num_inputs=64, hidden_size=64):
        super(MLPBase, self).__init__()
        self.actor = nn.Sequential(
            nn.Linear(num_inputs, hidden_size), nn.Tanh(),
            nn.Linear(hidden_size, hidden_size), nn.Tanh())
        for m in self.actor:
            if isinstance(m, nn.Linear):
                with torch.no_grad():
                    init_normc_(m.weight)
                nn.init.constant_(m.bias, 0)

    def forward(self, inputs):
        return self.actor(inputs)


def make():
    return MLPBase(), torch.randn(256, 64)
