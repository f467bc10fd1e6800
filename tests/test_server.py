"""``gradlint server`` driven by a real LSP client over stdio: diagnostics on open, on
change (the unsaved text) and on save, the project's configuration and its other files, the
add-noqa quick fix, and a clean shutdown."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gradlint.docs import rule_url
from tests.conftest import ROOT

pytest.importorskip("pygls")

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

BUGGY = (ROOT / "examples" / "vanishing_mlp.py").read_text(encoding="utf-8")
FIXED = BUGGY.replace("return F.softmax(self.head(x), dim=-1)", "return self.head(x)").replace(
    "            loss.backward()\n", "            optimizer.zero_grad()\n            loss.backward()\n"
)
NET = textwrap.dedent("""\
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(784, 10)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=-1)
""")
TRAIN = textwrap.dedent("""\
    import torch
    import torch.nn as nn

    from net import Net

    model = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters())
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
""")


class _Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("gradlint-tests", "1")
        self.published: dict[str, asyncio.Queue] = {}

    def queue(self, uri: str) -> asyncio.Queue:
        return self.published.setdefault(uri, asyncio.Queue())

    async def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        params = await asyncio.wait_for(self.queue(uri).get(), 120)
        return list(params.diagnostics)


def _open(client: _Client, uri: str, text: str) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))


def _replace(client: _Client, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def _summary(diagnostics: list[types.Diagnostic]) -> list[tuple]:
    return [(d.code, d.range.start.line, d.range.start.character, d.severity, d.source) for d in diagnostics]


async def _session(project: Path) -> dict:
    client = _Client()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(ls, params: types.PublishDiagnosticsParams) -> None:
        client.queue(params.uri).put_nowait(params)

    seen: dict = {}
    await client.start_io(sys.executable, "-m", "gradlint", "server", cwd=str(ROOT))
    try:
        folder = from_fs_path(str(project))
        reply = await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=folder,
            workspace_folders=[types.WorkspaceFolder(uri=folder, name="project")]))
        seen["capabilities"] = reply.capabilities
        client.initialized(types.InitializedParams())

        model = from_fs_path(str(project / "model.py"))
        _open(client, model, BUGGY)
        seen["opened"] = await client.diagnostics(model)
        missing_zero_grad = next(d for d in seen["opened"] if d.code == "GL601")
        seen["actions"] = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=model), range=missing_zero_grad.range,
            context=types.CodeActionContext(diagnostics=[missing_zero_grad])))
        noqa = next(a for a in seen["actions"] if a.title.startswith("Add `# noqa"))
        (edit,) = noqa.edit.changes[model]
        lines = BUGGY.splitlines(keepends=True)
        row, column = edit.range.start.line, edit.range.start.character
        lines[row] = lines[row][:column] + edit.new_text + lines[row][column:]
        _replace(client, model, 2, "".join(lines))
        seen["suppressed"] = await client.diagnostics(model)
        _replace(client, model, 3, FIXED)
        seen["fixed"] = await client.diagnostics(model)
        # changes in quick succession: one check, of the latest text
        _replace(client, model, 4, BUGGY)
        _replace(client, model, 5, FIXED)
        latest = await asyncio.wait_for(client.queue(model).get(), 120)
        await asyncio.sleep(1)
        seen["settled"] = (latest.version, list(latest.diagnostics), client.queue(model).qsize())
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=model)))
        seen["saved"] = await client.diagnostics(model)
        _replace(client, model, 6, "x = 1\ndef f(:\n")
        seen["broken"] = await client.diagnostics(model)

        train = from_fs_path(str(project / "train.py"))
        _open(client, train, TRAIN)
        seen["imported"] = await client.diagnostics(train)
        # net.py edited and saved: the training script that imports it is checked again
        net = from_fs_path(str(project / "net.py"))
        _open(client, net, NET)
        await client.diagnostics(net)
        logits = NET.replace("F.softmax(self.fc(x), dim=-1)", "self.fc(x)")
        _replace(client, net, 2, logits)
        await client.diagnostics(net)
        (project / "net.py").write_text(logits, encoding="utf-8")
        client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=net)))
        await client.diagnostics(net)
        seen["import_saved"] = await client.diagnostics(train)

        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return seen


@pytest.mark.slow
def test_the_language_server_over_stdio(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.gradlint]\nignore = ["GL101"]\n', encoding="utf-8")
    (tmp_path / "model.py").write_text("# the saved file; the editor's text differs\n", encoding="utf-8")
    (tmp_path / "net.py").write_text(NET, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())

    seen = asyncio.run(_session(tmp_path))

    assert list(seen["capabilities"].code_action_provider.code_action_kinds) == [types.CodeActionKind.QuickFix]
    error = types.DiagnosticSeverity.Error
    # GL101 is ignored by the project's configuration; the unsaved text is what is checked
    assert _summary(seen["opened"]) == [("GL401", 31, 19, error, "gradlint"), ("GL601", 33, 12, error, "gradlint")]
    assert seen["opened"][0].message.startswith("CrossEntropyLoss receives softmax output")
    assert seen["opened"][0].code_description.href == rule_url("GL401")
    assert seen["opened"][0].code_description.href.endswith("/rules/GL401.md")
    fix, action = seen["actions"]
    assert action.title == "Add `# noqa: GL601` to this line" and action.kind == types.CodeActionKind.QuickFix
    # the fix --fix makes, offered first: applied, the finding is gone
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred and "zero_grad" in fix.title
    fixed_lines = BUGGY.splitlines(keepends=True)
    for text_edit in sorted(fix.edit.changes[from_fs_path(str(tmp_path / "model.py"))],
                            key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start, end = text_edit.range.start, text_edit.range.end
        joined = "".join(fixed_lines)
        offsets = [0]
        for line in fixed_lines:
            offsets.append(offsets[-1] + len(line))
        a, b = offsets[start.line] + start.character, offsets[end.line] + end.character
        fixed_lines = (joined[:a] + text_edit.new_text + joined[b:]).splitlines(keepends=True)
    from gradlint.buffers import Workspace, check_buffer

    after = check_buffer(tmp_path / "model.py", "".join(fixed_lines), Workspace(folders=[tmp_path]))
    assert [f.code for f in after.findings] == ["GL401"]
    (edit,) = action.edit.changes[from_fs_path(str(tmp_path / "model.py"))]
    assert (edit.range.start.line, edit.range.start.character, edit.new_text) == (33, 28, "  # noqa: GL601")
    assert _summary(seen["suppressed"]) == [("GL401", 31, 19, error, "gradlint")]
    assert seen["fixed"] == [] and seen["saved"] == []
    assert seen["settled"] == (5, [], 0)
    (broken,) = seen["broken"]
    assert (broken.range.start.line, broken.range.start.character, broken.severity, broken.message) == (
        1, 6, error, "syntax error: invalid syntax")
    # the model of the training script is read from the project's other file
    (imported,) = seen["imported"]
    assert imported.code == "GL401" and f"at line 11 of {tmp_path / 'net.py'} in Net.forward" in imported.message
    assert seen["import_saved"] == []
    # nothing written: no cache, the saved file untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "model.py").read_text(encoding="utf-8") == "# the saved file; the editor's text differs\n"


def test_checking_a_buffer_imports_no_torch(tmp_path):
    (tmp_path / "model.py").write_text("", encoding="utf-8")
    code = (
        "import sys\nfrom pathlib import Path\n"
        "import gradlint.server\nfrom gradlint.buffers import Workspace, check_buffer\n"
        f"result = check_buffer(Path({str(tmp_path / 'model.py')!r}), {BUGGY!r}, Workspace())\n"
        "print(sorted(f.code for f in result.findings))\n"
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['GL101', 'GL401', 'GL601']\n"


def test_without_pygls_the_server_says_how_to_install_it(tmp_path):
    code = "import sys\nsys.modules['pygls'] = None\nfrom gradlint.cli import main\nmain(['server'])\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 2
    assert done.stderr == "gradlint: error: `gradlint server` needs pygls: pip install 'torch-gradlint[lsp]'\n"
    assert done.stdout == ""


def test_noqa_edits():
    from gradlint.buffers import noqa_edit

    assert noqa_edit("    optimizer.step()", "GL601") == (20, "  # noqa: GL601")
    assert noqa_edit("x = f(y)  # the loss   ", "GL401") == (20, "  # noqa: GL401")
    assert noqa_edit("x = f(y)  # noqa: GL101 why", "GL401") == (23, ", GL401")
    assert noqa_edit("x = f(y)  # noqa: GL4", "GL401") is None
    assert noqa_edit("x = f(y)  # noqa", "GL401") is None


NOTEBOOK = ROOT / "tests" / "fixtures" / "notebooks" / "mnist_training.ipynb"


async def _notebook_session(project: Path) -> dict:
    import json

    client = _Client()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(ls, params: types.PublishDiagnosticsParams) -> None:
        client.queue(params.uri).put_nowait(params)

    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    uri = from_fs_path(str(project / "train.ipynb"))
    cell_uris = [f"vscode-notebook-cell:{project / 'train.ipynb'}#C{n}" for n in range(1, len(cells) + 1)]
    kinds = {"code": types.NotebookCellKind.Code}
    seen: dict = {}
    await client.start_io(sys.executable, "-m", "gradlint", "server", cwd=str(ROOT))
    try:
        reply = await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(notebook_document=types.NotebookDocumentClientCapabilities(
                synchronization=types.NotebookDocumentSyncClientCapabilities())),
            root_uri=from_fs_path(str(project))))
        seen["sync"] = reply.capabilities.notebook_document_sync
        client.initialized(types.InitializedParams())
        client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=uri, notebook_type="jupyter-notebook", version=1,
                cells=[types.NotebookCell(kind=kinds.get(c["cell_type"], types.NotebookCellKind.Markup), document=u)
                       for c, u in zip(cells, cell_uris)]),
            cell_text_documents=[
                types.TextDocumentItem(uri=u, language_id="python" if c["cell_type"] == "code" else "markdown",
                                       version=1, text="".join(c["source"]))
                for c, u in zip(cells, cell_uris)]))
        code = [u for c, u in zip(cells, cell_uris) if c["cell_type"] == "code"]
        seen["opened"] = {u: await client.diagnostics(u) for u in code}
        training = cell_uris[7]
        client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(uri=uri, version=2),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                types.NotebookDocumentCellContentChanges(
                    document=types.VersionedTextDocumentIdentifier(uri=training, version=2),
                    changes=[types.TextDocumentContentChangePartial(
                        range=types.Range(start=types.Position(line=9, character=0),
                                          end=types.Position(line=9, character=0)),
                        text="        optimizer.zero_grad()\n")])]))))
        seen["changed"] = {u: await client.diagnostics(u) for u in code}
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return seen


@pytest.mark.slow
def test_a_notebook_gets_diagnostics_on_its_cells(tmp_path):
    seen = asyncio.run(_notebook_session(tmp_path))
    assert seen["sync"].notebook_selector[0].notebook == "jupyter-notebook"
    by_cell = {uri.rsplit("#C", 1)[1]: _summary(found) for uri, found in seen["opened"].items()}
    error = types.DiagnosticSeverity.Error
    assert by_cell == {
        "2": [], "4": [], "6": [], "7": [], "9": [],
        "8": [("GL401", 8, 15, error, "gradlint"), ("GL601", 10, 8, error, "gradlint")],
    }
    (softmax,) = [d for d in seen["opened"][next(u for u in seen["opened"] if u.endswith("#C8"))] if d.code == "GL401"]
    assert "at line 11 of cell 4 in Net.forward" in softmax.message
    changed = {uri.rsplit("#C", 1)[1]: _summary(found) for uri, found in seen["changed"].items()}
    assert changed["8"] == [("GL401", 8, 15, error, "gradlint")]


def test_positions_count_the_client_s_code_units():
    from pygls.workspace.position_codec import PositionCodec

    from gradlint.server import _position

    line = ["x = '\U0001F600'; y = f(z)\n"]  # y at character 11, an emoji before it
    assert _position(line, 1, 11, PositionCodec(types.PositionEncodingKind.Utf16).client_num_units).character == 11
    assert _position(line, 1, 11, PositionCodec(types.PositionEncodingKind.Utf32).client_num_units).character == 10
    assert _position(line, 1, 11, PositionCodec(types.PositionEncodingKind.Utf8).client_num_units).character == 13


def test_a_buffer_takes_its_own_folder_s_configuration_and_exclusions(tmp_path):
    from gradlint.buffers import Workspace, check_buffer

    (tmp_path / "pyproject.toml").write_text('[tool.gradlint]\nexclude = ["legacy/"]\n', encoding="utf-8")
    (tmp_path / "legacy").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.gradlint]\nignore = ["GL6"]\n', encoding="utf-8")
    workspace = Workspace(folders=[tmp_path])
    assert check_buffer(tmp_path / "legacy" / "model.py", BUGGY, workspace).findings == []
    assert sorted(f.code for f in check_buffer(tmp_path / "model.py", BUGGY, workspace).findings) == ["GL101", "GL401", "GL601"]
    assert sorted(f.code for f in check_buffer(tmp_path / "sub" / "model.py", BUGGY, workspace).findings) == ["GL101", "GL401"]
