# Near-miss: SiamCAR's parameter groups after the fix
# (https://github.com/ohhhyeahhh/SiamCAR/issues/18): self.down has its own group, and the
# backbone's early layers are frozen on purpose.
import torch
import torch.nn as nn


class ModelBuilder(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.neck = nn.Conv2d(8, 8, 1)
        self.down = nn.ConvTranspose2d(8 * 3, 8, 1, 1)
        self.car_head = nn.Conv2d(8, 4, 3, padding=1)

    def forward(self, x):
        f = self.neck(self.backbone(x))
        return self.car_head(self.down(torch.cat([f, f, f], dim=1)))


def train(model: ModelBuilder, example):
    for param in model.backbone.parameters():
        param.requires_grad = False
    trainable_params = []
    trainable_params += [
        {"params": filter(lambda x: x.requires_grad, model.backbone.parameters()), "lr": 1e-3}
    ]
    trainable_params += [{"params": model.neck.parameters(), "lr": 5e-3}]
    trainable_params += [{"params": model.down.parameters(), "lr": 5e-3}]
    trainable_params += [{"params": model.car_head.parameters(), "lr": 5e-3}]
    optimizer = torch.optim.SGD(trainable_params, momentum=0.9, weight_decay=1e-4)
    for x in [example]:
        loss = model(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def make():
    return ModelBuilder(), torch.randn(2, 3, 8, 8)
