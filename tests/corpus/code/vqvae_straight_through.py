import torch
import torch.nn as nn
import torch.nn.functional as F


class VectorQuantizer(nn.Module):
    def __init__(self, num_embeddings=512, embedding_dim=64, commitment_cost=0.25):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.num_embeddings = num_embeddings
        self.embedding = nn.Embedding(num_embeddings, embedding_dim)
        self.embedding.weight.data.uniform_(-1 / num_embeddings, 1 / num_embeddings)
        self.commitment_cost = commitment_cost

    def forward(self, inputs):
        inputs = inputs.permute(0, 2, 3, 1).contiguous()
        input_shape = inputs.shape
        flat_input = inputs.view(-1, self.embedding_dim)
        distances = (torch.sum(flat_input ** 2, dim=1, keepdim=True)
                     + torch.sum(self.embedding.weight ** 2, dim=1)
                     - 2 * torch.matmul(flat_input, self.embedding.weight.t()))
        encoding_indices = torch.argmin(distances, dim=1).unsqueeze(1)
        encodings = torch.zeros(encoding_indices.shape[0], self.num_embeddings, device=inputs.device)
        encodings.scatter_(1, encoding_indices, 1)
        quantized = torch.matmul(encodings, self.embedding.weight).view(input_shape)
        e_latent_loss = F.mse_loss(quantized.detach(), inputs)
        q_latent_loss = F.mse_loss(quantized, inputs.detach())
        loss = q_latent_loss + self.commitment_cost * e_latent_loss
        quantized = inputs + (quantized - inputs).detach()
        avg_probs = torch.mean(encodings, dim=0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, encodings


class VQVAE(nn.Module):
    def __init__(self, hidden=64, num_embeddings=128):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, hidden, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 4, 2, 1), nn.ReLU(),
        )
        self.pre_vq = nn.Conv2d(hidden, 64, 1)
        self.vq = VectorQuantizer(num_embeddings, 64)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(64, hidden, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(hidden, 3, 4, 2, 1),
        )

    def forward(self, x):
        z = self.pre_vq(self.encoder(x))
        vq_loss, quantized, perplexity, _ = self.vq(z)
        x_recon = self.decoder(quantized)
        return x_recon, vq_loss, perplexity


def build():
    return VQVAE(hidden=16, num_embeddings=32), (torch.randn(2, 3, 16, 16),)


def train(model, loader, steps=10000, lr=2e-4, data_variance=0.06):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, amsgrad=False)
    model.train()
    it = iter(loader)
    for step in range(steps):
        try:
            data, _ = next(it)
        except StopIteration:
            it = iter(loader)
            data, _ = next(it)
        optimizer.zero_grad()
        recon, vq_loss, perplexity = model(data)
        recon_error = F.mse_loss(recon, data) / data_variance
        loss = recon_error + vq_loss
        loss.backward()
        optimizer.step()
        if (step + 1) % 100 == 0:
            print(f"{step + 1}: recon {recon_error.item():.3f} perplexity {perplexity.item():.1f}")
