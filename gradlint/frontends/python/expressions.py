"""Expressions: literals, names, conditional expressions, displays and comprehensions."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import libcst as cst

from gradlint.frontends.python.shared import MAX_COLLECTION, Abort, Frame, InterpPart
from gradlint.frontends.python.values import UNKNOWN, VALUE_ERRORS, FuncVal


class Expressions(InterpPart):
    """The expressions part of ``Interpreter``: ``self`` is all of it (see ``shared.py``).

    Operators, calls, attributes and subscripts are parts of their own;
    ``Interpreter.eval`` dispatches to all of them.
    """

    # -- expressions ----------------------------------------------------------------------

    def _eval_Integer(self, node: cst.Integer, frame: Frame) -> Any:
        return _number(node.value)

    def _eval_Float(self, node: cst.Float, frame: Frame) -> Any:
        return _number(node.value)

    def _eval_Imaginary(self, node: cst.Imaginary, frame: Frame) -> Any:
        return UNKNOWN

    def _eval_SimpleString(self, node: cst.SimpleString, frame: Frame) -> Any:
        return _string(node.value)

    def _eval_ConcatenatedString(self, node: cst.ConcatenatedString, frame: Frame) -> Any:
        left, right = self.eval(node.left, frame), self.eval(node.right, frame)
        return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN

    def _eval_FormattedString(self, node: cst.FormattedString, frame: Frame) -> Any:
        parts = []
        for part in node.parts:
            if type(part) is cst.FormattedStringText:
                parts.append(part.value)
                continue
            value = self.eval(part.expression, frame)
            if not isinstance(value, (int, float, str, bool)) or part.format_spec or part.conversion:
                if part.format_spec is None and part.conversion is None and value is None:
                    parts.append("None")
                    continue
                return UNKNOWN
            parts.append(str(value))
        return "".join(parts)

    def _eval_Name(self, node: cst.Name, frame: Frame) -> Any:
        name = node.value
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        return self.lookup(frame, name)

    def _eval_IfExp(self, node: cst.IfExp, frame: Frame) -> Any:
        truth = self.truth(self.eval(node.test, frame))
        if truth is UNKNOWN:
            state = self.state()
            a, b = self.eval(node.body, frame), self.eval(node.orelse, frame)
            if self.state() != state:
                self.unknown("a conditional expression that cannot be decided changes the model")
            if a is b:
                return a
            return UNKNOWN
        return self.eval(node.body if truth else node.orelse, frame)

    def _eval_Tuple(self, node: cst.Tuple, frame: Frame) -> Any:
        items = self._elements(node.elements, frame)
        return UNKNOWN if items is None else tuple(items)

    def _eval_List(self, node: cst.List, frame: Frame) -> Any:
        items = self._elements(node.elements, frame)
        return UNKNOWN if items is None else items

    def _eval_Set(self, node: cst.Set, frame: Frame) -> Any:
        items = self._elements(node.elements, frame)
        try:
            return UNKNOWN if items is None else set(items)
        except TypeError:
            return UNKNOWN

    def _elements(self, elements, frame: Frame) -> list | None:
        items: list = []
        for element in elements:
            value = self.eval(element.value, frame)
            if type(element) is cst.StarredElement:
                more = self.iterate(value)
                if more is None:
                    return None
                items.extend(more)
            else:
                items.append(value)
            if len(items) > MAX_COLLECTION:
                raise Abort("collection size")
        return items

    def _eval_Dict(self, node: cst.Dict, frame: Frame) -> Any:
        result: dict = {}
        for element in node.elements:
            if type(element) is cst.StarredDictElement:
                value = self.eval(element.value, frame)
                if not isinstance(value, dict):
                    return UNKNOWN
                result.update(value)
                continue
            key = self.eval(element.key, frame)
            value = self.eval(element.value, frame)
            if key is UNKNOWN:
                return UNKNOWN
            try:
                result[key] = value
            except TypeError:
                return UNKNOWN
        return result

    def _comprehension(self, node: Any, frame: Frame, make: Any) -> Any:
        inner = Frame(frame.file, frame, frame.func)
        inner.locals = {}
        results: list = []

        def run(clause: cst.CompFor | None) -> bool:
            if clause is None:
                results.append(make(inner))
                if len(results) > MAX_COLLECTION:
                    raise Abort("collection size")
                return True
            items = self.iterate(self.eval(clause.iter, inner))
            if items is None:
                return False
            for item in items:
                self.loop_tick()
                self.assign(clause.target, item, inner)
                keep = True
                for condition in clause.ifs:
                    truth = self.truth(self.eval(condition.test, inner))
                    if truth is UNKNOWN:
                        return False
                    keep = keep and truth
                if keep and not run(clause.inner_for_in):
                    return False
            return True

        if not run(node.for_in):
            return None
        return results

    def _eval_ListComp(self, node: cst.ListComp, frame: Frame) -> Any:
        items = self._comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return UNKNOWN if items is None else items

    _eval_GeneratorExp = _eval_ListComp

    def _eval_SetComp(self, node: cst.SetComp, frame: Frame) -> Any:
        items = self._comprehension(node, frame, lambda f: self.eval(node.elt, f))
        try:
            return UNKNOWN if items is None else set(items)
        except TypeError:
            return UNKNOWN

    def _eval_DictComp(self, node: cst.DictComp, frame: Frame) -> Any:
        pairs = self._comprehension(node, frame, lambda f: (self.eval(node.key, f), self.eval(node.value, f)))
        if pairs is None or any(k is UNKNOWN for k, _ in pairs):
            return UNKNOWN
        try:
            return dict(pairs)
        except TypeError:
            return UNKNOWN

    def _eval_Lambda(self, node: cst.Lambda, frame: Frame) -> Any:
        return FuncVal(node, frame.file, frame)

    def _eval_NamedExpr(self, node: cst.NamedExpr, frame: Frame) -> Any:
        value = self.eval(node.value, frame)
        self.assign(node.target, value, frame)
        return value

    def _eval_Ellipsis(self, node: cst.Ellipsis, frame: Frame) -> Any:
        return ...


@lru_cache(maxsize=4096)
def _number(text: str) -> Any:
    """A numeric literal's value (libcst's ``evaluated_value`` compiles it anew each time)."""
    import ast

    return ast.literal_eval(text)


@lru_cache(maxsize=4096)
def _string(text: str) -> Any:
    import ast

    try:
        value = ast.literal_eval(text)
    except VALUE_ERRORS:
        return UNKNOWN
    return value if isinstance(value, str) else UNKNOWN
