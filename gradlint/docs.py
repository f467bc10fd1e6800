"""Rule documentation: ``rules/<CODE>.md``, written once, read by `gradlint rule`, SARIF and the tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from gradlint import REPOSITORY

# Where each rule's page is published: the one place that names it (JSON `url`, SARIF
# `helpUri`, the `help:` line of the full output).
RULE_DOCS_URL = REPOSITORY + "/blob/main/rules/{code}.md"

REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")
ALL_SECTIONS = REQUIRED_SECTIONS + ("Fix safety", "Known problems", "Options")
_FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def rule_url(code: str) -> str:
    return RULE_DOCS_URL.format(code=code)


def rules_dir() -> Path:
    """Shipped inside the wheel as gradlint/_rules; in a source checkout, the top-level rules/."""
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    return packaged if packaged.is_dir() else here.parent / "rules"


@dataclass
class RuleDoc:
    code: str
    name: str
    text: str
    sections: dict[str, str] = field(default_factory=dict)

    @property
    def what_it_does(self) -> str:
        return self.sections.get("What it does", "").strip()

    @property
    def bad_examples(self) -> list[str]:
        return _FENCE.findall(self.sections.get("Example", ""))

    @property
    def good_examples(self) -> list[str]:
        return _FENCE.findall(self.sections.get("Use instead", ""))


def parse_doc(text: str) -> RuleDoc:
    title = re.search(r"^#\s+(GL\d{3}):\s*([a-z0-9-]+)\s*$", text, re.MULTILINE)
    if title is None:
        raise ValueError("a rule page starts with '# GLxxx: rule-name'")
    sections: dict[str, str] = {}
    parts = re.split(r"^##\s+(.+?)\s*$", text, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2]):
        sections[heading] = body.strip() + "\n"
    return RuleDoc(code=title.group(1), name=title.group(2), text=text, sections=sections)


@cache
def load_doc(code: str) -> RuleDoc | None:
    path = rules_dir() / f"{code}.md"
    try:
        return parse_doc(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
