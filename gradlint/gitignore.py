"""Which paths git ignores: the ``.gitignore`` files from the repository's root down to a
path's folder and ``.git/info/exclude``, read as git reads them (``gitignore(5)``), without
running git, under the user's global excludes file; and, over them, ``.ignore`` files, as
ruff reads them.

As in ruff, git's files count only inside a git repository (a folder with a ``.git`` beside
it, a folder or a worktree's file); a nested repository starts afresh. A later pattern
overrides an earlier one and a deeper file a shallower one; a path inside an ignored folder
stays ignored whatever a negation says, because the walk never enters that folder and an
explicit path is checked folder by folder from the root (``ignored_with_parents``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from gradlint.bounded import read_bytes

_MAX_IGNORE_FILE = 1024 * 1024


@dataclass(frozen=True)
class IgnoreRule:
    base: str  # the folder the pattern is relative to
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def parse_line(line: str, base: str) -> IgnoreRule | None:
    """One line of an ignore file as a rule, or None for a blank line or a comment."""
    line = line.rstrip("\r\n")
    if not line or line.startswith("#"):
        return None
    line = _strip_trailing_spaces(line)
    negated = line.startswith("!")
    if negated or line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/") and not line.endswith("\\/")
    if dir_only:
        line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    body = _translate(line)
    if not anchored:
        body = "(?:.*/)?" + body
    return IgnoreRule(base, re.compile(f"^{body}$", re.DOTALL), negated, dir_only)


def _strip_trailing_spaces(line: str) -> str:
    """Trailing spaces go, unless a backslash escapes them (it keeps one)."""
    stripped = line.rstrip(" ")
    if stripped != line and stripped.endswith("\\") and not stripped.endswith("\\\\"):
        return stripped + " "
    return stripped


def _translate(pattern: str) -> str:
    """A wildmatch pattern (git's, with slashes that only ``**`` crosses) as a regex."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "*":
            stars = i
            while i < n and pattern[i] == "*":
                i += 1
            double = i - stars >= 2
            at_start = stars == 0 or pattern[stars - 1] == "/"
            at_end = i == n or pattern[i] == "/"
            if double and at_start and at_end:
                if i == n:  # "x/**": everything inside; "**" alone: everything
                    out.append(".*")
                else:  # "**/x" and "x/**/y": any number of folders, none included
                    out.append("(?:.*/)?")
                    i += 1  # the slash is part of what "**/" matches
            else:
                out.append("[^/]*")
            continue
        if char == "?":
            out.append("[^/]")
        elif char == "[":
            end, klass = _bracket(pattern, i)
            if klass is None:
                out.append(re.escape(char))
            else:
                out.append(klass)
                i = end
        elif char == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


_CLASSES = {
    "alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "blank": " \\t", "digit": "0-9", "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v", "upper": "A-Z", "xdigit": "0-9a-fA-F", "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
}


def _bracket(pattern: str, start: int) -> tuple[int, str | None]:
    """The regex class of the bracket expression at ``start`` and the index of its ``]``;
    None when it is not closed (then ``[`` is a plain character, as in git)."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    parts: list[str] = []
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            body = "".join(parts)
            return i, f"[^/{body}]" if negate else f"(?!/)[{body}]"
        first = False
        if char == "[" and pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            name = pattern[i + 2 : close] if close > 0 else ""
            if name in _CLASSES:
                parts.append(_CLASSES[name])
                i = close + 2
                continue
        if char == "\\" and i + 1 < len(pattern):
            i += 1
            char = pattern[i]
        if char == "-" and parts and i + 1 < len(pattern) and pattern[i + 1] != "]":
            parts.append("-")
        else:
            parts.append(re.escape(char))
        i += 1
    return start, None


def rules_of_file(path: str, base: str) -> list[IgnoreRule]:
    return [rule for line in _lines_of(path) if (rule := parse_line(line, base)) is not None]


def _lines_of(path: str) -> list[str]:
    try:
        return read_bytes(path, _MAX_IGNORE_FILE).decode("utf-8", errors="surrogateescape").split("\n")
    except OSError:
        return []


def global_excludes_file() -> str | None:
    """Where git reads the user's excludes: ``core.excludesFile`` of the user's git
    configuration, else ``$XDG_CONFIG_HOME/git/ignore`` (``~/.config/git/ignore``)."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    configured = None
    for config in (os.path.join(config_home, "git", "config"), os.path.expanduser("~/.gitconfig")):
        configured = _core_excludes_file(config) or configured  # ~/.gitconfig is read last
    return os.path.expanduser(configured) if configured else os.path.join(config_home, "git", "ignore")


def _core_excludes_file(config: str) -> str | None:
    """``core.excludesFile`` as one git configuration file sets it (the last setting wins)."""
    found, section = None, ""
    for line in _lines_of(config):
        line = line.strip()
        if line.startswith("["):
            section = line[1 : line.find("]")].strip().lower() if "]" in line else ""
        elif section == "core" and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if key.lower() == "excludesfile":
                value = re.split(r"\s[#;]", value, maxsplit=1)[0].strip()
                found = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return found


def _git_dir(folder: str) -> str | None:
    """The folder's repository data (``.git``, or where a worktree's ``.git`` file points),
    or None when ``folder`` is not the top of a repository."""
    dot_git = os.path.join(folder, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    if not os.path.isfile(dot_git):
        return None
    try:
        text = read_bytes(dot_git, 4096).decode("utf-8", errors="replace")
    except OSError:
        return dot_git  # a repository all the same: its exclude file is out of reach
    if not text.startswith("gitdir:"):
        return dot_git
    git_dir = os.path.join(folder, text[len("gitdir:"):].strip())
    try:  # a worktree shares the main repository's info/exclude
        common = read_bytes(os.path.join(git_dir, "commondir"), 4096).decode("utf-8", errors="replace").strip()
        return os.path.normpath(os.path.join(git_dir, common))
    except OSError:
        return git_dir


class GitIgnore:
    """The ignore rules of each folder, read once per run."""

    def __init__(self) -> None:
        self._rules: dict[str, list[IgnoreRule] | None] = {}
        self._dot_ignore: dict[str, list[IgnoreRule]] = {}
        self._global_lines: list[str] | None = None

    def _global(self, top: str) -> list[IgnoreRule]:
        """The user's global excludes file (``core.excludesFile``), for the repository at ``top``."""
        if self._global_lines is None:
            path = global_excludes_file()
            self._global_lines = [] if path is None else _lines_of(path)
        return [rule for line in self._global_lines if (rule := parse_line(line, top)) is not None]

    def rules(self, folder: str) -> list[IgnoreRule] | None:
        """The git rules that apply inside ``folder`` (absolute), lowest precedence first;
        None outside any repository."""
        for current in _uncached(folder, self._rules):  # from the top down, without recursion
            git_dir = _git_dir(current)
            if git_dir is not None:
                found: list[IgnoreRule] | None = self._global(current)
                found += rules_of_file(os.path.join(git_dir, "info", "exclude"), current)
            else:
                above = self._rules.get(os.path.dirname(current))
                found = None if above is None else list(above)
            if found is not None:
                found.extend(rules_of_file(os.path.join(current, ".gitignore"), current))
            self._rules[current] = found
        return self._rules[folder]

    def dot_ignore_rules(self, folder: str) -> list[IgnoreRule]:
        """The rules of the ``.ignore`` files (ripgrep's, which ruff reads too) from the top
        of the file system down to ``folder``: in a repository or not, and over git's."""
        for current in _uncached(folder, self._dot_ignore):
            found = list(self._dot_ignore.get(os.path.dirname(current), ()))
            found.extend(rules_of_file(os.path.join(current, ".ignore"), current))
            self._dot_ignore[current] = found
        return self._dot_ignore[folder]

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether ``path`` (absolute) itself is ignored; its folders are not looked at."""
        folder = os.path.dirname(path)
        for rules in (self.dot_ignore_rules(folder), self.rules(folder) or ()):
            verdict = _last_match(rules, path, is_dir)
            if verdict is not None:
                return verdict
        return False

    def ignored_with_parents(self, path: str, is_dir: bool) -> bool:
        """Whether ``path`` (absolute) or a folder it lies in (up to its repository's top)
        is ignored."""
        top = os.path.dirname(path)
        folders = []
        while _git_dir(top) is None:
            folders.append(top)
            parent = os.path.dirname(top)
            if parent == top:
                break
            top = parent
        return any(self.ignored(f, True) for f in reversed(folders)) or self.ignored(path, is_dir)


def _uncached(folder: str, cache: dict) -> list[str]:
    """``folder`` and the folders above it that ``cache`` lacks, the topmost first."""
    missing = []
    current = folder
    while current not in cache:
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return missing[::-1]


def _last_match(rules: list[IgnoreRule], path: str, is_dir: bool) -> bool | None:
    """The verdict of the last rule that matches ``path``: ignored, kept, or None (no rule)."""
    verdict = None
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(os.path.relpath(path, rule.base).replace(os.sep, "/")):
            verdict = not rule.negated
    return verdict
