"""A first language model that applies softmax and then F.cross_entropy on views, in forward.
After bkitano/llama-from-scratch issue #5 (closed with the fix)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

MASTER_CONFIG = {"vocab_size": 65, "d_model": 128, "context_window": 16}


class SimpleBrokenModel(nn.Module):
    def __init__(self, config=MASTER_CONFIG):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config["vocab_size"], config["d_model"])
        self.linear = nn.Sequential(
            nn.Linear(config["d_model"], config["d_model"]),
            nn.ReLU(),
            nn.Linear(config["d_model"], config["vocab_size"]),
        )

    def forward(self, idx, targets=None):
        x = self.embedding(idx)
        a = self.linear(x)
        logits = F.softmax(a, dim=-1)
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, self.config["vocab_size"]), targets.view(-1))  # expect: GL401
            return logits, loss
        return logits
