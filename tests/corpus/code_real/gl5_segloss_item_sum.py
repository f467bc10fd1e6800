"""Segmentation training step whose auxiliary-head loss is summed as a Python number (copied
from the logging code). Measured: the auxiliary head gets no gradient."""
import torch
import torch.nn as nn


def train_one_epoch(model, aux_head, loader, optimizer):
    criterion = nn.CrossEntropyLoss(ignore_index=255)
    for images, masks in loader:
        feats, logits = model(images)
        seg_loss = criterion(logits, masks)
        aux_loss = criterion(aux_head(feats), masks).item()  # expect: GL503
        total = seg_loss + 0.4 * aux_loss
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
