"""Reach: the share of a tree's nn.Module classes that get a static gradient estimate.

    python benchmarks/reach.py TREE [TREE ...] [--jobs J] [--blockers N] [--json OUT]

For each tree (a checkout of a public repository, unpacked outside this one) runs
`gradlint check --no-cache --format json --select GL1,GL2,GL3` and counts:

- classes: nn.Module classes of the tree, found with ``ast`` independently of gradlint
  (a class whose bases name ``nn.X``/``torch.nn.X``/a name imported from ``torch.nn``,
  or, transitively, another such class of the tree by its name);
- top: those that no other module class of the tree builds (the models a user trains);
- records: classes gradlint returned a model record for; estimated: with a gradient ratio;
- blockers: the first reason each model record without an estimate gives (``blocked``),
  counted over all trees, most frequent first.
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, gradlint_env


def _dotted(expr: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    if isinstance(expr, ast.Subscript):  # Generic[T]-style bases
        return _dotted(expr.value)
    return None


def module_classes(tree: Path) -> dict[tuple[str, str], dict]:
    """(relative path, class name) -> {"line", "bases", "calls"} for every nn.Module class."""
    classes: dict[tuple[str, str], dict] = {}
    torch_names: set[str] = set()
    for path in sorted(tree.rglob("*.py")):
        try:
            module = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError, RecursionError):
            continue
        local_torch = {"nn", "torch"}
        for node in ast.walk(module):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch.nn"):
                local_torch.update(a.asname or a.name for a in node.names)
        for node in ast.walk(module):
            if isinstance(node, ast.ClassDef):
                bases = [b for b in (_dotted(x) for x in node.bases) if b]
                called = {_dotted(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
                classes[(str(path.relative_to(tree)), node.name)] = {
                    "line": node.lineno, "bases": bases,
                    "torch": any(b.split(".")[0] in local_torch and (b.startswith(("nn.", "torch.nn.")) or b in local_torch)
                                 for b in bases),
                    "calls": {c.split(".")[-1] for c in called if c},
                }
        torch_names |= local_torch
    modules = {name for (_, name), c in classes.items() if c["torch"]}
    changed = True
    while changed:
        changed = False
        for (_, name), c in classes.items():
            if name not in modules and any(b.split(".")[-1] in modules for b in c["bases"]):
                modules.add(name)
                c["torch"] = True
                changed = True
    return {key: c for key, c in classes.items() if c["torch"]}


def run(tree: Path, jobs: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="gradlint-reach-")) / "report.json"
    command = [sys.executable, "-m", "gradlint", "check", "--no-cache", "--exit-zero", "-j", str(jobs),
               "--format", "json", "-o", str(out), "--select", "GL1,GL2,GL3", "."]
    subprocess.run(command, cwd=tree, env=gradlint_env(ROOT), check=False, capture_output=True)
    return json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def reach(tree: Path, jobs: int) -> tuple[dict, list]:
    classes = module_classes(tree)
    names_built = collections.Counter()
    for (_, name), c in classes.items():
        names_built.update(c["calls"] - {name})  # a class method building its own class is no parent
    top = {k for k in classes if names_built[k[1]] == 0}
    document = run(tree, jobs)
    records = {}
    for m in document.get("models", []):
        key = (str(Path(m["path"])), m["class"])
        records.setdefault(key, m)
    estimated = {k for k, m in records.items() if m.get("log10_grad_ratio") is not None}
    row = {
        "tree": tree.name, "classes": len(classes), "top": len(top),
        "records": len(set(records) & set(classes)), "estimated": len(estimated & set(classes)),
        "top_estimated": len(estimated & top), "findings": len(document.get("findings", [])),
        # estimates that are the midpoint of builds on stand-ins, and that take the probe's length
        "midpoints": sum(1 for k in estimated & set(classes) if records[k].get("stand_in_estimates")),
        "assumed_positions": sum(1 for k in estimated & set(classes) if records[k].get("assumed_positions")),
        "assumed_input": sum(1 for k in estimated & set(classes) if records[k].get("assumed_input")),
    }
    blocked = [(tree.name, k, m.get("blocked") or "(no reason given)") for k, m in records.items()
               if k in classes and m.get("log10_grad_ratio") is None]
    missing = [(tree.name, k, "no record") for k in classes if k not in records]
    row["built_with"] = {f"{k[0]}:{k[1]}": records[k].get("built_with") for k in estimated & set(classes)}
    row["estimates"] = {f"{k[0]}:{k[1]}": records[k]["log10_grad_ratio"] for k in estimated & set(classes)}
    row["stand_ins"] = {f"{k[0]}:{k[1]}": records[k].get("stand_ins") for k in set(records) & set(classes)
                        if records[k].get("stand_ins")}
    return row, blocked + missing


def _kind(reason: str) -> str:
    """A reason without its names and numbers, to count reasons of one kind together."""
    return reason.split(" (")[0].split(":")[0][:90]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--blockers", type=int, default=25)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows, blocked = [], []
    for tree in args.trees:
        row, why = reach(tree.resolve(), args.jobs)
        rows.append(row)
        blocked.extend(why)
        print(json.dumps({k: v for k, v in row.items() if k not in ("built_with", "stand_ins")}), flush=True)
    total = {k: sum(r[k] for r in rows) for k in ("classes", "top", "records", "estimated", "top_estimated", "findings")}
    print("| tree | nn.Module classes | with a record | with an estimate | share | top-level | top-level with an estimate |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in [*rows, {"tree": "**total**", **total}]:
        share = r["estimated"] / r["classes"] if r["classes"] else 0.0
        print(f"| {r['tree']} | {r['classes']} | {r['records']} | {r['estimated']} | {share:.0%} | {r['top']} | {r['top_estimated']} |")
    counts = collections.Counter(_kind(reason) for _, _, reason in blocked)
    print("\nblockers (first reason of each class without an estimate):")
    for reason, n in counts.most_common(args.blockers):
        print(f"{n:6d}  {reason}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "blocked": [[t, list(k), r] for t, k, r in blocked]}, indent=1))


if __name__ == "__main__":
    main()
