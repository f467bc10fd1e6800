"""GL7xx: parameters that never train, because the optimiser never sees them.

``model.parameters()`` lists what is registered on the module tree: submodules assigned as
attributes (or held by ModuleList/ModuleDict/Sequential) and ``nn.Parameter`` attributes.
Anything else may even receive a gradient, but no optimiser built from the model steps it.
The analyses (``codefacts.registration``, ``codefacts.plain_tensors``) return causes; each
rule here words its finding.
"""

from __future__ import annotations

from collections.abc import Iterable

from gradlint.codefacts.words import NEEDS_FORWARD
from gradlint.diagnostics import Finding
from gradlint.rule import SourceRule
from gradlint.textmatch import NEVER, AllOf, Pattern, Words

_WRAPPER = {"list": "nn.ModuleList", "tuple": "nn.ModuleList", "dict": "nn.ModuleDict"}


class ModuleInPlainList(SourceRule):
    code = "GL701"
    fix = "registration"
    fix_safety = "unsafe"
    name = "module-in-plain-list"
    summary = "Submodules kept in a plain list, tuple or dict are not in model.parameters()"
    severity = "error"
    needs = NEEDS_FORWARD
    # a helper that returns the list is named by the class, and kept for that reason: no
    # other top-level statement is read
    reads = NEVER

    def check_source(self, source) -> Iterable[Finding]:
        from gradlint.codefacts.registration import plain_containers

        for found in plain_containers(source):
            held = found.held
            kinds = ", ".join(held.types)
            many = f"{held.count} " if held.count else ""
            params = f", {held.params:,} parameters" if held.params else ""
            yield self.finding(
                f"self.{found.attr} is a plain {held.kind} of {many}{kinds} module(s){params}: "
                f"{found.cls}.parameters() never sees them, so the optimiser never updates them "
                f"(they keep their initial weights); use {_WRAPPER[held.kind]}",
                source.location(found.node),
                parameters=[f"self.{found.attr}"],
                parameter_count=held.params,
            )


class TensorAttributeNotParameter(SourceRule):
    code = "GL702"
    fix = "registration"
    fix_safety = "unsafe"
    name = "tensor-attribute-not-parameter"
    summary = "A learnable tensor stored as a plain attribute, not an nn.Parameter"
    severity = "error"
    needs = AllOf(NEEDS_FORWARD, Words("torch", "Variable"))
    reads = NEVER  # the module's own methods only, kept with their class

    def check_source(self, source) -> Iterable[Finding]:
        from gradlint.codefacts.plain_tensors import plain_weights

        for found in plain_weights(source):
            why = {
                "requires_grad": "it asks for a gradient (requires_grad=True)",
                "init": "it is initialised with nn.init like a weight",
                "weight": "forward uses it as a weight",
            }[found.reason]
            used = source.location(found.use).line if found.use is not None else None
            where = f" (line {used})" if used else ""
            yield self.finding(
                f"self.{found.attr} = {found.spelling}(...) is a plain tensor, not an nn.Parameter: "
                f"{why}{where}, but {found.cls}.parameters() does not list it, so the optimiser "
                "never updates it; wrap it in nn.Parameter (register_buffer if it is constant)",
                source.location(found.node),
                parameters=[f"self.{found.attr}"],
            )


class ParameterCreatedInForward(SourceRule):
    code = "GL703"
    name = "parameter-created-in-forward"
    summary = "An nn.Parameter or a layer constructed in forward starts untrained on every call"
    severity = "error"
    needs = AllOf(NEEDS_FORWARD, Words("nn", "Parameter", "Variable", "requires_grad"))
    reads = NEVER  # forward and the methods it calls, kept with their class

    def check_source(self, source) -> Iterable[Finding]:
        from gradlint.codefacts.plain_tensors import built_in_forward

        for found in built_in_forward(source):
            where = "forward" if found.method == "forward" else f"{found.method} (called by forward)"
            yield self.finding(
                f"{found.what} is constructed in {found.cls}.{where}: every call makes a new, "
                "untrained tensor that no optimiser built before it holds, so what it learns is "
                "thrown away each step; build it once in __init__ (or cache it on first use)",
                source.location(found.node),
            )


class OptimizerMissesParameters(SourceRule):
    code = "GL704"
    name = "optimizer-misses-parameters"
    summary = "Parts of the model get a gradient from the loss an optimiser steps, but no step"
    severity = "error"
    # the optimiser is built and stepped in the checked file: torch.optim names it, and the
    # step pairs it with the losses it applies
    needs = AllOf(Words("optim"), Pattern(r"\.step\s*\("), Pattern(r"backward\s*\("))
    # functions that step, and those that freeze or show an attribute is a module (classes,
    # whose forward expands ``model(x)``, are always kept)
    reads = Words("step", "requires_grad", "parameters", "modules", "children", "state_dict",
                  "zero_grad")

    def check_source(self, source) -> Iterable[Finding]:
        from gradlint.codefacts.optimiser_cover import missed_parts

        for found in missed_parts(source):
            parts = ", ".join(found.missed)
            held = ", ".join(found.holds)
            losses = ", ".join(dict.fromkeys(found.losses))
            yield self.finding(
                f"{found.optimiser} holds only {held}, but {losses} also sends gradient to "
                f"{parts}, which no optimiser stepped on it holds and nothing freezes: "
                "backward fills their .grad every step and nothing applies it, so they keep "
                "their initial weights; add them to a parameter group (or freeze them)",
                source.location(found.node),
                parameters=found.missed,
            )
