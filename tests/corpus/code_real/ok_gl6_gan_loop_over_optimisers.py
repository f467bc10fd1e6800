"""Near-miss: both optimisers cleared by a loop over them before the two backward passes."""
import torch


def train(gen, disc, loader, opt_g, opt_d, loss_fn):
    for real in loader:
        for opt in (opt_g, opt_d):
            opt.zero_grad()
        fake = gen(torch.randn(real.size(0), 64))
        d_loss = loss_fn(disc(real), disc(fake.detach()))
        d_loss.backward()
        opt_d.step()
        g_loss = -disc(fake).mean()
        g_loss.backward()
        opt_g.step()
