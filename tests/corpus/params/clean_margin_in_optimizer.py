# Near-miss: Face_Pytorch's train.py (https://github.com/wujiyang/Face_Pytorch/issues/10):
# the margin head's weight is in the second parameter group, so it trains.
import torch
import torch.nn as nn
import torch.nn.functional as F


class ArcMarginProduct(nn.Module):
    def __init__(self, in_feature=8, out_feature=10, s=32.0):
        super().__init__()
        self.s = s
        self.weight = nn.Parameter(torch.empty(out_feature, in_feature))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x, label):
        return self.s * F.linear(F.normalize(x), F.normalize(self.weight))


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(20, 32), nn.PReLU(), nn.Linear(32, 8))

    def forward(self, x):
        return self.body(x)


def train(net: Backbone, example):
    margin = ArcMarginProduct()
    criterion = nn.CrossEntropyLoss()
    optimizer_ft = torch.optim.SGD(
        [
            {"params": net.parameters(), "weight_decay": 5e-4},
            {"params": margin.parameters(), "weight_decay": 5e-4},
        ],
        lr=0.1,
        momentum=0.9,
    )
    label = torch.arange(example.size(0)) % 10
    for img in [example]:
        optimizer_ft.zero_grad()
        raw_logits = net(img)
        output = margin(raw_logits, label)
        total_loss = criterion(output, label)
        total_loss.backward()
        optimizer_ft.step()


def make():
    return Backbone(), torch.randn(6, 20)
