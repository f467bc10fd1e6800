"""How the static side scores on the model corpus: reported codes against labels, and the
static gradient estimate against the measured ratio.

    python scripts/corpus_models_report.py          # table per file, then the scores

Reads tests/corpus/models/ground_truth.json (scripts/measure_corpus.py writes it) and runs
`gradlint check --format json --select GL1,GL2,GL3` on the corpus folder. Needs no torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
CORPUS_REL = "tests/corpus/models"
GROUND_TRUTH = ROOT / CORPUS_REL / "ground_truth.json"
FAMILIES = ("GL1", "GL2", "GL3")
CHECK_ARGS = ("check", "--format", "json", "--select", ",".join(FAMILIES), CORPUS_REL)


@dataclass
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float | None:
        reported = self.true_positives + self.false_positives
        return self.true_positives / reported if reported else None

    @property
    def recall(self) -> float | None:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else None


@dataclass
class FileScore:
    name: str
    label: set[str]
    reported: set[str]
    measured: float | None
    estimate: float | None
    has_record: bool


@dataclass
class Score:
    files: list[FileScore]
    families: dict[str, Counts]
    overall: Counts
    unattributed: list[dict] = field(default_factory=list)

    @property
    def comparable(self) -> list[FileScore]:
        return [f for f in self.files if f.measured is not None]

    @property
    def estimate_coverage(self) -> float | None:
        files = self.comparable
        return sum(f.estimate is not None for f in files) / len(files) if files else None

    @property
    def within_decade(self) -> float | None:
        pairs = [f for f in self.comparable if f.estimate is not None]
        if not pairs:
            return None
        return sum(abs(f.estimate - f.measured) <= 1.0 for f in pairs) / len(pairs)


def family_of(code: str) -> str | None:
    return next((family for family in FAMILIES if code.startswith(family)), None)


def score(document: dict, truth: dict) -> Score:
    """Compare one `gradlint check --format json` document with the ground truth.

    A finding belongs to the corpus file its path names; one that points into a shared
    module (blocks/) names no model and counts as a false positive of its family.
    """
    reported: dict[str, set[str]] = {name: set() for name in truth}
    unattributed = []
    for finding in document.get("findings", []):
        if family_of(finding["code"]) is None:
            continue
        path = PurePosixPath(finding["path"])
        if path.name in truth and path.parent.name == PurePosixPath(CORPUS_REL).name:
            reported[path.name].add(finding["code"])
        else:
            unattributed.append(finding)

    files = []
    families = {family: Counts() for family in FAMILIES}
    overall = Counts()
    for name, record in sorted(truth.items()):
        label = set(record["label"])
        found = reported[name]
        for code in label | found:
            counts = families[family_of(code)]
            for bucket in (counts, overall):
                if code in label and code in found:
                    bucket.true_positives += 1
                elif code in found:
                    bucket.false_positives += 1
                else:
                    bucket.false_negatives += 1
        model = _model_record(document, name, record["class"])
        files.append(
            FileScore(
                name=name,
                label=label,
                reported=found,
                measured=record["log10_grad_ratio"],
                estimate=None if model is None else model.get("log10_grad_ratio"),
                has_record=model is not None,
            )
        )
    for finding in unattributed:
        families[family_of(finding["code"])].false_positives += 1
        overall.false_positives += 1
    return Score(files, families, overall, unattributed)


def _model_record(document: dict, name: str, class_name: str) -> dict | None:
    for model in document.get("models", []):
        if PurePosixPath(model["path"]).name == name and model.get("class") == class_name:
            return model
    return None


def run_check(root: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "gradlint", *CHECK_ARGS],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def load_truth() -> dict:
    return json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _codes(codes: set[str]) -> str:
    return ",".join(sorted(codes)) or "none"


def render(result: Score) -> str:
    lines = [f"{'file':34} {'label':12} {'reported':12} {'measured':>9} {'estimate':>9}  verdict"]
    for f in result.files:
        verdict = "ok" if f.label == f.reported else "MISMATCH"
        if f.measured is not None and f.estimate is not None and abs(f.estimate - f.measured) > 1:
            verdict += " (estimate off by >1 decade)"
        elif not f.has_record:
            verdict += " (no model record)"
        lines.append(
            f"{f.name:34} {_codes(f.label):12} {_codes(f.reported):12}"
            f" {_fmt(f.measured):>9} {_fmt(f.estimate):>9}  {verdict}"
        )
    lines.append("")
    for finding in result.unattributed:
        where = f"{finding['path']}:{finding['line']}"
        lines.append(f"finding outside a model file: {where} {finding['code']}")
    for family, counts in [*result.families.items(), ("overall", result.overall)]:
        lines.append(
            f"{family:8} precision {_fmt(counts.precision):>5}  recall {_fmt(counts.recall):>5}"
            f"  (tp {counts.true_positives}, fp {counts.false_positives},"
            f" fn {counts.false_negatives})"
        )
    lines.append(
        f"estimate coverage {_fmt(result.estimate_coverage)}"
        f"  within one decade {_fmt(result.within_decade)}"
    )
    return "\n".join(lines)


def main() -> int:
    proc = run_check()
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        print(proc.stderr or proc.stdout, file=sys.stderr)
        return 2
    print(render(score(json.loads(proc.stdout), load_truth())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
