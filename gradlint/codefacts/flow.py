"""Forward data flow over one function body.

A domain says what an expression evaluates to; this module walks the statements:
straight-line code in order, both arms of a branch joined, loop bodies repeated
until the environment stops changing (bounded). Variables map to domain values.
"""

from __future__ import annotations

from typing import Any, Protocol

import libcst as cst

from gradlint.codefacts.syntax import statements
from gradlint.names import dotted

MAX_LOOP_PASSES = 4

Env = dict[str, Any]


class Domain(Protocol):
    def evaluate(self, expr: cst.BaseExpression, env: Env) -> Any: ...

    def join(self, a: Any, b: Any) -> Any: ...

    def element(self, value: Any) -> Any:
        """What iterating over ``value`` binds the loop variable to."""

    def enter_with(self, node: cst.With, env: Env) -> Any: ...

    def exit_with(self, token: Any) -> None: ...


def join_env(domain: Domain, a: Env, b: Env) -> Env:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = domain.join(merged[key], value) if key in merged else value
    return merged


class Flow:
    """Runs a domain over statements; collects what ``return`` statements return."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.returns: list[tuple[cst.Return, Any]] = []

    def run(self, body: list[cst.BaseStatement], env: Env) -> Env:
        for stmt in body:
            env = self.statement(stmt, env)
        return env

    def block(self, suite: cst.BaseSuite, env: Env) -> Env:
        return self.run(statements(suite), env)

    def statement(self, stmt: cst.CSTNode, env: Env) -> Env:
        d = self.domain
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                env = self.small(small, env)
            return env
        if type(stmt) is cst.SimpleStatementSuite:
            for small in stmt.body:
                env = self.small(small, env)
            return env
        if type(stmt) is cst.If:
            d.evaluate(stmt.test, env)
            taken = self.block(stmt.body, dict(env))
            other = self.statement(stmt.orelse, dict(env)) if stmt.orelse is not None else env
            return join_env(d, taken, other)
        if type(stmt) is cst.Else:
            return self.block(stmt.body, env)
        if type(stmt) in (cst.For, cst.While):
            return self.loop(stmt, env)
        if type(stmt) is cst.With:
            for item in stmt.items:
                value = d.evaluate(item.item, env)
                if item.asname is not None:
                    env = self.bind(item.asname.name, value, env)
            token = d.enter_with(stmt, env)
            try:
                return self.block(stmt.body, env)
            finally:
                d.exit_with(token)
        if type(stmt) is cst.Try:
            after = self.block(stmt.body, dict(env))
            for handler in stmt.handlers:
                after = join_env(d, after, self.block(handler.body, dict(env)))
            if stmt.orelse is not None:
                after = self.block(stmt.orelse.body, after)
            if stmt.finalbody is not None:
                after = self.block(stmt.finalbody.body, after)
            return after
        return env  # nested def/class, match: not followed

    def loop(self, stmt: cst.For | cst.While, env: Env) -> Env:
        d = self.domain
        state = dict(env)
        for _ in range(MAX_LOOP_PASSES):
            inner = dict(state)
            if type(stmt) is cst.For:
                inner = self.bind(stmt.target, d.element(d.evaluate(stmt.iter, inner)), inner)
            else:
                d.evaluate(stmt.test, inner)
            inner = self.block(stmt.body, inner)
            merged = join_env(d, state, inner)
            if merged == state:
                break
            state = merged
        if stmt.orelse is not None:
            state = self.block(stmt.orelse.body, state)
        return state

    def small(self, node: cst.BaseSmallStatement, env: Env) -> Env:
        d = self.domain
        if type(node) is cst.Assign:
            value = d.evaluate(node.value, env)
            for target in node.targets:
                env = self.bind(target.target, value, env)
        elif type(node) is cst.AnnAssign and node.value is not None:
            env = self.bind(node.target, d.evaluate(node.value, env), env)
        elif type(node) is cst.AugAssign:
            value = d.evaluate(node.value, env)
            key = dotted(node.target)
            if key is not None:
                old = env.get(key)
                env = dict(env)
                env[key] = (
                    d.join(old, value)
                    if old is not None
                    else d.join(d.evaluate(node.target, env), value)
                )
        elif type(node) is cst.Expr:
            statement_call = getattr(d, "expression_statement", None)
            if statement_call is None or not statement_call(node.value, env):
                d.evaluate(node.value, env)
        elif type(node) is cst.Return and node.value is not None:
            self.returns.append((node, d.evaluate(node.value, env)))
        return env

    def bind(self, target: cst.BaseExpression, value: Any, env: Env) -> Env:
        env = dict(env)
        if type(target) in (cst.Tuple, cst.List):
            count = len(target.elements)
            unpack = getattr(self.domain, "unpack", None)
            for index, element in enumerate(target.elements):
                part = unpack(value, index, count) if unpack is not None else value
                env = self.bind(element.value, part, env)
            return env
        if type(target) is cst.StarredElement:
            return self.bind(target.value, value, env)
        if type(target) is cst.Subscript:
            key = dotted(target.value)
            if key is not None and key in env:
                env[key] = self.domain.join(env[key], value)
            return env
        key = dotted(target)
        if key is not None:
            env[key] = value
            attribute = getattr(self.domain, "bind_attribute", None)
            if attribute is not None and type(target) is cst.Attribute:
                attribute(target, value, env)
        return env

    def returned(self) -> Any:
        value = None
        for _, v in self.returns:
            value = v if value is None else self.domain.join(value, v)
        return value
