"""Text-level passes agree with CPython on what a line is, and hostile text gets one line.

CPython ends a line at "\\r\\n", a lone "\\r" or "\\n" and nowhere else; the partial parse,
the statement spans, the positions and the ``noqa`` scan must number lines as its tree
does, whatever the line ends and whatever \\f, \\v, \\x85 or \\u2028 sit in strings and
comments. A file CPython compiles is never a syntax error, a file CPython cannot read gets
one precise line, and a file too large for libcst is refused before libcst sees it.
"""

from __future__ import annotations

import ast
import io
import json
import re
import time
import tokenize
from functools import lru_cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint import check_file, engine, reading
from gradlint.cli import main
from gradlint.config import Config
from gradlint.reading import cpython_newlines, decode_source, lines_and_ends, python_lines
from gradlint.source import SourceFile
from gradlint.suppression import parse_suppressions

TESTS = Path(__file__).parent
CORPORA = [TESTS / "corpus", TESTS / "fixtures"]
ODD = "\x0c\x0b\x85\u2028\u2029\x1c\x1d\x1e"  # line ends to str.splitlines, not to CPython

SIGMOIDS = """\
import torch.nn as nn

TABLE = [
    1,
    2,
    3,
]


def helper(a):
    b = a + 1
    c = b * 2
    return c


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        for _ in range(12):
            layers += [nn.Linear(64, 64), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
"""
SIGMOIDS_LINE = 21  # the finding's line: the list of layers


def _check(folder: Path, name: str, *args: str) -> tuple[int, list, list]:
    result = CliRunner().invoke(
        main, ["check", "--no-cache", "--format", "json", *args, name], catch_exceptions=False
    )
    report = json.loads(result.stdout)
    findings = [(f["code"], f["line"], f["column"]) for f in report["findings"]]
    return result.exit_code, findings, [e["message"] for e in report["errors"]]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _ends(text: str, kind: str) -> str:
    lines = python_lines(text)
    if kind == "lf":
        return "\n".join(lines)
    if kind == "crlf":
        return "\r\n".join(lines)
    if kind == "cr":
        return "\r".join(lines)
    if kind == "mixed":
        out, previous = [], ""
        for number, line in enumerate(lines[:-1]):
            end = ("\n", "\r\n", "\r")[number % 3]
            if previous == "\r" and not line and end == "\n":
                end = "\r\n"  # "\r" and the next line's "\n" would be one line end
            out.append(line + end)
            previous = end
        return "".join(out) + lines[-1]
    assert kind == "odd"  # the characters str.splitlines splits at, in every comment
    ends = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            ends[token.end[0]] = token.end[1]
    for number, column in ends.items():
        lines[number - 1] = lines[number - 1][:column] + ODD + lines[number - 1][column:]
    return "\n".join(lines)


def _report(folder: Path) -> tuple[list, list, list]:
    outcome = engine.run([folder], Config(root=folder), jobs=1)
    root = str(folder)

    def where(path: str) -> str:
        return Path(path).relative_to(folder).as_posix()

    findings = sorted(
        (where(f.location.path), f.code, f.location.line, f.location.column,
         f.location.end_line, f.location.end_column, f.message.replace(root, "<root>"))
        for f in outcome.findings
    )
    errors = sorted((where(e.path), e.message) for e in outcome.errors)
    models = sorted((where(m.path), m.name, m.line) for m in outcome.models)
    return findings, errors, models


# Statements no rule reads, after every line of a file: what the partial parse leaves out
# then lies below every line end of the file.
UNREAD = """

TABLE = {
    "a": 1,
    "b": 2,
}


def _unread_helper(value):
    total = value + 1
    return total * 2
"""


def _corpora_report(tmp_path: Path, kind: str) -> tuple[list, list, list]:
    folder = tmp_path / kind
    for corpus in CORPORA:
        for path in corpus.rglob("*.py"):
            copy = folder / corpus.name / path.relative_to(corpus)
            copy.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="utf-8").rstrip("\n") + "\n" + UNREAD
            copy.write_bytes(_ends(text, kind).encode("utf-8"))
    return _report(folder)


@lru_cache(maxsize=1)
def _lf_report(tmp: str) -> tuple[list, list, list]:
    return _corpora_report(Path(tmp), "lf")


