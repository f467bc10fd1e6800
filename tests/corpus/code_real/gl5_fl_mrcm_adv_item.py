"""Federated MR reconstruction update: the adversarial term is made a float before it joins
the loss. After guopengf/FL-MRCM issue #10 (labelled bug; "You are right ... This is a bug").
Measured: the generator gets the reconstruction gradient only."""
import torch
import torch.nn as nn


class LocalUpdate:
    def __init__(self, args, net_g, net_d):
        self.args = args
        self.loss_func = nn.L1Loss()
        self.adv_loss = nn.BCEWithLogitsLoss()
        self.net_g, self.net_d = net_g, net_d

    def train(self, loader):
        self.net_g.train()
        optimizer = torch.optim.Adam(self.net_g.parameters(), lr=self.args.lr)
        epoch_loss = []
        for batch_idx, (image, target) in enumerate(loader):
            optimizer.zero_grad()
            output = self.net_g(image)
            loss_rec = self.loss_func(output, target)
            fake_pred = self.net_d(output)
            loss_adv_g = self.adv_loss(fake_pred, torch.ones_like(fake_pred)).item()  # expect: GL503
            loss = loss_rec + self.args.lambda_adv * loss_adv_g
            loss.backward()
            optimizer.step()
            epoch_loss.append(loss.item())
        return sum(epoch_loss) / len(epoch_loss)
