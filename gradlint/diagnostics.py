"""Plain data that flows from the checks to the reporters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Location:
    """Where a finding points: a source span, or a node of an exported graph.

    Lines and columns are 1-based, as editors show them. A location inside an
    ONNX graph has no line; it names the node (``node``, ``op_type``, ``node_index``).
    In a Jupyter notebook, ``cell`` is the cell's number (from 1, among all the cells)
    and the lines count from the top of that cell.
    """

    path: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    node: str | None = None
    op_type: str | None = None
    node_index: int | None = None
    cell: int | None = None

    def places(self) -> list[str]:
        """What follows the path in ``path:line:col``: the node of a graph, or a notebook's
        cell before the line (``cell 3``, ``4``, ``8``, shown ``path:cell 3:4:8``)."""
        if self.node is not None:
            return [self.node]
        cell = [] if self.cell is None else [f"cell {self.cell}"]
        return [*cell, str(self.line), str(self.column)]


_SPAN_FIELDS = frozenset({"line", "column", "end_line", "end_column"})


class DeferredLocation(Location):
    """A source location whose span is worked out only when something reads it.

    The python frontend records a location for every layer and init call it meets, and
    most of them are never shown: resolving a span costs a pass over the file's tree,
    so that pass runs only for files that end up with a finding. Equality, hashing,
    ``repr`` and pickling see the resolved span, exactly as for a ``Location``.
    """

    def __init__(self, path: str, resolve) -> None:
        # the frozen dataclass's own __init__ is bypassed on purpose: the span comes later
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "_resolve", resolve)
        object.__setattr__(self, "_span", None)

    def __getattribute__(self, name: str):
        if name in _SPAN_FIELDS:
            span = object.__getattribute__(self, "_span")
            if span is None:
                resolved = object.__getattribute__(self, "_resolve")()
                span = (resolved.line, resolved.column, resolved.end_line, resolved.end_column)
                object.__setattr__(self, "_span", span)
                object.__setattr__(self, "_resolve", None)
            return span[("line", "column", "end_line", "end_column").index(name)]
        return object.__getattribute__(self, name)

    def resolved(self) -> Location:
        return Location(self.path, self.line, self.column, self.end_line, self.end_column)

    def __eq__(self, other: object) -> bool:
        return self.resolved() == (other.resolved() if isinstance(other, DeferredLocation) else other)

    def __hash__(self) -> int:
        return hash(self.resolved())

    def __repr__(self) -> str:
        return repr(self.resolved())

    def __reduce__(self):
        return (Location, (self.path, self.line, self.column, self.end_line, self.end_column))


FixSafety = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class Edit:
    """Text between two positions of one file replaced by ``replacement``.

    Lines and columns are 1-based and count characters, as a finding's location does;
    the end is exclusive. An insertion has its end equal to its start.
    """

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    """A repair of one finding: edits of one file, applied together or not at all.

    ``safety`` is "unsafe" when the fix changes behaviour a user may rely on (what a
    model returns to other callers, its initial weights); those apply only when asked.
    """

    code: str
    description: str
    safety: FixSafety
    edits: tuple[Edit, ...]
    path: str = ""


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    location: Location
    fix: Fix | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # the rule declares a fix (``Rule.fix``): only such findings are offered to gradlint.fixes
    fixable: bool = field(default=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.location, DeferredLocation):
            object.__setattr__(self, "location", self.location.resolved())

    @property
    def path(self) -> str:
        return self.location.path

    def sort_key(self) -> tuple:
        loc = self.location
        return (
            loc.path,
            loc.cell or 0,
            loc.line if loc.line is not None else -1,
            loc.node_index if loc.node_index is not None else -1,
            loc.column or 0,
            self.code,
            self.message,
        )

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        record: dict[str, Any] = {"path": loc.path}
        if loc.cell is not None:
            record["cell"] = loc.cell
        record |= {
            "line": loc.line,
            "column": loc.column,
            "end_line": loc.end_line,
            "end_column": loc.end_column,
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
        }
        if loc.node is not None:
            record["node"] = {"name": loc.node, "op_type": loc.op_type, "index": loc.node_index}
        if self.fix is not None:
            record["fix"] = asdict(self.fix)
        if self.extra:
            record["extra"] = self.extra
        return record


@dataclass(frozen=True)
class FileError:
    """A file that could not be read or parsed. Not a finding: it never names a rule.

    A syntax error knows where it is (1-based line and column); other errors do not."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    cell: int | None = None  # in a notebook, the cell the line counts in (as in ``Location``)

    def where(self) -> str:
        """``path:line:col`` (``path:cell N:line:col`` in a notebook) where the place is known,
        else the path."""
        if self.line is None:
            return self.path
        return ":".join([self.path, *Location(self.path, self.line, self.column or 1, cell=self.cell).places()])

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"path": self.path}
        if self.cell is not None:
            record["cell"] = self.cell
        return record | {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class ModelRecord:
    """What the gain model says about one model (an nn.Module class or an ONNX graph)."""

    path: str
    line: int | None
    name: str
    depth: int | None
    log10_grad_ratio: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        record = {
            "path": self.path,
            "line": self.line,
            "class": self.name,
            "depth": self.depth,
            "log10_grad_ratio": self.log10_grad_ratio,
        }
        record.update(self.extra)
        return record


@dataclass
class FileResult:
    """Everything one file produced; the unit the engine caches and merges."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    models: list[ModelRecord] = field(default_factory=list)
    # other files of the tree whose definitions this file's results depend on (for the cache)
    dependencies: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    models: list[ModelRecord] = field(default_factory=list)
    files_checked: int = 0
    warnings: list[str] = field(default_factory=list)  # about the run, not a file: the cache
    fixed: int | None = None  # findings fixed, with --fix
    hidden_fixes: int = 0  # findings whose fix applies only with --unsafe-fixes
