"""VAE training with gradient accumulation whose zero_grad runs every micro-batch, the step
every few. After gaozhihan/PreDiff PR #33 ("Fix: gradient accumulation in VAE training. Correct
the timing of calling opt.zero_grad()", merged, labelled bug)."""
import torch


class VAETrainer:
    def __init__(self, vae, lr=1e-4, accumulate_grad_batches=8):
        self.vae = vae
        self.opt = torch.optim.Adam(vae.parameters(), lr=lr)
        self.accumulate_grad_batches = accumulate_grad_batches

    def train_epoch(self, loader):
        for batch_idx, x in enumerate(loader):
            self.opt.zero_grad()  # expect: GL602
            rec, posterior = self.vae(x)
            loss = torch.nn.functional.mse_loss(rec, x) + 1e-6 * posterior.kl().mean()
            (loss / self.accumulate_grad_batches).backward()
            if (batch_idx + 1) % self.accumulate_grad_batches == 0:
                self.opt.step()
