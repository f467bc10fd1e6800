# Source: https://github.com/ohhhyeahhh/SiamCAR/issues/18
# Confirmed: the maintainers replied that they did forget to put self.down's parameters into
# the optimizer (trainable_params lists backbone, neck and car_head only).
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
        features = self.down(torch.cat([f, f, f], dim=1))
        return self.car_head(features)


def train(model: ModelBuilder, example):
    trainable_params = []
    trainable_params += [
        {"params": filter(lambda x: x.requires_grad, model.backbone.parameters()), "lr": 1e-3}
    ]
    trainable_params += [{"params": model.neck.parameters(), "lr": 5e-3}]
    trainable_params += [{"params": model.car_head.parameters(), "lr": 5e-3}]
    optimizer = torch.optim.SGD(trainable_params, momentum=0.9, weight_decay=1e-4)  # expect: GL704
    for x in [example]:
        loss = model(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def make():
    return ModelBuilder(), torch.randn(2, 3, 8, 8)
