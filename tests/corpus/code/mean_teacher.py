"""Mean Teacher (Tarvainen & Valpola, 2017) for semi-supervised CIFAR-10."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvLarge(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 128, 3, padding=1), nn.BatchNorm2d(128), nn.LeakyReLU(0.1),
            nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128), nn.LeakyReLU(0.1),
            nn.MaxPool2d(2), nn.Dropout(0.5),
            nn.Conv2d(128, 256, 3, padding=1), nn.BatchNorm2d(256), nn.LeakyReLU(0.1),
            nn.AdaptiveAvgPool2d(1),
        )
        self.fc1 = nn.Linear(256, num_classes)
        self.fc2 = nn.Linear(256, num_classes)

    def forward(self, x):
        h = self.features(x).flatten(1)
        return self.fc1(h), self.fc2(h)


def create_model(ema=False):
    model = ConvLarge()
    if ema:
        for param in model.parameters():
            param.detach_()
    return model


def update_ema_variables(model, ema_model, alpha, global_step):
    alpha = min(1 - 1 / (global_step + 1), alpha)
    for ema_param, param in zip(ema_model.parameters(), model.parameters()):
        ema_param.data.mul_(alpha).add_(param.data, alpha=1 - alpha)


def softmax_mse_loss(input_logits, target_logits):
    input_softmax = F.softmax(input_logits, dim=1)
    target_softmax = F.softmax(target_logits, dim=1)
    return F.mse_loss(input_softmax, target_softmax, reduction="sum") / input_logits.size(1)


def train(train_loader, model, ema_model, optimizer, epoch, global_step, consistency_weight=100.0, ema_decay=0.999):
    class_criterion = nn.CrossEntropyLoss(reduction="sum", ignore_index=-1)
    model.train()
    ema_model.train()
    for i, ((input, ema_input), target) in enumerate(train_loader):
        minibatch_size = len(target)
        labeled_minibatch_size = target.ne(-1).sum()
        ema_logit, _ = ema_model(ema_input)
        class_logit, cons_logit = model(input)
        ema_logit = ema_logit.detach()
        class_loss = class_criterion(class_logit, target) / minibatch_size
        consistency_loss = consistency_weight * softmax_mse_loss(cons_logit, ema_logit) / minibatch_size
        loss = class_loss + consistency_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        global_step += 1
        update_ema_variables(model, ema_model, ema_decay, global_step)
        if i % 100 == 0:
            print(f"epoch {epoch} [{i}] class {class_loss.item():.3f} cons {consistency_loss.item():.3f} labeled {labeled_minibatch_size.item()}")
    return global_step
