"""Engine helpers of a project, in their own file: clip and step through a GradScaler."""
import torch


def optimizer_step(optimizer, scaler, model, max_norm=1.0):
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
