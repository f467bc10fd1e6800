"""``gradlint server``: the language server, over stdio, built on pygls (the ``lsp`` extra).

Diagnostics are published when a Python document is opened, changed (the editor's unsaved
text is checked; nothing is written) and saved, with the configuration ``gradlint check``
would use for the document's path and the project's other files for its imports. Each
diagnostic offers a quick fix that adds ``# noqa: CODE`` to its line. Imports neither torch
nor the code it checks.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from gradlint import __version__
from gradlint.buffers import Workspace, check_buffer, error_position, noqa_edit
from gradlint.config import ConfigError
from gradlint.diagnostics import Finding

SOURCE = "gradlint"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
_PYTHON = (".py", ".pyi")
SETTLE_SECONDS = 0.25


class GradlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("gradlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.projects = Workspace()
        self.pending: dict[str, asyncio.TimerHandle] = {}  # a check waiting for the typing to stop


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
    # typing sends a change per key: check once the text has rested a moment, not at each one
    uri = params.text_document.uri
    pending = ls.pending.pop(uri, None)
    if pending is not None:
        pending.cancel()
    ls.pending[uri] = asyncio.get_running_loop().call_later(SETTLE_SECONDS, publish, ls, uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _saved(ls: GradlintServer, params: types.DidSaveTextDocumentParams) -> None:
    path = _path_of(params.text_document.uri)
    if path is not None:  # a new file joins the project's list of files for imports
        try:
            ls.projects.files(ls.projects.config_for(path), refresh_for=path)
        except ConfigError:
            pass
    publish(ls, params.text_document.uri)


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
        types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=diagnose(ls, path, document.lines))
    )


def diagnose(ls: GradlintServer, path: Path, lines: list[str]) -> list[types.Diagnostic]:
    try:
        result = check_buffer(path, "".join(lines), ls.projects)
    except ConfigError as exc:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"gradlint: {exc}"))
        return []
    found = [_diagnostic(f, lines) for f in sorted(result.findings, key=Finding.sort_key)]
    for error in result.errors:
        line, column = error_position(error)
        start = _position(lines, line, column)
        found.append(types.Diagnostic(range=types.Range(start=start, end=start), message=error.message,
                                      severity=types.DiagnosticSeverity.Error, source=SOURCE))
    return found


def _position(lines: list[str], line: int, column: int) -> types.Position:
    """An LSP position (0-based, UTF-16 code units) of a 1-based line and character column."""
    row = max(0, line - 1)
    text = lines[row] if row < len(lines) else ""
    prefix = text[: max(0, column - 1)]
    return types.Position(line=row, character=len(prefix.encode("utf-16-le")) // 2)


def _diagnostic(finding: Finding, lines: list[str]) -> types.Diagnostic:
    loc = finding.location
    start = _position(lines, loc.line or 1, loc.column or 1)
    if loc.end_line is not None and loc.end_column is not None:
        end = _position(lines, loc.end_line, loc.end_column)
    else:
        end = _position(lines, loc.line or 1, len(lines[start.line]) + 1 if start.line < len(lines) else 1)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
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
        actions.extend(fix_actions(document.uri, diagnostic, lines))
        row = diagnostic.range.start.line
        line = lines[row].rstrip("\r\n") if row < len(lines) else ""
        edit = noqa_edit(line, diagnostic.code)
        if edit is None:
            continue
        column, insert = edit
        at = types.Position(line=row, character=len(line[:column].encode("utf-16-le")) // 2)
        actions.append(types.CodeAction(
            title=f"Add `# noqa: {diagnostic.code}` to this line",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=types.WorkspaceEdit(changes={document.uri: [types.TextEdit(range=types.Range(start=at, end=at), new_text=insert)]}),
        ))
    return actions


def fix_actions(uri: str, diagnostic: types.Diagnostic, lines: list[str]) -> list[types.CodeAction]:
    """The quick fixes the rule behind ``diagnostic`` offers for it, listed before the noqa
    action: the place where ``--fix``'s edits of a finding become code actions. No rule
    offers a fix yet."""
    return []


def serve() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    server.start_io()
