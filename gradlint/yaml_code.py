"""The models a YAML configuration builds, as a script whose lines are the file's.

Configuration-driven projects name a model's class and its arguments in YAML and build it
with a helper: latent-diffusion's ``target: ldm.models.autoencoder.AutoencoderKL`` with
``params: {...}`` (``instantiate_from_config``), Hydra's ``_target_: pkg.Net`` with the
arguments beside it (``hydra.utils.instantiate``). Each such mapping becomes one statement,
on the line of its ``target`` key, that imports the class and calls it with the arguments as
Python literals: ``from ldm.models.autoencoder import AutoencoderKL; AutoencoderKL(**{...})``.
A mapping nested in ``params`` stays a dict, as ``instantiate_from_config`` hands it to the
class; Hydra's nested ``_target_`` is a call, as ``instantiate`` makes it. Every other line is
blank. Nothing is run: the file is read with PyYAML's safe loader, and a file without a
target key is not parsed at all.
"""

from __future__ import annotations

import re
from typing import Any

CONFIG_SUFFIXES = (".yaml", ".yml")
_TARGET = re.compile(r"^\s*(?:target|_target_)\s*:", re.MULTILINE)
_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_NODES = 20_000  # a bound on the nodes walked: aliases share nodes, and a file may repeat them


def python_of_yaml(text: str) -> str:
    """The script of the model-building mappings of ``text``, every other line blank."""
    lines = text.split("\n")
    out = [""] * len(lines)
    if not _TARGET.search(text):
        return "\n".join(out)
    try:
        import yaml

        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except Exception:  # noqa: BLE001 - any YAML this cannot read builds no model
        return "\n".join(out)
    budget = [_NODES]
    for line, statement in _statements(root, budget):
        if 0 <= line < len(out) and not out[line]:
            out[line] = statement
    return "\n".join(out)


def _statements(node: Any, budget: list[int]) -> list[tuple[int, str]]:
    import yaml

    found: list[tuple[int, str]] = []
    stack = [node]
    while stack and budget[0] > 0:
        current = stack.pop()
        budget[0] -= 1
        if isinstance(current, yaml.MappingNode):
            built = _built(current, budget)
            if built is not None:
                found.append(built)
            stack.extend(value for _, value in current.value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return found


def _built(node: Any, budget: list[int]) -> tuple[int, str] | None:
    """(line, statement) for a mapping that names a class to build, else None."""
    keys = {k.value: (k, v) for k, v in node.value if hasattr(k, "value") and isinstance(k.value, str)}
    for key, hydra in (("target", False), ("_target_", True)):
        if key not in keys:
            continue
        name_node, target = keys[key]
        dotted = target.value if isinstance(target.value, str) else ""
        if not _DOTTED.match(dotted):
            return None
        if hydra:
            arguments = {k: v for k, (_, v) in keys.items() if not k.startswith("_")}
        else:
            params = keys.get("params")
            arguments = dict(_pairs(params[1])) if params is not None and _is_mapping(params[1]) else {}
        literal = _literal(arguments, hydra, budget)
        if literal is None:
            return None
        module, cls = dotted.rsplit(".", 1)
        return name_node.start_mark.line, f"from {module} import {cls}; _built = {cls}(**{literal})"
    return None


def _is_mapping(node: Any) -> bool:
    import yaml

    return isinstance(node, yaml.MappingNode)


def _pairs(node: Any) -> list[tuple[str, Any]]:
    return [(k.value, v) for k, v in node.value if isinstance(getattr(k, "value", None), str)]


def _literal(value: Any, hydra: bool, budget: list[int]) -> str | None:
    """A Python literal for a composed YAML node (or a dict of them); None when it has none."""
    import yaml

    budget[0] -= 1
    if budget[0] <= 0:
        return None
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            text = _literal(item, hydra, budget)
            if text is None:
                return None
            parts.append(f"{key!r}: {text}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, yaml.MappingNode):
        pairs = dict(_pairs(value))
        if hydra and "_target_" in pairs:
            target = pairs["_target_"].value if isinstance(pairs["_target_"].value, str) else ""
            if not _DOTTED.match(target):
                return None
            inner = _literal({k: v for k, v in pairs.items() if not k.startswith("_")}, hydra, budget)
            return None if inner is None else f"__import__({target.rsplit('.', 1)[0]!r}, fromlist=['_']).{target.rsplit('.', 1)[1]}(**{inner})"
        return _literal(pairs, hydra, budget)
    if isinstance(value, yaml.SequenceNode):
        items = [_literal(item, hydra, budget) for item in value.value]
        return None if any(i is None for i in items) else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    if isinstance(value, yaml.ScalarNode):
        try:
            return repr(_scalar(value))
        except Exception:  # noqa: BLE001 - a tag the safe loader refuses
            return None
    return None


def _scalar(node: Any) -> Any:
    """A scalar as the safe loader types it (int, float, bool, None, str)."""
    import yaml

    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
