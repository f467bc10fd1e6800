"""Mixed precision in the training loop: clipping of scaled gradients, float16 without loss
scaling, and a gradient scaler used out of its protocol.

Reads the event trees of ``loop_order.event_units`` (the one statement walker of the training
loop); returns causes (an ``AmpKind``), never messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.event_tree import Event, flatten, loops
from gradlint.codefacts.events import (
    AUTOCAST,
    BACKWARD,
    CLIP,
    HALF,
    INFERENCE_NAME,
    MANAGED,
    SCALED,
    STEP,
    UNSCALE,
    UPDATE,
    ZERO,
)
from gradlint.codefacts.kinds import AmpKind
from gradlint.codefacts.loop_order import event_units
from gradlint.codefacts.syntax import cached_fact, imports_of, keyword, method_call, positional
from gradlint.names import ImportMap, canonical_torch, dotted
from gradlint.source import SourceFile

# loss scaling written by hand, or by apex and DeepSpeed's fp16 optimisers
HAND_SCALING = re.compile(r"loss_scale|scale_loss|FP16_Optimizer|LossScaler|master_params")


@dataclass
class AmpCause:
    kind: AmpKind
    node: cst.CSTNode
    related: cst.CSTNode | None = None
    scaler: str | None = None  # for a clip: the scaler as the code spells it (``self.scaler``)
    optimizer: str | None = None  # for a clip: the optimizer the scaler steps next


def amp_causes(source: SourceFile) -> list[AmpCause]:
    """Each kind once per call, in the order of the lines."""

    def compute() -> list[AmpCause]:
        causes: dict[tuple[AmpKind, int], AmpCause] = {}

        def add(kind: AmpKind, node: cst.CSTNode, related: cst.CSTNode | None = None, **names) -> None:
            causes.setdefault((kind, id(node)), AmpCause(kind, node, related, **names))

        imports = imports_of(source)
        units = event_units(source)
        every: list[Event] = []
        for tree, name, _ in units:
            for body in [loop.body for loop in loops(tree)] + [tree]:
                _scaled_clips(flatten(body), add)
            events = flatten(tree)
            every.extend(e for e in events if e.kind != HALF or not INFERENCE_NAME.search(name))
            _float16(events, AUTOCAST, imports, source, add)
        # a model is cast in one method (``__init__``, ``main``) and trained in another
        _float16(every, HALF, imports, source, add)
        _missing_update(every, source, add)
        return sorted(causes.values(), key=lambda c: source.location(c.node).line or 0)

    return cached_fact(source, "amp_causes", compute)


def _backwards_before(events: list[Event], at: int) -> list[tuple[Event, bool]]:
    """The backwards of the step that ``events[at]`` belongs to (back to the previous step or
    zero_grad), each with whether an ``unscale_`` lies between it and ``events[at]``."""
    found: list[tuple[Event, bool]] = []
    unscaled = False
    for event in reversed(events[:at]):
        if event.kind in (STEP, ZERO):
            break
        if event.kind == UNSCALE:
            unscaled = True
        if event.kind == BACKWARD:
            found.append((event, unscaled))
    return found


def _scaled_clips(events: list[Event], add) -> None:
    """Events in source order, both arms of a branch included: a branch that unscales counts
    as unscaling, so that ``if amp: scaler.unscale_(opt)`` is never an infeasible path."""
    for i, event in enumerate(events):
        if event.kind == CLIP or (event.kind == STEP and event.mode != SCALED and event.target != "manual"):
            backwards = _backwards_before(events, i)
            scaled = [b for b, unscaled in backwards if b.mode == SCALED and not unscaled]
            if not scaled:
                continue
            if event.kind == CLIP:
                step = next((e for e in events[i:] if e.kind == STEP), None)
                add(
                    AmpKind.CLIP_SCALED, event.node, scaled[0].node,
                    scaler=_scaler_of(scaled[0].node),
                    optimizer=step.target if step is not None and step.mode == SCALED else None,
                )
            elif all(b.mode == SCALED for b, _ in backwards):
                add(AmpKind.STEP_SCALED, event.node, scaled[0].node)
        elif event.kind == STEP and event.mode == SCALED:
            backwards = [b for b, _ in _backwards_before(events, i)]
            if backwards and all(b.mode == "" for b in backwards):
                add(AmpKind.STEP_UNSCALED, event.node, backwards[0].node)


def _scaler_of(backward: cst.CSTNode) -> str | None:
    """``self.scaler`` for ``self.scaler.scale(loss).backward()``."""
    found = method_call(backward) if type(backward) is cst.Call else None
    inner = method_call(found[0]) if found and type(found[0]) is cst.Call else None
    return dotted(inner[0]) if inner and inner[1] == "scale" else None


def _float16(events: list[Event], kind: str, imports: ImportMap, source: SourceFile, add) -> None:
    """Float16 compute trained by a plain backward, in a unit that never scales the loss."""
    plain = next((e for e in events if e.kind == BACKWARD and e.mode == ""), None)
    if plain is None or not any(e.kind == STEP for e in events):
        return  # no step applies the gradients: a backward timed or inspected, not trained
    if any(
        e.mode in (SCALED, MANAGED) or e.kind in (UNSCALE, UPDATE) for e in events
    ):
        return
    if HAND_SCALING.search(source.text):
        return
    for event in events:
        if event.kind != kind:
            continue
        if kind == AUTOCAST and autocast_dtype(event.node, imports) == "float16":
            add(AmpKind.FLOAT16_AUTOCAST, event.node, plain.node)
        elif kind == HALF and event.target and _is_module(event.target, source.text):
            add(AmpKind.FLOAT16_MODEL, event.node, plain.node)


def _is_module(name: str, text: str) -> bool:
    """A model, not a tensor: its parameters are asked for somewhere in the file."""
    return re.search(rf"(?<![\w.]){re.escape(name)}\.(?:named_)?parameters\s*\(", text) is not None


def autocast_dtype(call: cst.Call, imports: ImportMap) -> str | None:
    """``float16`` or ``bfloat16`` for an autocast whose dtype the code fixes; None when the
    code leaves it to a value known only at run time, or disables the context."""
    enabled = keyword(call, "enabled")
    if type(enabled) is cst.Name and enabled.value == "False":
        return None
    qualified = canonical_torch(imports.qualify(call.func)) or ""
    cuda = qualified in torch_api.names("precision.cuda_autocast_contexts")
    args = positional(call)
    dtype = keyword(call, "dtype")
    if dtype is None and not cuda and len(args) >= 2:
        dtype = args[1]
    if dtype is not None:
        named = canonical_torch(imports.qualify(dtype)) or ""
        if named in torch_api.names("precision.float16"):
            return "float16"
        return "bfloat16" if named in torch_api.names("precision.bfloat16") else None
    if cuda:
        return "float16"
    device = keyword(call, "device_type") or (args[0] if args else None)
    if type(device) is cst.SimpleString:
        kind = str(device.evaluated_value).split(":")[0]
        return "float16" if kind in torch_api.names("precision.float16_devices") else "bfloat16"
    # a device known at run time: float16 whenever the script runs where it is meant to, on CUDA
    return "float16" if device is not None else None


def _missing_update(events: list[Event], source: SourceFile, add) -> None:
    """A GradScaler of the file steps, and nothing ever calls its ``update()``."""
    if "GradScaler" not in source.text or any(e.kind == UPDATE for e in events):
        return
    for event in events:
        if event.kind == STEP and event.mode == SCALED:
            add(AmpKind.NO_UPDATE, event.node)
