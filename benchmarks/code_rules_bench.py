"""Time of the GL4/GL5/GL6 analyses, apart from parsing, on the code corpus and on a large file.

python benchmarks/code_rules_bench.py [FILES_OR_FOLDERS...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def files(args: list[str]) -> list[Path]:
    targets = [Path(a) for a in args] or [ROOT / "tests" / "corpus" / "code"]
    found: list[Path] = []
    for target in targets:
        found.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return found


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))  # this checkout's gradlint, not an installed one
    from gradlint.config import Config
    from gradlint.engine import Checker
    from gradlint.source import SourceFile

    rules = Checker.from_config(Config(select=["GL4", "GL5", "GL6"])).source_rules
    parse = analyse = 0.0
    count = 0
    for path in files(argv[1:]):
        text = path.read_text(encoding="utf-8")
        start = time.perf_counter()
        source = SourceFile.parse(str(path), text)
        parse += time.perf_counter() - start
        start = time.perf_counter()
        for rule in rules:
            count += len(list(rule.check_source(source)))
        analyse += time.perf_counter() - start
    n = len(files(argv[1:]))
    print(
        f"{n} files, {count} findings: parse {parse:.2f}s, GL4/5/6 analyses {analyse:.2f}s "
        f"({1000 * analyse / max(n, 1):.1f} ms/file)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