# Each kind checks both corpora and every fixture twice, about ten seconds: "mixed", which
# holds the three line ends, runs in the fast set; the other kinds with the slow tests.
@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, marks=pytest.mark.slow) for k in ("crlf", "cr")]
    + ["mixed", pytest.param("odd", marks=pytest.mark.slow)],
)
def test_every_line_end_gives_the_lf_report_with_and_without_partial_parses(
    kind, tmp_path_factory, monkeypatch
):
    expected = _lf_report(str(tmp_path_factory.getbasetemp() / "lf-corpora"))
    assert len(expected[0]) > 50 and len(expected[2]) > 100 and not expected[1]
    partial = []
    real = SourceFile.parse_partial.__func__

    def parse_partial(cls, *args):
        partial.append(args[0])
        return real(cls, *args)

    monkeypatch.setattr(SourceFile, "parse_partial", classmethod(parse_partial))
    assert _corpora_report(tmp_path_factory.mktemp(kind), kind) == expected
    assert len(partial) > 30  # the partial parse did take part
    monkeypatch.setattr(check_file, "_left_out", lambda *args: [])
    assert _corpora_report(tmp_path_factory.mktemp(f"{kind}-whole"), kind) == expected


def test_lines_are_numbered_as_cpython_numbers_them():
    text = (
        f'import torch  # a{ODD}b\rx = "{ODD}"\ny = """\r{ODD}\r\n"""\rz = x\n'
        f"def f(a):  # {ODD}\r\n    return a\x0c+ x\r\n\n\rw = f(z)"
    )
    lines = python_lines(text)
    names = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Name)]
    assert max(node.lineno for node in names) == len(lines) == 11
    for node in names:
        line = lines[node.lineno - 1].encode("utf-8")
        assert line[node.col_offset:node.end_col_offset].decode() == node.id
    parts, ends = lines_and_ends(text)
    assert parts == lines and "".join(p + e for p, e in zip(parts, ends)) == text
    assert len(text.splitlines()) > len(lines)


def test_lone_cr_above_a_helper_masks_nothing_of_the_model(folder):
    """The partial parse counted lines at "\\n" only: the helper's lines fell inside the
    model's __init__ and the masked text no longer parsed."""
    for kind in ("lf", "cr", "crlf", "mixed"):
        (folder / f"{kind}.py").write_bytes(_ends(SIGMOIDS, kind).encode())
        assert _check(folder, f"{kind}.py") == (1, [("GL101", SIGMOIDS_LINE, 24)], []), kind
    table_only = SIGMOIDS.replace("[\n    1,\n    2,\n    3,\n]", "[\r    1,\r    2,\r    3,\r]")
    (folder / "table.py").write_bytes(table_only.encode())
    assert _check(folder, "table.py") == (1, [("GL101", SIGMOIDS_LINE, 24)], [])


def test_noqa_comments_after_lone_cr_line_ends_sit_on_their_lines(folder):
    text = SIGMOIDS.replace("nn.Sequential(*layers)", "nn.Sequential(*layers)  # noqa: GL101")
    for kind in ("lf", "cr", "mixed"):
        (folder / "m.py").write_bytes(_ends(text, kind).encode())
        stale = ("GL001", SIGMOIDS_LINE + 1, 44)
        assert _check(folder, "m.py") == (1, [("GL101", SIGMOIDS_LINE, 24), stale], []), kind
    broken = f"x = 1  # {ODD}\ry = '''\r# noqa: GL1\rz = 2  # noqa: GL6\r"
    assert sorted(parse_suppressions(broken).by_line) == [3, 4]


def test_odd_characters_in_a_string_do_not_split_the_line_a_model_is_built_on(folder):
    text = SIGMOIDS.replace("def __init__(self):", "def __init__(self, depth):")
    text = text.replace("range(12)", "range(depth)")
    text += '\n\nnote, model = "see\u2028class Deep", Deep(12)\n'
    (folder / "m.py").write_text(text, encoding="utf-8")
    assert _check(folder, "m.py") == (1, [("GL101", SIGMOIDS_LINE, 24)], [])


