"""Does `gradlint probe` reproduce the model corpus' ground truth, and does it confirm the true
static findings?

    python scripts/probe_corpus_report.py              # table per file, then what disagrees
    python scripts/probe_corpus_report.py --jobs 4     # more probe invocations at once

For every model of tests/corpus/models it runs
`gradlint probe FILE:build --format json --seed S --device cpu`, S being the seed whose
measurement ground_truth.json records as the median (seed 0 when the ratio is null), and compares:
the measured log10 gradient ratio (within 0.05 of the ground truth at that seed), the dead
parameters (the same set), and the probe's verdict on each static finding it joins. A finding
is a true positive when its code is in the file's label (GL1/2/3), or, for GL201 and GL5xx,
when the ground truth measured dead parameters or symmetric weights. Targets that share a seed
go to one invocation, split in --jobs parts that run at once. Exit 1 when anything disagrees.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_REL = "tests/corpus/models"
GROUND_TRUTH = ROOT / CORPUS_REL / "ground_truth.json"
TOLERANCE = 0.05  # log10 units between the probe and the ground truth at the same seed
DECADE = 1.0
JUDGED = ("GL1", "GL2", "GL3", "GL5")


def load_truth() -> dict[str, dict]:
    return json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))


def median_seed(record: dict) -> int:
    """The seed whose measurement is the recorded median: the probe reruns exactly that pass."""
    by_seed = record["log10_grad_ratio_by_seed"]
    median = record["log10_grad_ratio"]
    if median is not None:
        for seed, value in by_seed.items():
            if value == median:
                return int(seed)
    return int(min(by_seed, key=int))


def target(name: str) -> str:
    return f"{CORPUS_REL}/{name}:build"


def _invoke(seed: int, names: list[str]) -> tuple[dict[str, dict], str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # the ground truth was measured on one thread; so is the probe here, and two runs share 2 cores
    env.setdefault("OMP_NUM_THREADS", "1")
    command = [sys.executable, "-m", "gradlint", "probe", *map(target, names)]
    command += ["--format", "json", "--seed", str(seed), "--device", "cpu"]
    # exit 1 means problems found; a target that failed is missing from the documents
    done = subprocess.run(
        command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
    )
    if not done.stdout.strip():
        return {}, done.stderr
    payload = json.loads(done.stdout)
    documents = payload.get("probes", [payload])
    by_name = {Path(doc["target"].rpartition(":")[0]).name: doc for doc in documents}
    return by_name, done.stderr


def probe_corpus(names: list[str], truth: dict[str, dict], jobs: int = 2) -> tuple[dict, str]:
    """One probe document per model name (missing where the probe failed), and the stderr."""
    by_seed: dict[int, list[str]] = {}
    for name in names:
        by_seed.setdefault(median_seed(truth[name]), []).append(name)
    batches = []
    for seed, group in sorted(by_seed.items()):
        parts = max(1, min(jobs, len(group)))
        batches += [(seed, group[i::parts]) for i in range(parts)]
    documents, errors = {}, []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for found, stderr in pool.map(lambda batch: _invoke(*batch), batches):
            documents.update(found)
            if stderr.strip():
                errors.append(stderr.strip())
    return documents, "\n".join(errors)


@dataclass
class Row:
    name: str
    label: list[str]
    truth: float | None
    probe: float | None = None
    static: float | None = None
    dead_match: bool = False
    dead_truth: list[str] = field(default_factory=list)
    dead_probe: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)  # true positives the probe confirms
    refuted: list[str] = field(default_factory=list)  # true positives the probe does not confirm
    others: list[str] = field(default_factory=list)  # findings off the label, with the verdict
    missing: bool = False

    @property
    def delta(self) -> float | None:
        if self.truth is None or self.probe is None:
            return None
        return self.probe - self.truth

    @property
    def ratio_match(self) -> bool:
        if self.truth is None or self.probe is None:
            return self.truth is None and self.probe is None
        return abs(self.probe - self.truth) <= TOLERANCE

    @property
    def agrees(self) -> bool:
        return not self.missing and self.ratio_match and self.dead_match and not self.refuted

    @property
    def static_gap(self) -> float | None:
        if self.static is None or self.truth is None:
            return None
        return self.static - self.truth


def true_positive(code: str, record: dict) -> bool:
    if code.startswith("GL5") or code == "GL201":
        return bool(record["dead_params"] or record.get("symmetric_weights"))
    return code in record["label"]


def compare(name: str, record: dict, doc: dict | None) -> Row:
    seed = str(median_seed(record))
    row = Row(name, record["label"], record["log10_grad_ratio_by_seed"][seed])
    row.dead_truth = sorted(record["dead_params"])
    if doc is None:
        row.missing = True
        return row
    row.probe = doc["log10_grad_ratio"]
    row.static = doc["static_log10_grad_ratio"]
    row.dead_probe = sorted(doc["dead_params"])
    row.dead_match = row.dead_probe == row.dead_truth
    for finding in doc["findings"]:
        code = finding["code"]
        if not code.startswith(JUDGED):
            continue
        if true_positive(code, record):
            (row.confirmed if finding["confirmed"] else row.refuted).append(code)
        else:
            row.others.append(f"{code}:{'confirmed' if finding['confirmed'] else 'refuted'}")
    return row


def _fmt(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "null"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def render(rows: list[Row]) -> str:
    header = (
        "file",
        "label",
        "truth",
        "probe",
        "delta",
        "dead",
        "static",
        "confirmed",
        "refuted",
        "off-label",
    )
    table = [header]
    for r in rows:
        table.append(
            (
                r.name.removesuffix(".py"),
                ",".join(r.label) or "none",
                _fmt(r.truth),
                "FAILED" if r.missing else _fmt(r.probe),
                _fmt(r.delta),
                "ok" if r.dead_match else f"DIFF {r.dead_probe} vs {r.dead_truth}",
                _fmt(r.static),
                ",".join(r.confirmed) or "-",
                ",".join(r.refuted) or "-",
                ",".join(r.others) or "-",
            )
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    ratio_ok = sum(r.ratio_match for r in rows if not r.missing)
    dead_ok = sum(r.dead_match for r in rows)
    confirmed = sum(len(r.confirmed) for r in rows)
    refuted = sum(len(r.refuted) for r in rows)
    lines += [
        "",
        f"{len(rows)} models, {sum(r.missing for r in rows)} probe failures",
        f"ratio within {TOLERANCE}: {ratio_ok}/{len(rows)}; dead params equal: {dead_ok}/{len(rows)}",
        f"true-positive static findings: {confirmed} confirmed, {refuted} refuted",
        f"max |delta|: {max((abs(r.delta) for r in rows if r.delta is not None), default=0.0):.4f}",
    ]
    far = [r for r in rows if r.static_gap is not None and abs(r.static_gap) > DECADE]
    lines.append(f"static estimate more than a decade off the measurement: {len(far)}")
    for r in far:
        lines.append(f"  {r.name}: static {_fmt(r.static)}, measured {_fmt(r.truth)}")
    unestimated = [r.name for r in rows if r.static is None]
    lines.append(f"no static estimate: {len(unestimated)} ({', '.join(unestimated)})")
    return "\n".join(lines) + "\n"


def corpus_names() -> list[str]:
    return sorted(p.name for p in (ROOT / CORPUS_REL).glob("*.py") if not p.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="probe invocations at once")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("files", nargs="*", help="corpus file names (default: all)")
    args = parser.parse_args(argv)
    truth = load_truth()
    names = args.files or corpus_names()
    unknown = [n for n in names if n not in truth]
    if unknown:
        parser.error(f"not in {GROUND_TRUTH.name}: {', '.join(unknown)}")
    documents, errors = probe_corpus(names, truth, args.jobs)
    rows = [compare(name, truth[name], documents.get(name)) for name in names]
    sys.stdout.write(render(rows))
    if errors:
        sys.stderr.write(errors + "\n")
    if args.json:
        args.json.write_text(
            json.dumps([dict(vars(r), delta=r.delta) for r in rows], indent=1), encoding="utf-8"
        )
    return 0 if all(r.agrees for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
