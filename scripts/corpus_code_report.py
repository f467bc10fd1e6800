"""Precision and recall of the GL4/GL5/GL6 rules on tests/corpus/code, against its inline labels.

    python scripts/corpus_code_report.py [FOLDER]

Runs the real command line (JSON output) and matches findings to ``# expect: GLxxx``
labels by file, line and code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "code"
FAMILIES = ("GL4", "GL5", "GL6")
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>GL\d{3}(?:\s*,\s*GL\d{3})*)")


def labels(folder: Path) -> set[tuple[str, int, str]]:
    found = set()
    for path in sorted(folder.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = EXPECT.search(line)
            if match:
                for code in re.split(r"\s*,\s*", match.group("codes")):
                    found.add((path.name, number, code))
    return found


def findings(folder: Path) -> set[tuple[str, int, str]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradlint",
            "check",
            "--format",
            "json",
            "--exit-zero",
            "--select",
            ",".join(FAMILIES),
            str(folder),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"gradlint failed ({proc.returncode}): {proc.stderr}")
    report = json.loads(proc.stdout)
    return {(Path(f["path"]).name, f["line"], f["code"]) for f in report["findings"]}


def score(expected: set, reported: set) -> dict[str, Counter]:
    """TP/FP/FN per code, per family and overall."""
    table: dict[str, Counter] = {}
    for key in expected | reported:
        code = key[2]
        outcome = (
            "tp" if key in expected and key in reported else ("fn" if key in expected else "fp")
        )
        for bucket in (code, code[:3] + "xx", "all"):
            table.setdefault(bucket, Counter())[outcome] += 1
    return table


def ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def metrics(counts: Counter) -> tuple[float, float]:
    return ratio(counts["tp"], counts["tp"] + counts["fp"]), ratio(
        counts["tp"], counts["tp"] + counts["fn"]
    )


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else CORPUS
    expected, reported = labels(folder), findings(folder)
    table = score(expected, reported)
    print(f"{'code':8} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>8}")
    order = sorted(k for k in table if k != "all" and not k.endswith("xx"))
    for family in sorted({k[:3] for k in order}):
        for key in [k for k in order if k.startswith(family)] + [family + "xx"]:
            c = table[key]
            p, r = metrics(c)
            print(f"{key:8} {c['tp']:4} {c['fp']:4} {c['fn']:4} {p:10.3f} {r:8.3f}")
    c = table.get("all", Counter())
    p, r = metrics(c)
    print(f"{'all':8} {c['tp']:4} {c['fp']:4} {c['fn']:4} {p:10.3f} {r:8.3f}")
    files = len(list(folder.rglob("*.py")))
    print(f"\n{files} files, {len(expected)} labels, {len(reported)} findings")
    for kind, keys in (
        ("false positive", reported - expected),
        ("false negative", expected - reported),
    ):
        for name, line, code in sorted(keys):
            print(f"{kind}: {name}:{line} {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
