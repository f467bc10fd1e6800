"""AC-GAN discriminator whose auxiliary head ends in nn.Softmax, fed to CrossEntropyLoss.
eriklindernoren/PyTorch-GAN implementations/acgan (already reported before; kept)."""
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, n_classes=10, img_size=32, channels=1):
        super().__init__()
        self.conv_blocks = nn.Sequential(nn.Conv2d(channels, 16, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 128, 3, 2, 1))
        ds_size = img_size // 4
        self.adv_layer = nn.Sequential(nn.Linear(128 * ds_size ** 2, 1), nn.Sigmoid())
        self.aux_layer = nn.Sequential(nn.Linear(128 * ds_size ** 2, n_classes), nn.Softmax())

    def forward(self, img):
        out = self.conv_blocks(img).view(img.shape[0], -1)
        return self.adv_layer(out), self.aux_layer(out)


discriminator = Discriminator()
adversarial_loss = nn.BCELoss()
auxiliary_loss = nn.CrossEntropyLoss()
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=2e-4)
for imgs, labels in []:
    optimizer_D.zero_grad()
    real_pred, real_aux = discriminator(imgs)
    d_real_loss = (adversarial_loss(real_pred, torch.ones_like(real_pred)) + auxiliary_loss(real_aux, labels)) / 2  # expect: GL401, GL404
    d_real_loss.backward()
    optimizer_D.step()
