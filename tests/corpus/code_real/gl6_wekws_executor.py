"""Keyword-spotting executor: backward, clipping and step, never a zero_grad.
After wenet-e2e/wekws PR #73 ("add optimizer.zero_grad() in kws/utils/executor.py", merged;
fixes issue #72)."""
import torch
from torch.nn.utils import clip_grad_norm_


class Executor:
    def __init__(self):
        self.step = 0

    def train(self, model, optimizer, data_loader, device, writer, args):
        model.train()
        clip = args.get("grad_clip", 50.0)
        for batch_idx, batch in enumerate(data_loader):
            key, feats, target, feats_lengths = batch
            logits = model(feats.to(device))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target.to(device))
            loss.backward()
            grad_norm = clip_grad_norm_(model.parameters(), clip)
            if torch.isfinite(grad_norm):
                optimizer.step()  # expect: GL601
            self.step += 1
