"""The tree a function body becomes for the training-loop analyses: events (a backward, a
step, a clip, ...) in program order, the branches of conditions and the loops, and the
questions asked of such a tree."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import libcst as cst

MAX_PATHS = 256


@dataclass
class Event:
    kind: str
    node: cst.CSTNode
    target: str | None = None  # the optimizer a step or zero_grad acts on, when known
    mode: str = ""  # SCALED or MANAGED for a backward; SCALED for a scaler's step


@dataclass
class Branch:
    arms: list[list]
    test: cst.BaseExpression | None = None


@dataclass
class Loop:
    node: cst.CSTNode
    body: list


def changed(items: list, change) -> list:
    """``items`` with each event replaced by ``change(event)``, or left out where it gives None."""
    out: list = []
    for item in items:
        if isinstance(item, Event):
            new = change(item)
            if new is not None:
                out.append(new)
        elif isinstance(item, Branch):
            out.append(Branch([changed(arm, change) for arm in item.arms], item.test))
        else:
            out.append(Loop(item.node, changed(item.body, change)))
    return out


def flatten(items: list, into_loops: bool = True) -> list[Event]:
    """Every event of ``items`` in order, those of nested loops too unless ``into_loops`` is off."""
    out: list[Event] = []
    for item in items:
        if isinstance(item, Event):
            out.append(item)
        elif isinstance(item, Branch):
            for arm in item.arms:
                out.extend(flatten(arm, into_loops))
        elif into_loops:
            out.extend(flatten(item.body))
    return out


def paths(items: list) -> list[list[Event]]:
    """Straight-line event sequences of one pass over ``items``; nested loops run once."""
    result: list[list[Event]] = [[]]
    for item in items:
        if isinstance(item, Event):
            alternatives = [[item]]
        elif isinstance(item, Branch):
            alternatives = [p for arm in item.arms for p in paths(arm)]
        else:
            alternatives = paths(item.body)
        result = [a + b for a, b in product(result, alternatives)][:MAX_PATHS]
    return result


def loops(items: list) -> list[Loop]:
    found: list[Loop] = []
    for item in items:
        if isinstance(item, Loop):
            found.append(item)
            found.extend(loops(item.body))
        elif isinstance(item, Branch):
            for arm in item.arms:
                found.extend(loops(arm))
    return found


def direct_events(items: list) -> list[Event]:
    """Events of one iteration that are not inside a nested loop."""
    return flatten(items, into_loops=False)
