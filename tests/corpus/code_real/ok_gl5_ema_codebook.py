"""Near-miss: a VQ-VAE quantiser with an EMA codebook written back in forward under
self.training, and the straight-through estimator (as in zalandoresearch/pytorch-vq-vae and
rosinality/vq-vae-2-pytorch): the codebook is trained outside autograd on purpose."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class VectorQuantizerEMA(nn.Module):
    def __init__(self, num_embeddings=16, embedding_dim=8, commitment_cost=0.25, decay=0.99, epsilon=1e-5):
        super().__init__()
        self._embedding = nn.Embedding(num_embeddings, embedding_dim)
        self._embedding.weight.data.normal_()
        self.register_buffer("_ema_cluster_size", torch.zeros(num_embeddings))
        self._ema_w = nn.Parameter(torch.Tensor(num_embeddings, embedding_dim))
        self._ema_w.data.normal_()
        self._decay, self._epsilon = decay, epsilon
        self._commitment_cost = commitment_cost
        self._num_embeddings, self._embedding_dim = num_embeddings, embedding_dim

    def forward(self, inputs):
        flat_input = inputs.view(-1, self._embedding_dim)
        distances = (flat_input.pow(2).sum(1, keepdim=True) + self._embedding.weight.pow(2).sum(1)
                     - 2 * flat_input @ self._embedding.weight.t())
        encoding_indices = torch.argmin(distances, dim=1).unsqueeze(1)
        encodings = torch.zeros(encoding_indices.shape[0], self._num_embeddings)
        encodings.scatter_(1, encoding_indices, 1)
        quantized = torch.matmul(encodings, self._embedding.weight).view(inputs.shape)
        if self.training:
            self._ema_cluster_size = self._ema_cluster_size * self._decay + (1 - self._decay) * encodings.sum(0)
            dw = torch.matmul(encodings.t(), flat_input)
            self._ema_w = nn.Parameter(self._ema_w * self._decay + (1 - self._decay) * dw)
            self._embedding.weight = nn.Parameter(self._ema_w / (self._ema_cluster_size.unsqueeze(1) + self._epsilon))
        e_latent_loss = F.mse_loss(quantized.detach(), inputs)
        loss = self._commitment_cost * e_latent_loss
        quantized = inputs + (quantized - inputs).detach()
        return loss, quantized


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(12, 8)
        self.vq = VectorQuantizerEMA()
        self.decoder = nn.Linear(8, 12)

    def forward(self, x):
        loss, q = self.vq(self.encoder(x))
        return loss, self.decoder(q)


def build():
    return Model(), (torch.randn(4, 12),)
