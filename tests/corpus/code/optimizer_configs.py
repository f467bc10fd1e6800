"""Optimiser factory used by the experiment configs."""
import torch
from torch import optim

BASE_LR = 3e-4
WARMUP_LR = 1e-9


def make_optimizer(name, model, weight_decay=0.0):
    if name == "adam":
        return optim.Adam(model.parameters(), lr=1, weight_decay=weight_decay)  # expect: GL606
    if name == "adamw":
        return optim.AdamW(model.parameters(), lr=BASE_LR, weight_decay=weight_decay)
    if name == "sgd":
        return optim.SGD(model.parameters(), 0.1, momentum=0.9, nesterov=True)
    if name == "sgd_warmup":
        return optim.SGD(model.parameters(), lr=WARMUP_LR, momentum=0.9)  # expect: GL606
    if name == "rmsprop":
        return optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9)
    if name == "adagrad":
        return optim.Adagrad(model.parameters(), lr=0.01)
    if name == "finetune":
        return optim.Adam(
            [
                {"params": model.backbone.parameters(), "lr": 1e-5},
                {"params": model.head.parameters(), "lr": 10},  # expect: GL606
            ],
            lr=BASE_LR,
        )
    if name == "frozen":
        return torch.optim.SGD(model.parameters(), lr=0.0)  # expect: GL606
    if name == "lbfgs":
        return optim.LBFGS(model.parameters(), lr=1, history_size=10, max_iter=4)
    raise ValueError(name)
