"""Near-miss: DCGAN (pytorch/examples) clears the networks with netD.zero_grad() and
netG.zero_grad(), and steps both optimisers."""
import torch
import torch.nn as nn


def train(netG, netD, dataloader, nz=100, epochs=25):
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(epochs):
        for i, data in enumerate(dataloader):
            netD.zero_grad()
            real = data[0]
            label = torch.full((real.size(0),), 1.0)
            errD_real = criterion(netD(real), label)
            errD_real.backward()
            fake = netG(torch.randn(real.size(0), nz, 1, 1))
            errD_fake = criterion(netD(fake.detach()), label.fill_(0.0))
            errD_fake.backward()
            optimizerD.step()
            netG.zero_grad()
            errG = criterion(netD(fake), label.fill_(1.0))
            errG.backward()
            optimizerG.step()
