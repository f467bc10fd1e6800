import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ContrastiveHead(nn.Module):
    """CLIP-style head with a learnable logit scale."""

    def __init__(self, img_dim=512, txt_dim=384, embed_dim=256, init_scale=1 / 0.07):
        super().__init__()
        self.img_proj = nn.Linear(img_dim, embed_dim, bias=False)
        self.txt_proj = nn.Linear(txt_dim, embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(init_scale))

    def forward(self, img_feats, txt_feats):
        img = F.normalize(self.img_proj(img_feats), dim=-1)
        txt = F.normalize(self.txt_proj(txt_feats), dim=-1)
        if img.abs().max().item() > 1e4:
            raise FloatingPointError("image embedding overflow")
        scale = self.logit_scale.exp().clamp(max=100).item()  # expect: GL503
        logits_per_image = scale * img @ txt.t()
        return logits_per_image, logits_per_image.t()


def build():
    return ContrastiveHead(img_dim=16, txt_dim=12, embed_dim=8), (torch.randn(4, 16), torch.randn(4, 12))


def clip_loss(logits_per_image, logits_per_text):
    labels = torch.arange(logits_per_image.size(0), device=logits_per_image.device)
    return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2


def train_step(head, batch, optimizer):
    img_feats, txt_feats = batch
    optimizer.zero_grad()
    loss = clip_loss(*head(img_feats, txt_feats))
    loss.backward()
    optimizer.step()
    return loss.item()
