# Source: milesial/Pytorch-UNet train.py (issue #468, fixed by PR #470 "Unscale gradients before clipping")
# The training step clips the gradients that `grad_scaler.scale(loss).backward()` just scaled.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim


class TinyUNet(nn.Module):
    def __init__(self, n_channels=3, n_classes=2):
        super().__init__()
        self.inc = nn.Conv2d(n_channels, 8, 3, padding=1)
        self.outc = nn.Conv2d(8, n_classes, 1)

    def forward(self, x):
        return self.outc(F.relu(self.inc(x)))


def train_model(model, batches, optimizer, amp=True, gradient_clipping=1.0):
    grad_scaler = torch.cuda.amp.GradScaler(enabled=amp)
    criterion = nn.CrossEntropyLoss()
    for images, true_masks in batches:
        with torch.autocast("cpu", enabled=amp):
            masks_pred = model(images)
            loss = criterion(masks_pred, true_masks)
        optimizer.zero_grad(set_to_none=True)
        grad_scaler.scale(loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), gradient_clipping)  # expect: GL801
        grad_scaler.step(optimizer)
        grad_scaler.update()


def make():
    torch.manual_seed(0)
    model = TinyUNet()
    optimizer = optim.RMSprop(model.parameters(), lr=1e-5, weight_decay=1e-8, momentum=0.999)
    batches = [(torch.randn(2, 3, 16, 16), torch.randint(0, 2, (2, 16, 16))) for _ in range(2)]
    return model, batches, optimizer


train = train_model
