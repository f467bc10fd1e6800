# Near-miss: facebookresearch/moco moco/builder.py: the key encoder is a momentum copy of the query
# encoder, written under no_grad by _momentum_update_key_encoder and run under no_grad in forward.
import torch
import torch.nn as nn


class MoCo(nn.Module):
    def __init__(self, dim=8, m=0.999):
        super().__init__()
        self.m = m
        self.encoder_q = nn.Linear(16, dim)
        self.encoder_k = nn.Linear(16, dim)
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data.copy_(param_q.data)
            param_k.requires_grad = False

    @torch.no_grad()
    def _momentum_update_key_encoder(self):
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data = param_k.data * self.m + param_q.data * (1.0 - self.m)

    def forward(self, im_q, im_k):
        q = nn.functional.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self._momentum_update_key_encoder()
            k = nn.functional.normalize(self.encoder_k(im_k), dim=1)
        return (q * k).sum(1)


NOT_TRAINED = ("encoder_k",)


def make():
    torch.manual_seed(0)
    return MoCo(), (torch.randn(4, 16), torch.randn(4, 16))
