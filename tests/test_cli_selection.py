"""The command line with real rules firing: selection, noqa, per-file ignores and options on GL6xx."""

from __future__ import annotations

import json
import textwrap

# GL601: the loop never clears the gradients it accumulates.
TRAIN = textwrap.dedent(
    """\
    import torch

    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = torch.nn.MSELoss()


    def fit(X, y, epochs=100):
        for epoch in range(epochs):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
    """
)


def _codes(cli, folder, *args):
    result = cli("check", "--no-cache", "--format", "json", *args, cwd=folder)
    assert result.returncode in (0, 1), result.stderr
    return sorted({(f["path"], f["code"]) for f in json.loads(result.stdout)["findings"]})


def test_selection_by_code_and_prefix(cli, tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    assert ("train.py", "GL601") in _codes(cli, tmp_path)
    assert ("train.py", "GL601") in _codes(cli, tmp_path, "--select", "GL6")
    assert _codes(cli, tmp_path, "--select", "GL4,GL5") == []
    assert ("train.py", "GL601") not in _codes(cli, tmp_path, "--ignore", "GL601")
    assert ("train.py", "GL601") in _codes(cli, tmp_path, "--select", "GL5", "--extend-select", "GL601")


def test_noqa_suppresses_and_a_stale_one_is_reported(cli, tmp_path):
    lines = TRAIN.splitlines()
    suppressed = "\n".join(line + ("  # noqa: GL601" if "optimizer.step()" in line else "") for line in lines) + "\n"
    (tmp_path / "train.py").write_text(suppressed)
    findings = _codes(cli, tmp_path, "--select", "GL0,GL6")
    assert ("train.py", "GL601") not in findings and ("train.py", "GL001") not in findings
    stale = suppressed.replace("import torch\n", "import torch  # noqa: GL601\n", 1)
    (tmp_path / "train.py").write_text(stale)
    assert ("train.py", "GL001") in _codes(cli, tmp_path, "--select", "GL0,GL6")


def test_config_file_selection_per_file_ignores_and_options(cli, tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "train.py").write_text(TRAIN)
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.gradlint]
            select = ["GL6"]

            [tool.gradlint.per-file-ignores]
            "scripts/*" = ["GL601"]

            [tool.gradlint.options.GL606]
            lr-ranges = { SGD = [1e-4, 0.1] }
            """
        )
    )
    findings = _codes(cli, tmp_path)
    assert ("train.py", "GL601") in findings and ("scripts/train.py", "GL601") not in findings
    # the option reached the rule: lr=0.5 is out of the configured SGD range
    assert ("train.py", "GL606") in findings and ("scripts/train.py", "GL606") in findings
    # the command line overrides the file
    assert _codes(cli, tmp_path, "--select", "GL601") == [("train.py", "GL601")]
