"""Quick baseline on pre-extracted features: python baseline.py feats.pt"""
import sys

import torch
from torch import nn, optim

feats, labels = torch.load(sys.argv[1])
n_classes = int(labels.max()) + 1

net = nn.Sequential(
    nn.Linear(feats.shape[1], 512),
    nn.ReLU(inplace=True),
    nn.Dropout(0.3),
    nn.Linear(512, n_classes),
    nn.Softmax(dim=-1),
)
loss_fn = nn.CrossEntropyLoss()
opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

for epoch in range(50):
    perm = torch.randperm(len(feats))
    for i in range(0, len(feats), 128):
        idx = perm[i:i + 128]
        opt.zero_grad()
        loss = loss_fn(net(feats[idx]), labels[idx])  # expect: GL401
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = (net(feats).argmax(-1) == labels).float().mean()
    print(epoch, loss.item(), acc.item())
