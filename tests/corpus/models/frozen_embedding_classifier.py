# expect-model: none
import torch
import torch.nn as nn


class FrozenEmbeddingGRU(nn.Module):
    """Pretrained word vectors are loaded into the embedding and kept frozen."""

    def __init__(self, vocab_size=300, embed_dim=50, hidden=64, n_classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.embedding.weight.requires_grad = False
        self.encoder = nn.GRU(embed_dim, hidden, num_layers=1, batch_first=True)
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(hidden, n_classes))

    def forward(self, tokens):
        _, h_n = self.encoder(self.embedding(tokens))
        return self.classifier(h_n.squeeze(0))


def build():
    return FrozenEmbeddingGRU(), torch.randint(0, 300, (32, 20))
