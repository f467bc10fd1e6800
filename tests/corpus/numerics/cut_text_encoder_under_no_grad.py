# Source: the CLIP-guided shape of many diffusion fine-tuning scripts: the text encoder runs under
# no_grad in forward while the config asks to train it (`train_text_encoder`), and nothing freezes it.
import torch
import torch.nn as nn


class Conditioner(nn.Module):
    def __init__(self, vocab=32, width=16):
        super().__init__()
        self.text_encoder = nn.Sequential(nn.Embedding(vocab, width), nn.Linear(width, width))
        self.proj = nn.Linear(width, width)

    def forward(self, tokens):
        with torch.no_grad():  # expect: GL502
            text = self.text_encoder(tokens).mean(1)
        return self.proj(text)


LOST = ("text_encoder",)


def make():
    torch.manual_seed(0)
    return Conditioner(), torch.randint(0, 32, (4, 6))
