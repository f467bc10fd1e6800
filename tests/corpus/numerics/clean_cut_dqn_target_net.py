# Near-miss: the PyTorch DQN tutorial (intermediate/reinforcement_q_learning.py): the target network
# is synced from the policy network and evaluated under no_grad; only the policy network trains.
import torch
import torch.nn as nn


class DQNLoss(nn.Module):
    def __init__(self, n_obs=4, n_actions=2, gamma=0.99):
        super().__init__()
        self.gamma = gamma
        self.policy_net = nn.Sequential(nn.Linear(n_obs, 32), nn.ReLU(), nn.Linear(32, n_actions))
        self.target_net = nn.Sequential(nn.Linear(n_obs, 32), nn.ReLU(), nn.Linear(32, n_actions))
        self.target_net.load_state_dict(self.policy_net.state_dict())

    def forward(self, state, next_state):
        q = self.policy_net(state).max(1).values
        with torch.no_grad():
            target = self.target_net(next_state).max(1).values * self.gamma
        return q - target


NOT_TRAINED = ("target_net",)


def make():
    torch.manual_seed(0)
    return DQNLoss(), (torch.randn(8, 4), torch.randn(8, 4))
