"""Statements: blocks, branches, loops and assignment targets."""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint.frontends.python.shared import Abort, Frame, InterpPart, _Break, _Continue, _Return
from gradlint.frontends.python.values import UNKNOWN, FuncVal, ParamRef, Pieces, Site, Tensor
from gradlint.ir import Init
from gradlint.names import dotted, from_module

_AUGOPS = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power, cst.BitOrAssign: cst.BitOr, cst.BitAndAssign: cst.BitAnd,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply,
}


class Statements(InterpPart):
    """The statements part of ``Interpreter``: ``self`` is all of it (see ``shared.py``)."""

    # -- statements -----------------------------------------------------------------------

    def exec_block(self, block: cst.BaseSuite, frame: Frame) -> None:
        if type(block) is cst.SimpleStatementSuite:
            for small in block.body:
                self.exec_small(small, frame)
            return
        for stmt in block.body:
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, stmt: cst.CSTNode, frame: Frame) -> None:
        self.tick()
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                self.exec_small(small, frame)
        elif type(stmt) is cst.If:
            self.exec_if(stmt, frame)
        elif type(stmt) is cst.For:
            self.exec_for(stmt, frame)
        elif type(stmt) is cst.While:
            self.exec_while(stmt, frame)
        elif type(stmt) is cst.With:
            for item in stmt.items:
                value = self.eval(item.item, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, value, frame)
            self.exec_block(stmt.body, frame)
        elif type(stmt) is cst.Try:
            self.exec_block(stmt.body, frame)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body, frame)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body, frame)
        elif type(stmt) is cst.FunctionDef:
            func = FuncVal(stmt, frame.file, frame)
            frame.locals[stmt.name.value] = func
        elif type(stmt) is cst.ClassDef:
            frame.locals[stmt.name.value] = self.make_class(frame.file, stmt)
        # anything else (match, async, ...) is skipped; what it would define stays unknown

    def exec_small(self, small: cst.BaseSmallStatement, frame: Frame) -> None:
        if type(small) is cst.Expr:
            self.eval(small.value, frame)
        elif type(small) is cst.Assign:
            spread = self._spread(small, frame)
            if spread is not None:
                for element, item in zip(small.targets[0].target.elements, spread):  # type: ignore[attr-defined]
                    self.assign(element.value, item, frame)
                return
            value = self.eval(small.value, frame)
            for target in small.targets:
                self.assign(target.target, value, frame)
        elif type(small) is cst.AnnAssign:
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, frame), frame)
        elif type(small) is cst.AugAssign:
            current = self.eval(small.target, frame)
            op = _AUGOPS.get(type(small.operator))
            value = self.eval(small.value, frame)
            result = self.binop(op, current, value, inplace=True, site=Site(frame.file, small)) if op else UNKNOWN
            if isinstance(current, ParamRef) and current.param is not None:
                # `weight *= gain / weight.norm(...)` rescales the init in place: its draw is no
                # longer the one recorded (a plain number scales it; anything else is unknown)
                current.param.init = rescaled(current.param.init, small.operator, value)
            self.assign(small.target, result, frame)
        elif type(small) is cst.Return:
            raise _Return(None if small.value is None else self.eval(small.value, frame))
        elif type(small) is cst.Break:
            raise _Break()
        elif type(small) is cst.Continue:
            raise _Continue()
        elif type(small) is cst.Raise:
            raise Abort("raise")
        elif type(small) in (cst.Import, cst.ImportFrom):
            self._local_import(small, frame)

    def _local_import(self, small: cst.Import | cst.ImportFrom, frame: Frame) -> None:
        names = small.names if type(small.names) is not cst.ImportStar else []
        for alias in names:
            local = alias.asname.name.value if alias.asname and type(alias.asname.name) is cst.Name else None
            target = alias.name
            if local is None:
                local = target.value if type(target) is cst.Name else None
                if local is None and type(small) is cst.Import:
                    continue
            if not local:
                continue
            qualified = _qualified(small, target)
            if qualified is not None:  # as this statement says, not the file's last import of the name
                frame.locals[local] = self.import_value(frame.file, qualified)
            elif local in frame.file.imports:
                frame.locals[local] = self.import_value(frame.file, frame.file.imports[local])

    def exec_if(self, stmt: cst.If, frame: Frame) -> None:
        truth = self.truth(self.eval(stmt.test, frame))
        orelse = stmt.orelse
        if truth is True:
            self.exec_block(stmt.body, frame)
        elif truth is False:
            if type(orelse) is cst.If:
                self.exec_if(orelse, frame)
            elif type(orelse) is cst.Else:
                self.exec_block(orelse.body, frame)
        else:
            self._both_branches(stmt, frame)

    def _both_branches(self, stmt: cst.If, frame: Frame) -> None:
        """An unknown condition: run both sides on copies of the locals, keep what they agree on.

        Locals that differ become UNKNOWN and spread from there. A branch that changes
        shared state (registers a layer, sets an init, appends to a list) or adds graph
        nodes cannot be merged: the model is then incomplete.
        """
        state_before = self.state()
        settings = len(self.plain_sets)
        before = dict(frame.locals)
        outcomes = []
        raised = 0
        for branch in (stmt.body, stmt.orelse):
            frame.locals = dict(before)
            returned = None
            state = self.state()
            try:
                if type(branch) is cst.If:
                    self.exec_if(branch, frame)
                elif type(branch) is cst.Else:
                    self.exec_block(branch.body, frame)
                elif branch is not None:
                    self.exec_block(branch, frame)
            except _Return as ret:
                returned = ret
            except (_Break, _Continue):
                self.unknown("a break or continue under a condition that cannot be decided")
            except Abort as exc:
                # a guard (``if x.ndim != 3: raise ValueError(...)``) is a dead end, not the end
                # of the walk: the model is what the other branch does
                if str(exc) != "raise" or self.state() != state or raised:
                    raise
                raised += 1
                continue
            outcomes.append((frame.locals, returned))
        for mod, name in self.plain_sets[settings:]:
            mod.attrs[name] = UNKNOWN  # a setting either branch may have made
        del self.plain_sets[settings:]
        relayouts = self._relayouts_only(state_before)
        if self.state() != state_before and relayouts is None:
            self.unknown("a condition that cannot be decided changes the model")
        live = [locs for locs, ret in outcomes if ret is None]
        if not live:
            if len(outcomes) == 1:
                raise outcomes[0][1]  # type: ignore[misc]
            first, second = outcomes[0][1].value, outcomes[1][1].value  # type: ignore[union-attr]
            raise _Return(_agreed(first, second, relayouts))
        if len(live) != len(outcomes):
            if frame.func is not None and self.state() == state_before:
                # ``for arg in args: if exists(arg): return arg``: the call's value is unknown;
                # the rest of the function may go on only as long as it changes nothing
                returned = next(ret.value for _, ret in outcomes if ret is not None)  # type: ignore[union-attr]
                value = returned if frame.diverged is None or frame.diverged[0] is returned else UNKNOWN
                frame.diverged = (value, state_before)
            else:
                self.unknown("a return under a condition that cannot be decided")
        merged = dict(live[0])
        for other in live[1:]:
            for key in set(merged) | set(other):
                merged[key] = _agreed(merged.get(key, UNKNOWN), other.get(key, UNKNOWN), relayouts)
        frame.locals = merged

    def _relayouts_only(self, before: tuple[int, int]) -> dict[int, int] | None:
        """When the branches of a condition nothing decides added only einops re-layouts to the
        graph (``if kv_heads == 1: k = rearrange(k, 'b 1 n d -> b n d')``), each added node's
        source: the gain model is the same on either side. None when anything else changed."""
        if self.graph is None or self.mutations != before[0]:
            return None
        nodes = self.graph.graph.nodes
        added = nodes[before[1]:]
        if not all(n.op == "identity" and n.attrs.get("einops") and len(n.inputs) == 1 for n in added):
            return None
        return {n.id: n.inputs[0] for n in added}

    def state(self) -> tuple[int, int]:
        """How much shared state has changed so far: mutations, and graph nodes in forward."""
        return self.mutations, len(self.graph.graph.nodes) if self.graph is not None else 0

    def exec_for(self, stmt: cst.For, frame: Frame) -> None:
        items = self.iterate(self.eval(stmt.iter, frame))
        if items is None:
            self.unknown("a loop over values that cannot be known")
            return
        broke = False
        for item in items:
            self.loop_tick()
            self.assign(stmt.target, item, frame)
            try:
                self.exec_block(stmt.body, frame)
            except _Break:
                broke = True
                break
            except _Continue:
                continue
        if not broke and stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, frame)

    def exec_while(self, stmt: cst.While, frame: Frame) -> None:
        while True:
            self.loop_tick()
            truth = self.truth(self.eval(stmt.test, frame))
            if truth is not True:
                if truth is not False and not self._reshapes_only(stmt, frame):
                    self.unknown("a while loop whose condition cannot be decided")
                break
            try:
                self.exec_block(stmt.body, frame)
            except _Break:
                return
            except _Continue:
                continue
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, frame)

    def _reshapes_only(self, stmt: cst.While, frame: Frame) -> bool:
        """In forward, ``while emb.ndim < h.ndim: emb = emb[..., None]``: a loop whose body
        only reshapes tensors leaves every gradient path as it was, however often it runs.
        The body is run once; it holds when it added no node, set no attribute and left every
        name it rebound on the tensor it held (or its node)."""
        if self.graph is None:
            return False
        before = dict(frame.locals)
        graph = self.graph.graph
        nodes, mutations, reasons, complete = len(graph.nodes), self.mutations, len(self.reasons), graph.complete
        try:
            self.exec_block(stmt.body, frame)
        except (_Break, _Continue):
            pass
        changed = {k: v for k, v in frame.locals.items() if k not in before or before[k] is not v}
        held = (len(graph.nodes) == nodes and graph.complete == complete and self.mutations == mutations and len(self.reasons) == reasons
                and all(isinstance(v, Tensor) and isinstance(before.get(k), Tensor) and v.node == before[k].node
                        for k, v in changed.items()))
        if not held:
            frame.locals.clear()
            frame.locals.update(before)
        return held

    def _spread(self, small: cst.Assign, frame: Frame) -> list | None:
        """``b, n, _, h = *x.shape, self.heads`` where the starred part's length is unknown:
        for the assignment to run it fills the targets the other items leave, so the items
        before it are the first targets and those after it the last; the values, one per
        target, or None when the statement is not of that form (it is then evaluated whole)."""
        target, value = small.targets[0].target, small.value
        if len(small.targets) != 1 or type(target) not in (cst.Tuple, cst.List):
            return None
        if type(value) not in (cst.Tuple, cst.List):
            return None
        starred = [i for i, e in enumerate(value.elements) if type(e) is cst.StarredElement]
        count = len(target.elements)
        if len(starred) != 1 or len(value.elements) - 1 > count:
            return None
        if any(type(e) is cst.StarredElement for e in target.elements):
            return None
        items: list = []
        for i, element in enumerate(value.elements):
            item = self.eval(element.value, frame)
            if i != starred[0]:
                items.append(item)
                continue
            more = self.iterate(item)
            items.extend([UNKNOWN] * (count - len(value.elements) + 1) if more is None else more)
        return items if len(items) == count else [UNKNOWN] * count

    def assign(self, target: cst.BaseExpression, value: Any, frame: Frame) -> None:
        if type(target) is cst.Name:
            frame.locals[target.value] = value
        elif type(target) is cst.Attribute:
            obj = self.eval(target.value, frame)
            self.setattr(obj, target.attr.value, value)
        elif type(target) is cst.Subscript:
            obj = self.eval(target.value, frame)
            if len(target.slice) == 1 and type(target.slice[0].slice) is cst.Index:
                key = self.eval(target.slice[0].slice.value, frame)
                self.setitem(obj, key, value)
        elif type(target) in (cst.Tuple, cst.List):
            elements = target.elements
            starred = [i for i, e in enumerate(elements) if type(e) is cst.StarredElement]
            if isinstance(value, Tensor) and self.graph is not None and not starred:
                # ``q, k, v = rearrange(qkv, 'b (qkv h d) n -> qkv b h d n', qkv=3)``: a tensor of
                # forward unpacked along its first axis, into equal pieces
                value = Pieces(value)
            items = _pieces(value, len(elements)) if isinstance(value, Pieces) else self.iterate(value)
            if items is None or (not starred and len(items) != len(elements)):
                for element in elements:
                    self.assign(element.value, UNKNOWN, frame)
                return
            if starred:
                s = starred[0]
                tail = len(elements) - s - 1
                head, middle, end = items[:s], items[s:len(items) - tail], items[len(items) - tail:]
                items = [*head, list(middle), *end]
            for element, item in zip(elements, items):
                self.assign(element.value, item, frame)
        elif type(target) is cst.StarredElement:
            self.assign(target.value, value, frame)