@pytest.mark.parametrize(
    "tail",
    [
        "\\\r\n",  # a backslash and CRLF end the file
        "x = 1 \\\r\n",
        "x = 1\r\n    \\\r\n",
        "x = (1,\r\n     2) \\\r\n",
        "print(Deep) \\\r\n",
    ],
)
def test_a_backslash_and_crlf_that_cpython_accepts_is_no_syntax_error(folder, tail):
    text = _ends(SIGMOIDS, "crlf") + tail
    compile(text, "m.py", "exec")
    (folder / "m.py").write_bytes(text.encode())
    assert _check(folder, "m.py") == (1, [("GL101", SIGMOIDS_LINE, 24)], [])
    (folder / "m.py").write_bytes(text.replace("\r\n", "\n").encode())  # CPython refuses
    code, findings, errors = _check(folder, "m.py")
    assert (code, findings) == (1, []) and errors[0].startswith("syntax error: "), errors


def test_the_text_libcst_retries_is_the_text_cpython_reads():
    assert cpython_newlines("a\r\nb\rc\n") == "a\nb\nc\n"
    assert cpython_newlines("a\r\n") == "a\n\n"  # CPython's translate_newlines adds one
    assert cpython_newlines("a\n") == "a\n"


def test_valid_python_libcst_cannot_parse_is_not_called_a_syntax_error(folder):
    text = SIGMOIDS + "if TABLE:\n    \\\n    y = 2\n"
    compile(text, "m.py", "exec")
    (folder / "m.py").write_text(text)
    code, findings, errors = _check(folder, "m.py")
    assert (code, findings) == (1, [])
    assert len(errors) == 1
    assert errors[0].startswith("cannot analyse: libcst cannot parse this valid Python (")


WIDE = (
    "UTF-{} text; Python source must be UTF-8 or an ASCII-compatible encoding declared by a "
    "coding comment (PEP 263); skipped"
)


@pytest.mark.parametrize(
    ("encoding", "width"),
    [("utf-16", "16"), ("utf-16-le", "16"), ("utf-16-be", "16"), ("utf-32", "32")],
)
def test_utf16_and_utf32_files_are_named_not_called_binary(folder, encoding, width):
    (folder / "m.py").write_bytes(SIGMOIDS.replace("\n", "\r\n").encode(encoding))
    assert _check(folder, "m.py") == (1, [], [WIDE.format(width)])


def test_binary_files_are_still_binary():
    binary = re.escape("binary file (contains NUL bytes); skipped")
    for data in (b"\x7fELF\x02\x01\x00\x00" * 64, b"ab\x00c", bytes(range(256)) * 4):
        with pytest.raises(ValueError, match=binary):
            decode_source(data)
    assert decode_source("x = 'é'\n".encode("utf-8-sig")) == "x = 'é'\n"


def _sequential(layers: int) -> str:
    return (
        "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.net = nn.Sequential(\n"
        + "   nn.ReLU(),\n" * layers
        + "        )\n\n    def forward(self, x):\n        return self.net(x)\n"
    )


def test_a_file_over_the_node_limit_is_one_line_before_libcst_parses_it(folder, monkeypatch):
    monkeypatch.setattr(reading, "MAX_SYNTAX_NODES", 20_000)
    (folder / "over.py").write_text(_sequential(5_000))  # 25,000 nodes
    (folder / "under.py").write_text(_sequential(3_000))
    import libcst

    parsed = []
    real = libcst.parse_module

    def parse_module(text, *args):
        parsed.append(len(text))
        return real(text, *args)

    monkeypatch.setattr(libcst, "parse_module", parse_module)
    message = "too large to analyse: more than 20,000 syntax nodes; skipped"
    assert _check(folder, "over.py") == (1, [], [message])
    assert not parsed
    assert _check(folder, "under.py") == (0, [], [])
    assert parsed


def test_the_real_node_limit_refuses_a_dense_file_quickly(folder):
    (folder / "m.py").write_text(_sequential(60_000))  # 300,000 nodes in 840 KB
    start = time.perf_counter()
    message = f"too large to analyse: more than {reading.MAX_SYNTAX_NODES:,} syntax nodes; skipped"
    assert _check(folder, "m.py") == (1, [], [message])
    assert time.perf_counter() - start < 30  # libcst alone took about 10 s and 1.2 GB here
