"""What the engine and the checks ask of the frontend's cross-file index, as a typed seam."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import ast

    from gradlint.source import SourceFile


class ProjectIndex(Protocol):
    """The linted tree as one resolver of imports (``gradlint.frontends.python.Project``)."""

    files: list[Path]

    def may_have_models(self, path: str, tree: ast.Module) -> bool: ...

    def dependencies_of(self, path: str) -> set[str]: ...

    def recorded_dependencies(self, path: str) -> set[str]: ...

    def module_key(self, dotted: str, importer: str, readable=None) -> str | None: ...

    def imported_source(
        self, importer: str, module: str, accept: Callable[[str], bool] | None = None
    ) -> SourceFile | None: ...


class LazyProject:
    """The frontend's cross-file index, built when the first file needs it: a run whose
    files all skip the parser never imports the frontend."""

    def __init__(self, files: list[Path], documents: list[Path] | None = None) -> None:
        self.files = files
        self.documents = documents or []  # Markdown files whose Python blocks may build models
        self._project: ProjectIndex | None = None

    @property
    def started(self) -> bool:
        return self._project is not None

    def get(self) -> ProjectIndex:
        if self._project is None:
            from gradlint.frontends.python import Project

            self._project = Project.for_files(self.files, self.documents)
        return self._project

    def imported_source(self, importer: str, module: str, accept=None):
        """The one resolver of the run (``gradlint.source.ModuleResolver``), built on demand."""
        return self.get().imported_source(importer, module, accept)


def _project_of_files(project) -> list[Path]:
    return list(getattr(project, "files", ()))


def _project_of(project):
    return project.get() if isinstance(project, LazyProject) else project


def project_of(project: ProjectIndex | LazyProject | None) -> ProjectIndex | None:
    return project.get() if isinstance(project, LazyProject) else project


def held_source(project: ProjectIndex | LazyProject | None, path: str, text: str) -> SourceFile | None:
    """The whole tree of ``path`` that the run's resolver holds already (a file checked
    before imports it), when its text is still ``text``: a process parses a file once."""
    if isinstance(project, LazyProject):
        if not project.started:
            return None
        project = project.get()
    held = getattr(project, "held_source", None)
    return held(path, text) if held is not None else None
