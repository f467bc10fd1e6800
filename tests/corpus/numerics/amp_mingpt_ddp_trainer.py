# Source: pytorch/examples distributed/minGPT-ddp/mingpt/trainer.py at c67bbaba (issue #1196
# "add scaler.unscale_(optimizer) before clip_grad_norm_"). The clip follows the scaled backward.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, optimizer, grad_norm_clip=1.0, use_amp=True):
        self.model = model
        self.optimizer = optimizer
        self.grad_norm_clip = grad_norm_clip
        self.use_amp = use_amp
        if use_amp:
            self.scaler = torch.cuda.amp.GradScaler()

    def _run_batch(self, source, targets, train=True):
        with torch.set_grad_enabled(train), torch.amp.autocast(device_type="cuda", dtype=torch.float16, enabled=self.use_amp):
            _, loss = self.model(source, targets)

        if train:
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_norm_clip)  # expect: GL801
            self.scaler.step(self.optimizer)
            self.scaler.update()
        return loss.item()

    def _run_epoch(self, batches):
        for source, targets in batches:
            self._run_batch(source, targets)


class TinyGPT(nn.Module):
    def __init__(self, vocab=16, width=8):
        super().__init__()
        self.emb = nn.Embedding(vocab, width)
        self.head = nn.Linear(width, vocab)

    def forward(self, idx, targets):
        logits = self.head(self.emb(idx))
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def make():
    torch.manual_seed(0)
    model = TinyGPT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    batches = [(torch.randint(0, 16, (2, 8)), torch.randint(0, 16, (2, 8))) for _ in range(2)]
    return model, batches, optimizer


def train(model, batches, optimizer):
    Trainer(model, optimizer)._run_epoch(batches)
