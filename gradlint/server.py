"""``gradlint server``: the language server, over stdio, built on pygls (the ``lsp`` extra).

Diagnostics are published when a Python document or a Jupyter notebook is opened, changed
(the editor's unsaved text is checked; nothing is written) and saved, with the configuration
``gradlint check`` would use for the document's path and the project's other files for its
imports. Each diagnostic offers a quick fix that adds ``# noqa: CODE`` to its line. Imports
neither torch nor the code it checks.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from gradlint import __version__
from gradlint.buffers import Workspace, check_buffer, noqa_edit
from gradlint.config import ConfigError
from gradlint.diagnostics import Finding
from gradlint.docs import rule_url
from gradlint.notebooks import join_cells

SOURCE = "gradlint"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
_PYTHON = (".py", ".pyi")
SETTLE_SECONDS = 0.25


# the cells of Jupyter notebooks are synced as notebook documents (VS Code, JupyterLab's LSP)
_NOTEBOOKS = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithNotebook(
        notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")])],
    save=True,
)


class GradlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("gradlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=_NOTEBOOKS)
        self.projects = Workspace()
        self.pending: dict[str, asyncio.TimerHandle] = {}  # a check waiting for the typing to stop
        self.checked: dict[str, tuple[str, str, list[Finding]]] = {}  # uri -> (shown path, text, findings)


server = GradlintServer()


@server.feature(types.INITIALIZED)
def _initialized(ls: GradlintServer, params: types.InitializedParams) -> None:
    folders = ls.workspace.folders.values() if ls.workspace.folders else ()
    ls.projects.folders = [Path(p) for p in (to_fs_path(f.uri) for f in folders) if p]
    if not ls.projects.folders and ls.workspace.root_path:
        ls.projects.folders = [Path(ls.workspace.root_path)]


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: GradlintServer, params: types.DidOpenTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def _changed(ls: GradlintServer, params: types.DidChangeTextDocumentParams) -> None:
    _settle(ls, params.text_document.uri, publish)


def _settle(ls: GradlintServer, uri: str, check) -> None:
    """Typing sends a change per key: check once the text has rested a moment, not at each one."""
    pending = ls.pending.pop(uri, None)
    if pending is not None:
        pending.cancel()
    ls.pending[uri] = asyncio.get_running_loop().call_later(SETTLE_SECONDS, check, ls, uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def _notebook_opened(ls: GradlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
    publish_notebook(ls, params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
async def _notebook_changed(ls: GradlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
    _settle(ls, params.notebook_document.uri, publish_notebook)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def _notebook_saved(ls: GradlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
    publish_notebook(ls, params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def _notebook_closed(ls: GradlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
    for cell in params.cell_text_documents:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))


def publish_notebook(ls: GradlintServer, uri: str) -> None:
    """Check a notebook's code cells as the editor holds them, and publish each cell's
    diagnostics on the cell's own document (an empty list clears a cell that is now clean)."""
    pending = ls.pending.pop(uri, None)
    if pending is not None:
        pending.cancel()
    notebook = ls.workspace.get_notebook_document(notebook_uri=uri)
    path = to_fs_path(uri)
    if notebook is None or not path:
        return
    documents = {n: ls.workspace.get_text_document(c.document) for n, c in enumerate(notebook.cells, 1)}
    joined = join_cells([
        (n, d.source if c.kind == types.NotebookCellKind.Code and d.language_id == "python" else None)
        for (n, d), c in zip(documents.items(), notebook.cells)
    ])
    result = _checked(ls, Path(path), joined.text, joined.cells)
    found = {} if result is None else _diagnostics(ls, result, lambda cell: documents[cell].lines if cell in documents else [])
    code = [n for n, c in enumerate(notebook.cells, 1) if c.kind == types.NotebookCellKind.Code]
    for number in code:
        document = documents[number]
        # what belongs to no cell (an internal error) goes on the first
        here = found.get(number, []) + (found.get(None, []) if number == code[0] else [])
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=document.uri, version=document.version, diagnostics=here))


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _saved(ls: GradlintServer, params: types.DidSaveTextDocumentParams) -> None:
    path = _path_of(params.text_document.uri)
    if path is not None:  # a new file joins the project's list of files for imports
        try:
            ls.projects.files(ls.projects.config_for(path), refresh_for=path)
        except ConfigError:
            pass
    publish(ls, params.text_document.uri)
    # the other open documents may import what was saved: their findings may have changed
    for uri, document in list(ls.workspace.text_documents.items()):
        if uri != params.text_document.uri and _path_of(uri) is not None:
            publish(ls, uri)
    for uri in list(ls.workspace.notebook_documents):
        publish_notebook(ls, uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _closed(ls: GradlintServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


def _path_of(uri: str) -> Path | None:
    path = to_fs_path(uri)
    if not path or not path.endswith(_PYTHON):
        return None  # notebooks and other languages: gradlint check reports on them
    return Path(path)


def publish(ls: GradlintServer, uri: str) -> None:
    pending = ls.pending.pop(uri, None)
    if pending is not None:
        pending.cancel()  # a save while a change waits: this check covers both
    path = _path_of(uri)
    if path is None:
        return
    document = ls.workspace.get_text_document(uri)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=diagnose(ls, path, document.lines, uri))
    )


