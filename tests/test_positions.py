"""gradlint's own position pass gives exactly libcst's PositionProvider spans, at a fraction of the cost."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from gradlint.positions import node_spans

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(
    [*ROOT.glob("tests/corpus/code/*.py"), *ROOT.glob("tests/corpus/models/*.py"), *ROOT.glob("gradlint/**/*.py")]
)[::7] + [ROOT / "examples" / "vanishing_mlp.py"]

TRICKY = '''\
# comment first
@decorator(
    arg,  # trailing
)
class Net(nn.Module):  \\
    pass

x = """multi
line"""; y = (1 +
  2)
if a:
    b = f(
        "é✓", g(h)[0] @ w,
    )
\r
lambda: (yield)
'''


def _reference(module: cst.Module) -> dict:
    spans = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {n: (r.start.line, r.start.column, r.end.line, r.end.column) for n, r in spans.items()}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_spans_match_libcst_on_real_files(path):
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    reference = _reference(module)
    ours = node_spans(module)
    assert {n: ours.get(n) for n in reference} == reference


def test_spans_match_on_odd_layout():
    module = cst.parse_module(TRICKY.replace("lambda: (yield)\n", "def g():\n    lambda: (yield)\n"))
    reference = _reference(module)
    ours = node_spans(module)
    assert {n: ours.get(n) for n in reference} == reference
