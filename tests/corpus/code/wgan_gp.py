import torch
import torch.nn as nn
from torch import autograd


class Critic(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, dim, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(dim, dim * 2, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(dim * 2 * 7 * 7, 1),
        )

    def forward(self, x):
        return self.net(x)


class Gen(nn.Module):
    def __init__(self, z_dim=128, dim=64):
        super().__init__()
        self.fc = nn.Linear(z_dim, dim * 2 * 7 * 7)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(dim * 2, dim, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(dim, 1, 4, 2, 1), nn.Tanh(),
        )
        self.dim = dim

    def forward(self, z):
        return self.net(self.fc(z).view(-1, self.dim * 2, 7, 7))


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1, 1, 1, device=real.device)
    interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(interp)
    grads = autograd.grad(out, interp, grad_outputs=torch.ones_like(out), create_graph=True)[0]
    return ((grads.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def train(gen, critic, loader, z_dim=128, n_critic=5, lambda_gp=10.0, iters=100000):
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.0, 0.9))
    data = iter(loader)
    for it in range(iters):
        for _ in range(n_critic):
            try:
                real, _ = next(data)
            except StopIteration:
                data = iter(loader)
                real, _ = next(data)
            z = torch.randn(real.size(0), z_dim)
            fake = gen(z).detach()
            loss_c = critic(fake).mean() - critic(real).mean() + lambda_gp * gradient_penalty(critic, real, fake)
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()
        z = torch.randn(real.size(0), z_dim)
        loss_g = -critic(gen(z)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
