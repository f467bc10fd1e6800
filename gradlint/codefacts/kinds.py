"""The kinds of cause the code analyses return, and the rules claim. Plain data: a rule
module names its kinds without importing the analysis (and the parser) behind them."""

from __future__ import annotations

from enum import Enum


class CutKind(Enum):
    """What cuts a gradient path; a cut's ``spelling`` says how the source writes it."""

    DETACH = "detach"  # x.detach(), x.detach_(): the method
    DATA = "data"  # x.data
    NO_GRAD = "no_grad"  # with torch.no_grad() / inference_mode() / set_grad_enabled(False)
    TO_PYTHON = "to_python"  # x.item(), x.tolist(), x.numpy(): the method
    CAST = "cast"  # float(x), int(x), complex(x): the builtin
    REWRAP = "rewrap"  # torch.tensor(x), np.asarray(x): the callee as written


class LoopKind(Enum):
    """What is out of order; ``LoopCause.node`` is the call at fault, ``related`` the other."""

    NEVER_ZEROED = "never_zeroed"  # a step in a loop that never clears gradients; no related
    STEP_BEFORE_BACKWARD = "step_before_backward"  # related: the backward after it
    ZEROED_BEFORE_STEP = "zeroed_before_step"  # zero_grad after backward; related: the step
    # zero_grad on every micro-batch of an accumulation loop whose step runs every few;
    # related: the step
    ZEROED_EACH_MICRO_BATCH = "zeroed_each_micro_batch"
    CLIP_BEFORE_BACKWARD = "clip_before_backward"  # related: the backward after it
    CLIP_AFTER_STEP = "clip_after_step"  # related: the step before it
    # in training_step of a LightningModule that Lightning optimises: before its backward
    CLIP_BEFORE_LIGHTNING_BACKWARD = "clip_before_lightning_backward"


class AmpKind(Enum):
    """What mixed precision gets wrong; ``AmpCause.node`` is the call at fault, ``related`` the other."""

    CLIP_SCALED = "clip_scaled"  # clipping after a scaled backward, no unscale_; related: the backward
    FLOAT16_AUTOCAST = "float16_autocast"  # float16 autocast, plain backward; related: the backward
    FLOAT16_MODEL = "float16_model"  # a model cast to float16, plain backward; related: the backward
    STEP_UNSCALED = "step_unscaled"  # scaler.step after a plain backward; related: the backward
    STEP_SCALED = "step_scaled"  # optimizer.step() after a scaled backward; related: the backward
    NO_UPDATE = "no_update"  # scaler.step and never scaler.update(); no related
