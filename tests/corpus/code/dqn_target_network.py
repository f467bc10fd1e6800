import random
from collections import deque

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    def __init__(self, obs_dim, n_actions, hidden=128):
        super().__init__()
        self.fc1 = nn.Linear(obs_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, n_actions)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class ReplayBuffer:
    def __init__(self, capacity):
        self.buffer = deque(maxlen=capacity)

    def push(self, *transition):
        self.buffer.append(transition)

    def sample(self, batch_size):
        batch = random.sample(self.buffer, batch_size)
        return [torch.as_tensor(np.array(x)) for x in zip(*batch)]


def train_dqn(env_id="CartPole-v1", episodes=500, gamma=0.99, batch_size=64, tau=0.005):
    env = gym.make(env_id)
    policy_net = QNetwork(env.observation_space.shape[0], env.action_space.n)
    target_net = QNetwork(env.observation_space.shape[0], env.action_space.n)
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = torch.optim.AdamW(policy_net.parameters(), lr=1e-4, amsgrad=True)
    memory = ReplayBuffer(10000)
    eps = 1.0
    for episode in range(episodes):
        state, _ = env.reset()
        done = False
        while not done:
            if random.random() < eps:
                action = env.action_space.sample()
            else:
                with torch.no_grad():
                    action = policy_net(torch.tensor(state)).argmax().item()
            next_state, reward, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            memory.push(state, action, reward, next_state, float(terminated))
            state = next_state
            if len(memory.buffer) < batch_size:
                continue
            s, a, r, s2, d = memory.sample(batch_size)
            q = policy_net(s.float()).gather(1, a.long().unsqueeze(1)).squeeze(1)
            with torch.no_grad():
                next_q = target_net(s2.float()).max(1)[0]
                target = r.float() + gamma * next_q * (1 - d.float())
            loss = F.smooth_l1_loss(q, target)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
            optimizer.step()
            for tp, pp in zip(target_net.parameters(), policy_net.parameters()):
                tp.data.copy_(tau * pp.data + (1 - tau) * tp.data)
        eps = max(0.05, eps * 0.995)
