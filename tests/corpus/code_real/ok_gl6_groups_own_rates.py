"""Near-miss: SGD(param_groups, 0, ...) where every group brings its own rate
(facebookresearch/barlowtwins evaluate.py, 8e8d284c): the positional 0 is a placeholder."""
import torch
import torch.nn as nn
from torch import optim


def main(args, model, loader):
    classifier_parameters, model_parameters = [], []
    for name, param in model.named_parameters():
        (classifier_parameters if name.startswith("fc.") else model_parameters).append(param)
    criterion = nn.CrossEntropyLoss()
    param_groups = [dict(params=classifier_parameters, lr=args.lr_classifier)]
    if args.weights == "finetune":
        param_groups.append(dict(params=model_parameters, lr=args.lr_backbone))
    optimizer = optim.SGD(param_groups, 0, momentum=0.9, weight_decay=args.weight_decay)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs)
    for epoch in range(args.epochs):
        for images, target in loader:
            loss = criterion(model(images), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
