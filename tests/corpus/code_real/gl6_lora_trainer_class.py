"""LoRA fine-tuning trainer class whose step never clears gradients.
After tenstorrent/tt-blacksmith PR #711 ("we forgot to do zero_grad on optimizer after each
optimizer step", merged)."""
import torch


class Trainer:
    def __init__(self, model, train_loader, lr=1e-4, epochs=1, zero_grad=False):
        self.model = model
        self.train_loader = train_loader
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        self.epochs = epochs

    def train_step(self, batch):
        outputs = self.model(**batch)
        loss = outputs.loss
        loss.backward()
        return loss

    def fit(self):
        for epoch in range(self.epochs):
            for batch in self.train_loader:
                loss = self.train_step(batch)
                self.optimizer.step()  # expect: GL601
