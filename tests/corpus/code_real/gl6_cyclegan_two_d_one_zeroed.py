"""CycleGAN-style loop with two discriminators: D_A's optimiser is zeroed, D_B's is not."""
import itertools

import torch
import torch.nn as nn


def train(G_AB, G_BA, D_A, D_B, loader, lr=2e-4):
    criterion_GAN = nn.MSELoss()
    criterion_cycle = nn.L1Loss()
    optimizer_G = torch.optim.Adam(itertools.chain(G_AB.parameters(), G_BA.parameters()), lr=lr)
    optimizer_D_A = torch.optim.Adam(D_A.parameters(), lr=lr)
    optimizer_D_B = torch.optim.Adam(D_B.parameters(), lr=lr)
    for real_A, real_B in loader:
        optimizer_G.zero_grad()
        fake_B, fake_A = G_AB(real_A), G_BA(real_B)
        pred_B, pred_A = D_B(fake_B), D_A(fake_A)
        loss_G = criterion_GAN(pred_B, torch.ones_like(pred_B)) + criterion_GAN(pred_A, torch.ones_like(pred_A))
        loss_G = loss_G + 10.0 * (criterion_cycle(G_BA(fake_B), real_A) + criterion_cycle(G_AB(fake_A), real_B))
        loss_G.backward()
        optimizer_G.step()
        optimizer_D_A.zero_grad()
        loss_D_A = criterion_GAN(D_A(real_A), torch.ones_like(pred_A)) + criterion_GAN(D_A(fake_A.detach()), torch.zeros_like(pred_A))
        loss_D_A.backward()
        optimizer_D_A.step()
        loss_D_B = criterion_GAN(D_B(real_B), torch.ones_like(pred_B)) + criterion_GAN(D_B(fake_B.detach()), torch.zeros_like(pred_B))
        loss_D_B.backward()
        optimizer_D_B.step()  # expect: GL601
