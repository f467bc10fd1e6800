# expect-model: GL301
from dataclasses import dataclass, field

import torch
import torch.nn as nn

INPUT_SHAPE = (128, 24)


@dataclass
class NetConfig:
    obs_dim: int = 24
    hidden: list = field(default_factory=lambda: [192] * 40)
    act: type = nn.Softplus


class SoftplusCritic(nn.Module):
    def __init__(self, cfg: NetConfig = NetConfig()):
        super().__init__()
        dims = [cfg.obs_dim] + cfg.hidden
        self.trunk = nn.Sequential(*[m for a, b in zip(dims, dims[1:]) for m in (nn.Linear(a, b), cfg.act())])
        self.value = nn.Linear(dims[-1], 1)

    def forward(self, obs):
        return self.value(self.trunk(obs))


def build():
    return SoftplusCritic()
