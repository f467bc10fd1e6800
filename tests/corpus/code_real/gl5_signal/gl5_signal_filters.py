"""Signal helpers of the project, in their own file: a Savitzky-Golay smoothing done in numpy
and wrapped back with torch.tensor (a numpy round trip through third-party code)."""
import numpy as np
import torch
from scipy.signal import savgol_filter


def smooth(x, window=11, order=3):
    arr = x.detach().cpu().numpy()
    arr = savgol_filter(arr, window, order, axis=-1)
    return torch.tensor(arr, dtype=x.dtype, device=x.device)


def rescale(x, factor=0.5):
    return x * factor