def diagnose(ls: GradlintServer, path: Path, lines: list[str], uri: str | None = None) -> list[types.Diagnostic]:
    text = "".join(lines)
    result = _checked(ls, path, text)
    if uri is not None and result is not None:  # what the quick fixes are made from
        ls.checked[uri] = (result.path, text, list(result.findings))
    return [] if result is None else _diagnostics(ls, result, lambda cell: lines).get(None, [])


def _checked(ls: GradlintServer, path: Path, text: str, cells=None):
    try:
        return check_buffer(path, text, ls.projects, cells)
    except ConfigError as exc:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"gradlint: {exc}"))
        return None


def _diagnostics(ls: GradlintServer, result, lines_of) -> dict[int | None, list[types.Diagnostic]]:
    """The diagnostics of a check, by notebook cell (None for a plain file); ``lines_of(cell)``
    gives the lines of the document they point into."""
    units = ls.workspace.position_codec.client_num_units
    found: dict[int | None, list[types.Diagnostic]] = {}
    for finding in sorted(result.findings, key=Finding.sort_key):
        cell = finding.location.cell
        found.setdefault(cell, []).append(_diagnostic(finding, lines_of(cell), units))
    for error in result.errors:
        cell = error.cell
        start = _position(lines_of(cell), error.line or 1, error.column or 1, units)
        found.setdefault(cell, []).append(types.Diagnostic(
            range=types.Range(start=start, end=start), message=error.message,
            severity=types.DiagnosticSeverity.Error, source=SOURCE))
    return found


def _position(lines: list[str], line: int, column: int, units) -> types.Position:
    """An LSP position (0-based, in the client's code units: ``units(text)``, UTF-16 unless
    it asked for another) of a 1-based line and character column."""
    row = max(0, line - 1)
    text = lines[row] if row < len(lines) else ""
    prefix = text[: max(0, column - 1)]
    return types.Position(line=row, character=units(prefix))


def _diagnostic(finding: Finding, lines: list[str], units) -> types.Diagnostic:
    loc = finding.location
    start = _position(lines, loc.line or 1, loc.column or 1, units)
    if loc.end_line is not None and loc.end_column is not None:
        end = _position(lines, loc.end_line, loc.end_column, units)
    else:
        end = _position(lines, loc.line or 1, len(lines[start.line]) + 1 if start.line < len(lines) else 1, units)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=types.CodeDescription(href=rule_url(finding.code)),
        source=SOURCE,
        data={"name": finding.name},
    )


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def _code_actions(ls: GradlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    document = ls.workspace.get_text_document(params.text_document.uri)
    lines = document.lines
    actions = []
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != SOURCE or not isinstance(diagnostic.code, str):
            continue
        actions.extend(fix_actions(ls, document.uri, diagnostic, lines))
        row = diagnostic.range.start.line
        line = lines[row].rstrip("\r\n") if row < len(lines) else ""
        edit = noqa_edit(line, diagnostic.code)
        if edit is None:
            continue
        column, insert = edit
        at = types.Position(line=row, character=ls.workspace.position_codec.client_num_units(line[:column]))
        actions.append(types.CodeAction(
            title=f"Add `# noqa: {diagnostic.code}` to this line",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=types.WorkspaceEdit(changes={document.uri: [types.TextEdit(range=types.Range(start=at, end=at), new_text=insert)]}),
        ))
    return actions


def fix_actions(ls: GradlintServer, uri: str, diagnostic: types.Diagnostic, lines: list[str]) -> list[types.CodeAction]:
    """The fixes ``--fix`` would make of the finding behind ``diagnostic``, as quick fixes
    listed before the noqa action (safe ones preferred); none when the text has changed
    since it was checked, or for a notebook's cells."""
    checked = ls.checked.get(uri)
    if checked is None or checked[1] != "".join(lines):
        return []
    shown, text, findings = checked
    from gradlint.fixes import fixes_for

    units = ls.workspace.position_codec.client_num_units
    behind = [
        f for f in findings
        if f.code == diagnostic.code and _position(lines, f.location.line or 1, f.location.column or 1, units) == diagnostic.range.start
    ]
    actions = []
    for fix in fixes_for(shown, text, behind):
        edits = [
            types.TextEdit(range=types.Range(start=_position(lines, e.start_line, e.start_column, units),
                                             end=_position(lines, e.end_line, e.end_column, units)), new_text=e.replacement)
            for e in fix.edits
        ]
        actions.append(types.CodeAction(
            title=fix.description if fix.safety == "safe" else f"{fix.description} (unsafe)",
            kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic], is_preferred=fix.safety == "safe",
            edit=types.WorkspaceEdit(changes={uri: edits}),
        ))
    return actions


def serve() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    server.start_io()
