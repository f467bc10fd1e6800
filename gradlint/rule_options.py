"""The values a rule's options accept, declared beside their defaults and checked when the
configuration loads, so that a wrong value is one configuration error (exit 2) that names
the key, never an internal error in every file the rule reads."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any


class OptionType:
    """What an option accepts: a test of the value and the words that describe it."""

    def __init__(self, expected: str, accepts: Callable[[Any], bool]) -> None:
        self.expected = expected
        self.accepts = accepts

    def problem(self, key: str, value: Any) -> tuple[str, str, Any] | None:
        """(the dotted key at fault, what it must be, the value found), or None."""
        return None if self.accepts(value) else (key, self.expected, value)


class TableOf(OptionType):
    """A table whose every value is of ``item``'s type (``{ SGD = [1e-4, 1.0] }``)."""

    def __init__(self, item: OptionType) -> None:
        super().__init__(f"a table of names to {item.expected}", lambda v: isinstance(v, dict))
        self.item = item

    def problem(self, key: str, value: Any) -> tuple[str, str, Any] | None:
        if not isinstance(value, dict):
            return (key, self.expected, value)
        for name, item in value.items():
            found = self.item.problem(f"{key}.{name}", item)
            if found is not None:
                return found
        return None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_range(value: Any) -> bool:
    return (
        isinstance(value, list) and len(value) == 2 and all(is_number(v) for v in value)
        and 0 <= value[0] <= value[1]
    )


POSITIVE_NUMBER = OptionType("a positive number", lambda v: is_number(v) and v > 0)
FRACTION = OptionType("a number from 0 to 1", lambda v: is_number(v) and 0 <= v <= 1)
BOOLEAN = OptionType("true or false", lambda v: isinstance(v, bool))
STRING = OptionType("a string", lambda v: isinstance(v, str))
RANGE = OptionType("[low, high], two numbers with 0 <= low <= high", _is_range)


def inferred(default: Any) -> OptionType:
    """The type of an option that declares none: its default's (an int is a float too)."""
    if isinstance(default, bool):
        return BOOLEAN
    if isinstance(default, float):
        return OptionType("a number", is_number)
    if isinstance(default, int):
        return OptionType("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
    name = {dict: "a table", list: "a list", str: "a string"}.get(type(default), type(default).__name__)
    return OptionType(name, lambda v: isinstance(v, type(default)))


def option_problem(rule: type, key: str, value: Any) -> str | None:
    """Why ``value`` cannot be ``rule``'s option ``key``, in words, or None."""
    declared = getattr(rule, "option_types", {}).get(key)
    default = rule.options[key]
    if declared is None and default is None:
        return None
    found = (declared or inferred(default)).problem(key, value)
    if found is None:
        return None
    where, expected, got = found
    return f"'{where}' must be {expected} (got {toml_value(got)})"


def toml_value(value: Any) -> str:
    """A value as it is written in TOML (``[1e-6]``, ``true``, ``{ SGD = [0, 1] }``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), repr(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return str(value)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)