def _agreed(first: Any, second: Any, relayouts: dict[int, int] | None) -> Any:
    """What two branches agree a name holds: the same value, or a tensor and a re-layout of it
    the branches made (``relayouts``), taken as the tensor; else UNKNOWN."""
    if first is second:
        return first
    if relayouts and isinstance(first, Tensor) and isinstance(second, Tensor):
        def source(t: Tensor) -> Any:
            node = t.node
            while node in relayouts:
                node = relayouts[node]
            return node
        if source(first) == source(second) and first.piece == second.piece:
            return next((t for t in (first, second) if t.node not in relayouts), Tensor(source(first)))
    return UNKNOWN


def rescaled(init: Init | None, operator: cst.BaseAugOp, value: Any) -> Init:
    """The init of a parameter after ``param *= value`` (or ``/=``) in place."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0
    if init is None or init.variance is None or not number:
        return Init("unknown")
    if type(operator) is cst.MultiplyAssign:
        factor = float(value)
    elif type(operator) is cst.DivideAssign:
        factor = 1.0 / float(value)
    else:
        return Init("unknown")
    mean = init.mean * factor if init.mean is not None else None
    constant = init.constant * factor if init.constant is not None else None
    return Init(init.kind, init.variance * factor * factor, mean, constant, init.location, init.detail)


def _qualified(small: cst.Import | cst.ImportFrom, target: cst.BaseExpression) -> str | None:
    """The dotted name an import statement binds: ``from .a import b`` -> ``.a.b``."""
    name = dotted(target)
    if name is None:
        return None
    if type(small) is cst.Import:
        return name
    if small.module is not None and dotted(small.module) is None:
        return None
    module = from_module(small)
    return f"{module}{name}" if module.endswith(".") or not module else f"{module}.{name}"


def _pieces(value: Pieces, count: int) -> list:
    """``q, k, v = qkv.split(dim, dim=-1)``: each name holds one of ``count`` equal pieces."""
    tensor = value.tensor
    if tensor.node is None:
        return [tensor] * count
    return [Tensor(tensor.node, piece=(i, count)) for i in range(count)]
