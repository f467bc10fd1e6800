"""RL policy trainer that steps its optimiser every batch without zeroing it.
After meta-pytorch/torchforge PR #71 ("we weren't zeroing grad on optimizers after each step",
merged)."""
import torch


class RLTrainer:
    def __init__(self, model, lr=1e-5):
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)

    def train_step(self, inputs, targets, advantages):
        logits = self.model(inputs)
        logprobs = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        loss = -(logprobs * advantages).mean()
        loss.backward()
        self.optimizer.step()  # expect: GL601
        return loss.item()

    def run(self, batches):
        for inputs, targets, advantages in batches:
            self.train_step(inputs, targets, advantages)
