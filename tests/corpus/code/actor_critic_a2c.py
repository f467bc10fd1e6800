import torch
import torch.nn as nn
import torch.nn.functional as F


class ActorCritic(nn.Module):
    def __init__(self, obs_dim, n_actions, hidden=64):
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.actor = nn.Linear(hidden, n_actions)
        self.critic = nn.Linear(hidden, 1)

    def forward(self, obs):
        h = self.shared(obs)
        probs = F.softmax(self.actor(h), dim=-1)
        value = self.critic(h).squeeze(-1)
        return probs, value


def a2c_update(model, optimizer, obs, actions, returns, value_coef=0.5, entropy_coef=0.01):
    probs, values = model(obs)
    log_probs = torch.log(probs.gather(1, actions.unsqueeze(1)).squeeze(1) + 1e-8)
    advantages = returns - values.detach()
    policy_loss = -(log_probs * advantages).mean()
    value_loss = F.mse_loss(values, returns)
    entropy = -(probs * torch.log(probs + 1e-8)).sum(-1).mean()
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    optimizer.step()
    return loss.item()


def rollout_and_train(env, model, optimizer, steps=5, gamma=0.99, updates=10000):
    obs = torch.as_tensor(env.reset()[0], dtype=torch.float32)
    for update in range(updates):
        batch_obs, batch_act, rewards = [], [], []
        for _ in range(steps):
            with torch.no_grad():
                probs, _ = model(obs.unsqueeze(0))
            action = torch.multinomial(probs, 1).item()
            next_obs, reward, term, trunc, _ = env.step(action)
            batch_obs.append(obs)
            batch_act.append(action)
            rewards.append(reward)
            obs = torch.as_tensor(next_obs, dtype=torch.float32)
        returns, R = [], 0.0
        for r in reversed(rewards):
            R = r + gamma * R
            returns.insert(0, R)
        a2c_update(model, optimizer, torch.stack(batch_obs), torch.tensor(batch_act), torch.tensor(returns))
