"""The options of `gradlint check` that shape its output, and the report they ask for."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from gradlint.diagnostics import RunResult
from gradlint.reporters import ALIASES, DEFAULT_FORMAT, FORMATS, ReportContext, render
from gradlint.reporters.style import use_color

_OPTIONS = (
    click.option("--output-format", "output_format", type=click.Choice(FORMATS + tuple(ALIASES)),
                 envvar="GRADLINT_OUTPUT_FORMAT", show_envvar=True,
                 help=f"How to print findings (default: {DEFAULT_FORMAT}; `concise` is one line each)."),
    click.option("--format", "format_alias", type=click.Choice(FORMATS + tuple(ALIASES)), hidden=True,
                 help="The former name of --output-format (`text` is `full`)."),
    click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto",
                 show_default=True, help="Colour (auto: on a terminal; NO_COLOR and FORCE_COLOR are honoured)."),
    click.option("--statistics", is_flag=True, help="Count the findings of each code instead of listing them."),
    click.option("--quiet", "-q", is_flag=True, help="Print the findings and nothing else (no summary)."),
    click.option("--silent", "-s", is_flag=True, help="Print nothing; the exit code still tells."),
)


def output_options(command):
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


@dataclass
class Output:
    fmt: str
    color: str
    statistics: bool
    quiet: bool
    silent: bool

    @classmethod
    def from_options(cls, options: dict) -> Output:
        fmt = options["output_format"] or options["format_alias"] or DEFAULT_FORMAT
        return cls(ALIASES.get(fmt, fmt), options["color"], options["statistics"],
                   options["quiet"] or options["silent"], options["silent"])

    def problems(self, outcome: RunResult) -> list[str]:
        """The run's warnings and the files it could not check, one line each (stderr)."""
        if self.silent:
            return []
        lines = [f"gradlint: warning: {w}" for w in outcome.warnings]
        return lines + [f"{e.where()}: error: {e.message}" for e in outcome.errors]

    def report(self, outcome: RunResult, show_models: bool, to_terminal: bool,
               sources: dict[str, str] | None = None) -> str:
        if self.silent:
            return ""
        context = ReportContext(
            show_models=show_models, color=use_color(self.color, to_terminal and sys.stdout.isatty()),
            quiet=self.quiet, statistics=self.statistics, sources=sources or {},
        )
        return render(self.fmt, outcome, context)
