"""The command line: `gradlint check`, `gradlint rule`, `gradlint clean`, `gradlint server` and
`gradlint probe`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from gradlint import __version__
from gradlint.cli_output import Output, output_options
from gradlint.config import (
    ConfigError,
    find_config_file,
    load_config,
    select_selection,
    validate_selector,
)
from gradlint.diagnostics import FileError
from gradlint.fixes.command import FixOptions, apply_fix_options, fix_options
from gradlint.probe.command import probe_command


def _codes(values: tuple[str, ...]) -> list[str]:
    codes: list[str] = []
    for value in values:
        for code in value.split(","):
            code = code.strip().upper()
            if code:
                codes.append(code)
    return codes


def _fail(message: str) -> None:
    click.echo(f"gradlint: error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="gradlint")
def main() -> None:
    """Find what makes a PyTorch model's gradients vanish, explode or stop."""


def _override(select, ignore, extend_select, onnx_init_checks, cache_dir, respect_gitignore, model_records=True):
    """The command line over each file's configuration, as in ruff: a --select starts afresh."""
    select, ignore, extend_select = _codes(select), _codes(ignore), _codes(extend_select)
    for selector in select + ignore + extend_select:
        validate_selector(selector)

    def apply(config) -> None:
        select_selection(config, select or None, ignore, extend_select)
        if onnx_init_checks is not None:
            config.onnx_init_checks = onnx_init_checks == "on"
        if cache_dir is not None:
            config.cache_dir = str(cache_dir)
        if respect_gitignore is not None:
            config.respect_gitignore = respect_gitignore
        config.model_records = model_records

    return apply


