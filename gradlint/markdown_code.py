"""The Python of a Markdown file's code blocks, as one script whose lines are the file's.

A library documents how its models are built in its README (``v = ViT(image_size=256, ...)``):
those calls are the sizes its authors mean, and model records may use them where no code of
the tree builds the model. Only fenced blocks tagged ``python``/``py``/``python3`` (or with no
tag) are kept; every other line becomes blank, so that a line of the script is the same line
of the file. A block that does not parse on its own (an excerpt, a shell session, ``...``
placeholders in an argument list) is left out whole.
"""

from __future__ import annotations

import ast
import re

from gradlint.reading import python_lines
from gradlint.yaml_code import CONFIG_SUFFIXES, python_of_yaml

_FENCE = re.compile(r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")
_PYTHON_TAGS = {"", "python", "py", "python3", "pycon"}
_MARKDOWN_SUFFIXES = (".md", ".markdown")
# files read for the models they build, never checked: Markdown's Python, YAML configurations
DOCUMENT_SUFFIXES = (*_MARKDOWN_SUFFIXES, *CONFIG_SUFFIXES)


def _blocks(lines: list[str]) -> list[tuple[int, list[str], str]]:
    """(first line index, the block's lines, its tag) for each fenced block."""
    found = []
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        fence = opened["fence"]
        tag = opened["info"].lower().lstrip("{").rstrip("}")
        start = index + 1
        index = start
        while index < len(lines) and not lines[index].lstrip(" \t").startswith(fence):
            index += 1
        found.append((start, lines[start:index], tag))
        index += 1
    return found


def python_of_markdown(text: str) -> str:
    """The script of ``text``'s Python blocks, with every other line blank."""
    lines = python_lines(text)  # numbered as CPython numbers them: a \u2028 in a string is no line end
    out = [""] * len(lines)
    for start, body, tag in _blocks(lines):
        if tag not in _PYTHON_TAGS or not body:
            continue
        if any(line.startswith(">>>") for line in body):  # a session: prompts kept, output blanked
            body = [line[4:] if line.startswith((">>> ", "... ")) else "" for line in body]
        block = "\n".join(body)
        try:
            ast.parse(block)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        out[start:start + len(body)] = body
    return "\n".join(out)


def python_of_document(path: str, text: str) -> str:
    """The script of a document: a YAML configuration's builds, or Markdown's Python blocks."""
    return python_of_yaml(text) if path.lower().endswith(CONFIG_SUFFIXES) else python_of_markdown(text)

