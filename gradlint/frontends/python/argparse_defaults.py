"""``argparse`` as model scripts use it: the namespace ``parse_args()`` returns holds the
``default=`` of every ``add_argument`` of the file (``opt.latent_dim`` in a GAN script).

The parser's ``add_argument`` calls are usually statements of their own, which the
interpreter does not run when it only evaluates the assignment that defines ``opt``; so
``parse_args`` reads them off the file that built the parser. A command-line value would
replace a default: the model as the script builds it when run without arguments.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint.codefacts.syntax import walk
from gradlint.frontends.python.shared import Abort, Frame
from gradlint.frontends.python.values import UNKNOWN, Builtin, Namespace

MAX_ARGUMENTS = 500
_CONVERSIONS = {"int": int, "float": float, "str": str}


def _parser(interp: Any, args: list, kwargs: dict) -> Any:
    site = interp.site
    if site is None or site.file.source is None:
        return UNKNOWN
    file = site.file

    def parse(interp: Any, args: list, kwargs: dict) -> Any:
        return Namespace("argparse.Namespace", _defaults(interp, file))

    def itself(interp: Any, args: list, kwargs: dict) -> Any:
        return parser

    parser = Namespace("argparse.ArgumentParser", {
        "parse_args": Builtin("parse_args", parse),
        "parse_known_args": Builtin("parse_known_args", lambda i, a, k: (parse(i, a, k), [])),
        "add_argument": Builtin("add_argument", lambda i, a, k: None),
        "add_argument_group": Builtin("add_argument_group", itself),
        "add_mutually_exclusive_group": Builtin("add_mutually_exclusive_group", itself),
        "set_defaults": Builtin("set_defaults", lambda i, a, k: None),
    })
    return parser


def _defaults(interp: Any, file: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    seen = 0
    for node in walk(file.source.module):
        if not (type(node) is cst.Call and type(node.func) is cst.Attribute):
            continue
        method = node.func.attr.value
        if method not in ("add_argument", "set_defaults"):
            continue
        seen += 1
        if seen > MAX_ARGUMENTS:
            break
        try:
            values = [(a.keyword.value if a.keyword else None, interp.eval(a.value, Frame(file))) for a in node.args]
        except (Abort, RecursionError):
            continue
        if method == "set_defaults":
            found.update({k: v for k, v in values if k is not None})
            continue
        _add(found, values)
    return found


def _add(found: dict[str, Any], values: list[tuple[str | None, Any]]) -> None:
    flags = [v for k, v in values if k is None and isinstance(v, str)]
    options = {k: v for k, v in values if k is not None}
    long = [f for f in flags if f.startswith("--")] or [f for f in flags if f.startswith("-")]
    if not long:
        return  # a positional argument: required on the command line, so unknown here
    dest = options.get("dest", long[0].lstrip("-").replace("-", "_"))
    if not isinstance(dest, str):
        return
    action = options.get("action")
    if "default" in options:
        value = options["default"]
        convert = options.get("type")
        name = getattr(convert, "name", None)
        if isinstance(value, str) and name in _CONVERSIONS:
            try:
                value = _CONVERSIONS[name](value)
            except ValueError:
                value = UNKNOWN
    elif action == "store_true":
        value = False
    elif action == "store_false":
        value = True
    else:
        value = None
    if dest in found and found[dest] is not value and found[dest] != value:
        value = UNKNOWN  # two parsers of the file disagree
    found[dest] = value


ARGPARSE = Namespace("argparse", {"ArgumentParser": Builtin("ArgumentParser", _parser)})
