"""Operators: arithmetic, unary and boolean operators, comparisons, and truth."""

from __future__ import annotations

import operator
from typing import Any

import libcst as cst

from gradlint.frontends.python import modules as nnmod
from gradlint.frontends.python.derived import DerivedWeight
from gradlint.frontends.python.shared import MAX_COLLECTION, Frame, InterpPart, plain
from gradlint.frontends.python.values import (
    EVERYTHING,
    UNKNOWN,
    VALUE_ERRORS,
    Mod,
    Param,
    ParamRef,
    Site,
    Tensor,
    TorchRef,
)

_BINOPS = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod,
    cst.Power: operator.pow, cst.BitAnd: operator.and_, cst.BitOr: operator.or_, cst.BitXor: operator.xor,
    cst.LeftShift: operator.lshift, cst.RightShift: operator.rshift, cst.MatrixMultiply: operator.matmul,
}
_COMPARE = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt, cst.GreaterThan: operator.gt,
    cst.LessThanEqual: operator.le, cst.GreaterThanEqual: operator.ge,
}


def _gives_a_bool(node: cst.BaseExpression) -> bool:
    """An expression whose value is a bool whatever its operands: ``not x``, a comparison."""
    if type(node) is cst.UnaryOperation:
        return type(node.operator) is cst.Not
    if type(node) is cst.BooleanOperation:
        return _gives_a_bool(node.left) and _gives_a_bool(node.right)
    return type(node) is cst.Comparison


_TENSORISH = (Tensor, ParamRef, Param, DerivedWeight)


class Operators(InterpPart):
    """The operators part of ``Interpreter``: ``self`` is all of it (see ``shared.py``)."""

    # -- operators ------------------------------------------------------------------------

    def _eval_BinaryOperation(self, node: cst.BinaryOperation, frame: Frame) -> Any:
        # left-deep chains (a + b + c + ...) iteratively: long sums must not exhaust the stack
        spine = [node]
        while type(spine[-1].left) is cst.BinaryOperation and len(spine) < 100_000:
            spine.append(spine[-1].left)
        value = self.eval(spine[-1].left, frame)
        for link in reversed(spine):
            right = self.eval(link.right, frame)
            value = self.binop(type(link.operator), value, right, site=Site(frame.file, link))
        return value

    def binop(self, op: Any, left: Any, right: Any, inplace: bool = False, site: Site | None = None) -> Any:
        if isinstance(left, _TENSORISH) or isinstance(right, _TENSORISH):
            return nnmod.tensor_binop(self, op, left, right, site)
        if inplace and op is cst.Add and isinstance(left, Mod) and (left.container or left.cls is not None):
            return nnmod.module_getattr(self, left, "extend").fn(self, [right], {})  # layers += [...]
        if left is UNKNOWN or right is UNKNOWN or op not in _BINOPS:
            return UNKNOWN
        if not (plain(left) and plain(right)):
            return UNKNOWN
        if op is cst.Power and isinstance(right, (int, float)) and (abs(right) > 256 or
                                                                    (isinstance(left, (int, float)) and abs(left) > 1e6)):
            return UNKNOWN
        if op is cst.LeftShift and isinstance(right, int) and right > 64:
            return UNKNOWN
        if op is cst.Multiply and isinstance(left, (str, list, tuple)) and isinstance(right, int) and len(left) * right > MAX_COLLECTION:
            return UNKNOWN
        if op is cst.Multiply and isinstance(right, (str, list, tuple)) and isinstance(left, int) and len(right) * left > MAX_COLLECTION:
            return UNKNOWN
        try:
            if inplace and op is cst.Add and isinstance(left, list):
                left.extend(right)
                return left
            result = _BINOPS[op](left, right)
        except VALUE_ERRORS:
            return UNKNOWN
        if isinstance(result, int) and result.bit_length() > 4096:
            return UNKNOWN  # repeated squaring must not build numbers of millions of digits
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_COLLECTION:
            return UNKNOWN
        return result

    def _eval_UnaryOperation(self, node: cst.UnaryOperation, frame: Frame) -> Any:
        value = self.eval(node.expression, frame)
        if type(node.operator) is cst.Not:
            truth = self.truth(value)
            return UNKNOWN if truth is UNKNOWN else not truth
        if isinstance(value, Tensor):
            return value
        if isinstance(value, (int, float)):
            if type(node.operator) is cst.Minus:
                return -value
            if type(node.operator) is cst.Plus:
                return +value
            if type(node.operator) is cst.BitInvert and isinstance(value, int):
                return ~value
        return UNKNOWN

    def _eval_BooleanOperation(self, node: cst.BooleanOperation, frame: Frame) -> Any:
        left = self.eval(node.left, frame)
        truth = self.truth(left)
        if truth is UNKNOWN:
            right = self.eval(node.right, frame)
            if right is (type(node.operator) is cst.Or) and _gives_a_bool(node.left):
                # ``not torch.cuda.is_available() or not flash``: either side is a bool, and the
                # known side decides (True for ``or``, False for ``and``)
                return right
            return UNKNOWN if not isinstance(right, Tensor) else right
        if type(node.operator) is cst.And:
            return self.eval(node.right, frame) if truth else left
        return left if truth else self.eval(node.right, frame)

    def _eval_Comparison(self, node: cst.Comparison, frame: Frame) -> Any:
        left = self.eval(node.left, frame)
        result: Any = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            outcome = self.compare(target.operator, left, right)
            if outcome is UNKNOWN:
                result = UNKNOWN
            elif outcome is False:
                return False
            left = right
        return result

    def compare(self, op: cst.BaseCompOp, left: Any, right: Any) -> Any:
        if type(op) in (cst.Is, cst.IsNot):
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            same = left is right or (left is None and right is None)
            if isinstance(left, (bool, int)) and isinstance(right, (bool, int)) and type(left) is type(right):
                same = left == right
            return same if type(op) is cst.Is else not same
        if type(op) in (cst.In, cst.NotIn):
            if right is EVERYTHING:
                return type(op) is cst.In
            if right is UNKNOWN or left is UNKNOWN:
                return UNKNOWN
            if isinstance(right, Mod) and right.container:
                found: Any = left in right.children
            elif isinstance(right, (list, tuple, set, frozenset, dict, str, range)):
                try:
                    found = left in right
                except TypeError:
                    return UNKNOWN
                if not found and not isinstance(right, (str, range)) and any(v is UNKNOWN for v in right):
                    return UNKNOWN
            else:
                return UNKNOWN
            return found if type(op) is cst.In else not found
        if left is UNKNOWN or right is UNKNOWN or isinstance(left, Tensor) or isinstance(right, Tensor):
            return UNKNOWN
        fn = _COMPARE.get(type(op))
        if fn is None:
            return UNKNOWN
        if not (plain(left) and plain(right)):
            if fn in (operator.eq, operator.ne):
                same = left is right or (isinstance(left, TorchRef) and isinstance(right, TorchRef)
                                         and left.qualname == right.qualname)
                return fn(same, True)
            return UNKNOWN
        try:
            return bool(fn(left, right))
        except VALUE_ERRORS:
            return UNKNOWN

    def truth(self, value: Any) -> Any:
        if value is UNKNOWN or isinstance(value, (Tensor, ParamRef)):
            return UNKNOWN
        if plain(value):
            try:
                return bool(value)
            except VALUE_ERRORS:
                return UNKNOWN
        if isinstance(value, Mod) and value.container:
            return bool(value.children)
        return True
