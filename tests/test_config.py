"""[tool.gradlint]: discovery, selection by prefix, per-file ignores and rule options."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gradlint.config import (
    Config,
    ConfigError,
    _check_option_types,
    enabled_rules,
    find_config_file,
    ignored_for_file,
    is_excluded,
    load_config,
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_nearest_pyproject_with_a_gradlint_table_wins(tmp_path):
    outer = _write(tmp_path / "pyproject.toml", "[tool.gradlint]\nignore = ['GL001']\n")
    _write(tmp_path / "pkg" / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    model = _write(tmp_path / "pkg" / "sub" / "model.py", "x = 1\n")
    assert find_config_file(model) == outer
    inner = _write(tmp_path / "pkg" / "pyproject.toml", "[tool.gradlint]\n")
    assert find_config_file(model) == inner
    # several paths: the folder they share
    other = _write(tmp_path / "other" / "x.py", "x = 1\n")
    assert find_config_file([model, other]) == outer


def test_values_are_read_and_normalised(tmp_path):
    path = _write(
        tmp_path / "pyproject.toml",
        """
        [tool.gradlint]
        select = ["gl0", "all"]
        extend-ignore = ["GL001"]
        exclude = ["legacy/"]
        cache-dir = ".cache/gl"
        jobs = 3
        max-file-size = 1000

        [tool.gradlint.per-file-ignores]
        "tests/*" = ["GL0"]
        """,
    )
    config = load_config(path)
    assert config.select == ["GL0", "ALL"] and config.ignore == ["GL001"]
    assert config.root == tmp_path.resolve()
    assert Path(config.cache_dir) == tmp_path.resolve() / ".cache/gl"
    assert config.jobs == 3 and config.max_file_size == 1000
    assert ignored_for_file(str(tmp_path / "tests" / "test_x.py"), config) == ["GL0"]
    assert ignored_for_file(str(tmp_path / "src" / "x.py"), config) == []
    assert is_excluded(tmp_path / "legacy" / "old.py", config)
    assert not is_excluded(tmp_path / "src" / "old.py", config)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[tool.gradlint]\nselect = ['GL9']\n", "unknown rule code or prefix 'GL9'"),
        ("[tool.gradlint]\nunknown-key = 1\n", "unknown key(s)"),
        ("[tool.gradlint]\njobs = 0\n", "'jobs' must be a positive integer"),
        ("[tool.gradlint]\nper-file-ignores = ['x']\n", "per-file-ignores"),
        ("[tool.gradlint.options.GL001]\nx = 1\n", "GL001 (unused-noqa) has no option x"),
        ("[tool.gradlint.options.no-such-rule]\nx = 1\n", "options for unknown rule"),
    ],
)
def test_mistakes_are_config_errors(tmp_path, text, message):
    path = _write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError, match=None) as caught:
        load_config(path)
    assert message in str(caught.value)


def test_dedicated_file_without_tool_table(tmp_path):
    path = _write(tmp_path / "gradlint.toml", "ignore = ['GL001']\n")
    assert load_config(path).ignore == ["GL001"]
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def _own(config: Config) -> list[str]:
    return [r.code for r in enabled_rules(config) if r.code.startswith("GL0")]


def test_more_specific_selector_wins():
    assert _own(Config()) == ["GL001"]
    assert _own(Config(select=["ALL"], ignore=["GL0"])) == []
    assert _own(Config(select=["GL001"], ignore=["GL0"])) == ["GL001"]
    assert _own(Config(select=["GL0"], ignore=["GL001"])) == []
    assert _own(Config(select=[], extend_select=["GL0"])) == ["GL001"]
    assert enabled_rules(Config(select=["GL001"]))[0].code == "GL001"
    assert len(enabled_rules(Config(select=["GL001"]))) == 1


def test_option_values_keep_their_default_type(tmp_path):
    class Rule:  # the shape of a rule's metadata, without registering one
        code = "GL900"
        options = {"max-depth": 8, "threshold": 0.5, "strict": False, "ranges": {}}  # noqa: RUF012

    _check_option_types(Rule, {"max-depth": 12, "threshold": 1, "strict": True, "ranges": {"SGD": [0, 1]}}, tmp_path)
    for bad in ({"max-depth": "12"}, {"max-depth": True}, {"strict": 1}, {"ranges": []}):
        with pytest.raises(ConfigError, match="must be"):
            _check_option_types(Rule, bad, tmp_path)


def test_fingerprint_follows_what_changes_results():
    base = Config()
    assert base.fingerprint() == Config().fingerprint()
    assert Config(ignore=["GL001"]).fingerprint() != base.fingerprint()
    assert Config(options={"GL001": {}}).fingerprint() != base.fingerprint()
    assert Config(exclude=["x"]).fingerprint() == base.fingerprint()