@main.command()
# readable=False: a file that cannot be read is the check's one-line error, not a usage error
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--select", multiple=True, help="Codes or prefixes to enable (GL6, GL601, ALL).")
@click.option("--ignore", multiple=True, help="Codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Codes or prefixes to enable on top of the selection.")
@output_options
@click.option("--output-file", "-o", type=click.Path(path_type=Path), help="Write the report here instead of stdout.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="One pyproject.toml or gradlint.toml for every file.")
@click.option("--isolated", is_flag=True, help="Read no configuration file.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None, help="Skip what git ignores (default: on).")
@click.option("--show-settings", type=click.Path(path_type=Path), help="Print the settings that apply to this file.")
@click.option("--show-files", is_flag=True, help="List the files that would be checked, and check none.")
@click.option("--stdin-filename", type=click.Path(path_type=Path), help="Check standard input as if it were this file.")
@click.option("--show-models", is_flag=True, help="Print each model's static gradient estimate (full and concise output).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: the number of cores).")
@click.option("--no-cache", is_flag=True, help="Check every file afresh; neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Where to keep results between runs (default: .gradlint_cache).")
@click.option("--force-exclude", is_flag=True, help="Apply 'exclude' to files named on the command line too (for pre-commit).")
@click.option("--no-filters", is_flag=True, hidden=True,
              help="Parse every file whole and run every rule on it (slow; to test the planner).")
@click.option("--onnx-init-checks", type=click.Choice(["on", "off"]), help="Initialisation checks on ONNX weights (off for trained checkpoints).")
@fix_options
def check(paths, select, ignore, extend_select, output_file, exit_zero, config_path, isolated, respect_gitignore,
          show_settings, show_files, stdin_filename, show_models, jobs, no_cache, cache_dir, force_exclude, no_filters,
          onnx_init_checks, **output_settings):
    """Check Python files, notebooks, folders and .onnx graphs (default: the current folder; - reads
    standard input)."""
    from gradlint.engine import run
    from gradlint.resolve import Resolver

    from_stdin = stdin_filename is not None or paths == ("-",)
    fixes = FixOptions.take(output_settings)
    if from_stdin and (fixes.fixing or fixes.add_noqa):
        _fail("--fix, --diff and --add-noqa edit files; they do not read standard input")
    if isolated and config_path is not None:
        _fail("--isolated reads no configuration file: it cannot go with --config")
    if "-" in paths and not from_stdin:
        _fail("'-' (standard input) cannot be checked together with other paths")
    if stdin_filename is not None and any(p != "-" for p in paths):
        click.echo("gradlint: warning: paths are ignored: --stdin-filename reads standard input", err=True)
    # Path("") is the current folder: an empty argument (an unset variable) must not check it
    targets = [Path(p) for p in paths if p] or ([] if paths else [Path(".")])
    try:
        # blocks built only for model records are built when the report shows the records
        records = show_models or Output.from_options(output_settings).fmt == "json"
        override = _override(select, ignore, extend_select, onnx_init_checks, cache_dir, respect_gitignore, records)
        resolver = Resolver(config_path, isolated=isolated, override=override)
        if show_settings is not None or show_files:
            _show(show_settings, targets, resolver, force_exclude)
            return
        if from_stdin:
            from gradlint.stdin import check_stdin

            outcome = check_stdin(stdin_filename, resolver, force_exclude, filters=not no_filters)
        else:
            outcome = run(
                targets, resolver, jobs=jobs or resolver.base.jobs, use_cache=not no_cache and not no_filters,
                force_exclude=force_exclude, filters=not no_filters,
            )
    except ConfigError as exc:
        _fail(str(exc))
        return
    if len(targets) < len(paths):
        outcome.errors.insert(0, FileError("''", "an empty path names no file; skipped"))
    output = Output.from_options(output_settings)
    done = apply_fix_options(outcome, resolver, fixes, mark=output.fmt in ("full", "concise") and not from_stdin)
    for line in output.problems(outcome) + [f"gradlint: warning: {note}" for note in done.notes]:
        click.echo(line, err=True)
    if fixes.diff or fixes.fix_only or fixes.add_noqa:  # as ruff: no report of what is left
        _write_stdout("" if output.silent else done.stdout)
        sys.exit(1 if fixes.diff and done.changed and not exit_zero else 0)
    report = done.stdout + output.report(outcome, show_models, to_terminal=output_file is None)
    if output_file is not None and not output.silent:
        try:
            output_file.write_text(report, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output_file}: {exc.strerror or exc}")
    else:
        _write_stdout(report)
    if exit_zero:
        sys.exit(0)
    sys.exit(1 if outcome.findings or outcome.errors else 0)


def _show(settings_of: Path | None, targets: list[Path], resolver, force_exclude: bool) -> None:
    from gradlint.show import files_text, settings_text

    if settings_of is not None:
        _write_stdout(settings_text(settings_of, resolver))
        return
    listing, problems = files_text(targets, resolver, force_exclude)
    for path, message in problems:
        click.echo(f"{path}: error: {message}", err=True)
    _write_stdout(listing)


def _write_stdout(report: str) -> None:
    """The report on stdout; one line and exit 2 when stdout takes no more (a full disk)."""
    try:
        click.echo(report, nl=False, color=True)  # the renderer has decided on colour
        sys.stdout.flush()
    except OSError as exc:
        try:  # the interpreter flushes stdout again on exit: give it somewhere to go
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        _fail(f"cannot write the report to stdout: {(exc.strerror or str(exc)).lower()}")


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="A pyproject.toml or gradlint.toml to use.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="The cache folder to remove.")
def clean(path, config_path, cache_dir):
    """Remove the cache of results (.gradlint_cache) of the project at PATH (default: here),
    and those of the sub-projects below it."""
    from gradlint.cache import cache_folder, nested_cache_folders, remove_cache

    try:
        config = load_config(config_path or find_config_file(path or Path(".")))
        folder = cache_dir or cache_folder(config)
        existed, kept = remove_cache(folder)
        nested = [] if cache_dir else [f for f in nested_cache_folders(path or config.root) if f != folder]
        for other in nested:
            click.echo(f"Removed {other}" if remove_cache(other)[1] == 0 else f"Removed gradlint's entries from {other}")
    except ConfigError as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        _fail(f"cannot remove the cache {folder}: {(exc.strerror or str(exc)).lower()}")
        return
    if not existed:
        click.echo(f"No cache at {folder}")
    elif kept:
        click.echo(f"Removed gradlint's entries from {folder}; kept {kept} file(s) that gradlint did not write")
    else:
        click.echo(f"Removed {folder}")


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule with its name.")
def rule(code, show_all):
    """Print a rule's documentation, or list every rule."""
    from gradlint.docs import load_doc
    from gradlint.rule import all_rules, rule_by_code_or_name

    if show_all or code is None:
        for cls in all_rules():
            on = "" if cls.default_enabled else "  (opt-in)"
            click.echo(f"{cls.code}  {cls.name:<40} {cls.summary}{on}")
        return
    cls = rule_by_code_or_name(code.upper() if code.lower().startswith("gl") else code)
    if cls is None:
        _fail(f"unknown rule {code!r}; `gradlint rule --all` lists them")
    doc = load_doc(cls.code)
    if doc is None:
        click.echo(f"{cls.code}: {cls.name}\n\n{cls.summary}")
    else:
        click.echo(doc.text.rstrip())


@main.command()
def server():
    """Run the language server over stdio, for editors (needs the lsp extra: pygls)."""
    try:
        from gradlint.server import serve
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs", "attrs"):
            raise
        _fail("`gradlint server` needs pygls: pip install 'torch-gradlint[lsp]'")
        return
    serve()


main.add_command(probe_command)  # torch is imported only by the probe's child process

if __name__ == "__main__":
    main()
