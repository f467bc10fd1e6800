"""Colour on a terminal, decided as ruff decides it, and the few styles the reports use."""

from __future__ import annotations

import os
from collections.abc import Mapping

_CODES = {"bold": "1", "red": "1;31", "yellow": "1;33", "cyan": "1;36", "blue": "1;34", "green": "1;32"}
SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}


def use_color(choice: str, is_tty: bool, environ: Mapping[str, str] | None = None) -> bool:
    """``always`` and ``never`` win; ``auto`` follows FORCE_COLOR and CLICOLOR_FORCE (on),
    then NO_COLOR or CLICOLOR=0 (off), then whether the report goes to a terminal."""
    if choice != "auto":
        return choice == "always"
    env = os.environ if environ is None else environ
    if env.get("FORCE_COLOR", ""):
        return True
    if env.get("CLICOLOR_FORCE", "0") != "0":
        return True
    if "NO_COLOR" in env or env.get("CLICOLOR") == "0":
        return False
    return is_tty


class Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        return f"\x1b[{_CODES[style]}m{text}\x1b[0m"
