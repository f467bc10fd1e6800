"""The rule base classes and their discovery.

A rule is one class in one module of :mod:`gradlint.checks`; defining the class
is all it takes to register it. Its documentation lives in ``rules/<CODE>.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from gradlint.diagnostics import Finding, FixSafety, Location, Severity
from gradlint.rule_options import OptionType
from gradlint.textmatch import ALWAYS, TextTest

if TYPE_CHECKING:
    from gradlint.ir import LayerGraph
    from gradlint.source import SourceFile

CODE_PATTERN = re.compile(r"^GL\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Rule:
    """Metadata every rule declares, and the options it accepts.

    ``options`` holds the defaults of the rule's settings and ``option_types`` what each
    accepts (``gradlint.rule_options``), checked when the configuration loads; a project
    overrides them under ``[tool.gradlint.options.<CODE or name>]``.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    # the module of gradlint.fixes that repairs the rule's findings (None: no fix), and the
    # safety of its fix; a case the transform cannot repair safely is offered as unsafe
    fix: ClassVar[str | None] = None
    fix_safety: ClassVar[FixSafety] = "safe"
    default_enabled: ClassVar[bool] = True
    options: ClassVar[dict[str, Any]] = {}
    option_types: ClassVar[dict[str, OptionType]] = {}

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        merged = dict(self.options)
        for key, value in (options or {}).items():
            if key not in merged:
                raise ValueError(f"{self.code} ({self.name}) has no option {key!r}")
            merged[key] = value
        self.settings = merged

    def finding(
        self,
        message: str,
        location: Location,
        **extra: Any,
    ) -> Finding:
        return Finding(
            code=self.code,
            name=self.name,
            severity=self.severity,
            message=message,
            location=location,
            extra=extra,
            fixable=self.fix is not None,
        )


class SourceRule(Rule):
    """A rule that reads Python source: losses, graph cuts, training loops.

    Every source rule declares, as data, what its analysis needs of a file (see
    ``gradlint.textmatch``); the planner (``gradlint.plan``) alone decides from these
    declarations which files are parsed and which statements the parse keeps:

    - ``needs``: a test of the file's text that holds whenever the rule may have something
      to say about the file (the words its analysis looks for). ``ALWAYS`` is always safe.
    - ``reads``: a test of a top-level function's or long assignment's text that holds when
      the rule's analysis may read that statement although nothing kept names it. The
      classes, what they name and the module's own code are kept for every rule.
    """

    needs: ClassVar[TextTest]
    reads: ClassVar[TextTest] = ALWAYS

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        raise NotImplementedError


class GraphRule(Rule):
    """A rule that reads the layer graph; it fires on source and on ONNX alike."""

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        raise NotImplementedError


def _iter_subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _iter_subclasses(sub)


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every concrete rule, sorted by code. Imports each module of gradlint.checks."""
    import gradlint.checks as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    rules = {}
    for cls in _iter_subclasses(Rule):
        code = cls.__dict__.get("code")
        if code is None:
            continue
        if code in rules and rules[code] is not cls:
            raise RuntimeError(f"two rules share the code {code}: {rules[code]} and {cls}")
        if issubclass(cls, SourceRule) and not isinstance(getattr(cls, "needs", None), TextTest):
            raise TypeError(
                f"{code} ({cls.__name__}) declares no `needs`: say which words a file must "
                "contain for the rule to apply (gradlint.textmatch), or ALWAYS"
            )
        untyped = set(cls.options) ^ set(cls.option_types)
        if untyped:
            raise TypeError(
                f"{code} ({cls.__name__}): options and option_types must name the same options; "
                f"{', '.join(sorted(untyped))} is in one only"
            )
        rules[code] = cls
    return tuple(rules[code] for code in sorted(rules))


def rule_by_code_or_name(key: str) -> type[Rule] | None:
    for cls in all_rules():
        if key in (cls.code, cls.name):
            return cls
    return None
