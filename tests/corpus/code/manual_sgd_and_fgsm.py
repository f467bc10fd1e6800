import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.fc = nn.Linear(9216, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def sgd_step(model, lr, momentum_buf, mu=0.9):
    with torch.no_grad():
        for p, buf in zip(model.parameters(), momentum_buf):
            if p.grad is None:
                continue
            buf.mul_(mu).add_(p.grad)
            p.add_(buf, alpha=-lr)


def plain_sgd(model, lr):
    for p in model.parameters():
        p.data -= lr * p.grad.data
        p.grad = None


def fgsm_attack(model, images, labels, eps=0.03):
    images = images.clone().requires_grad_(True)
    loss = F.cross_entropy(model(images), labels)
    model.zero_grad()
    loss.backward()
    adv = images + eps * images.grad.sign()
    return adv.clamp(0, 1).detach()


def pgd(model, images, labels, eps=0.03, alpha=0.007, steps=10):
    delta = torch.zeros_like(images, requires_grad=True)
    for _ in range(steps):
        loss = F.cross_entropy(model(images + delta), labels)
        loss.backward()
        delta.data = delta.data + alpha * delta.grad.sign()
        delta.data = delta.data.clamp(-eps, eps)
        delta.grad.zero_()
    return (images + delta).detach()


def adversarial_training(model, loader, epochs=5, lr=0.01):
    bufs = [torch.zeros_like(p) for p in model.parameters()]
    for epoch in range(epochs):
        for images, labels in loader:
            adv = pgd(model, images, labels)
            model.zero_grad()
            loss = F.cross_entropy(model(adv), labels)
            loss.backward()
            sgd_step(model, lr, bufs)
