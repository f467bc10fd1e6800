"""`gradlint check` on a GPT-2-size ONNX export vs `onnx.checker.check_model`.

Builds a GPT-2 small shaped transformer (12 layers, d=768, 12 heads, vocab 50257,
1024 positions, tied embeddings) with random weights, exports it with torch.onnx
(one file below 2 GB, external data above), then measures each tool in fresh
subprocesses: wall time (median of --repeat runs, without tracemalloc), peak RSS
(ru_maxrss) and the peak of Python allocations (tracemalloc, a separate run).

    python benchmarks/onnx_gpt2.py [--workdir DIR] [--repeat 3] [--keep]

The export runs in a child process too: Linux carries a parent's peak RSS into
the ru_maxrss of the children it forks, so the measuring process stays small.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TWO_GB = 2 * 1024**3

LAYERS, WIDTH, HEADS, VOCAB, POSITIONS = 12, 768, 12, 50257, 1024

TOOLS = {
    "gradlint check": """
        from gradlint.config import Config
        from gradlint.engine import run
        from gradlint.reporters import ReportContext, render
        outcome = run([PATH], Config(), jobs=1)
        assert not outcome.errors, outcome.errors
        render("json", outcome, ReportContext(root=PATH.parent))
        """,
    "onnx.checker.check_model(path)": """
        import onnx
        onnx.checker.check_model(str(PATH))
        """,
    "onnx.load + check_model(model)": """
        import onnx
        onnx.checker.check_model(onnx.load(str(PATH)))
        """,
    "python + import onnx (baseline)": """
        import onnx
        """,
}

RUNNER = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
sys.path.insert(0, {root!r})
PATH = Path({path!r})
traced = {traced!r}
if traced:
    tracemalloc.start()
start = time.perf_counter()
{body}
wall = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] if traced else None
print(json.dumps({{"wall": wall, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "traced_peak": peak}}))
"""


def build_and_export(path: Path) -> dict:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(WIDTH)
            self.c_attn = nn.Linear(WIDTH, 3 * WIDTH)
            self.c_proj = nn.Linear(WIDTH, WIDTH)
            self.ln_2 = nn.LayerNorm(WIDTH)
            self.c_fc = nn.Linear(WIDTH, 4 * WIDTH)
            self.mlp_proj = nn.Linear(4 * WIDTH, WIDTH)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(WIDTH, dim=2)
            q, k, v = (z.view(b, t, HEADS, WIDTH // HEADS).transpose(1, 2) for z in (q, k, v))
            scores = (q @ k.transpose(-2, -1)) / (WIDTH // HEADS) ** 0.5
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            scores = scores.masked_fill(~mask, float("-inf"))
            y = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, WIDTH)
            x = x + self.c_proj(y)
            return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(VOCAB, WIDTH)
            self.wpe = nn.Embedding(POSITIONS, WIDTH)
            self.h = nn.ModuleList(Block() for _ in range(LAYERS))
            self.ln_f = nn.LayerNorm(WIDTH)
            self.lm_head = nn.Linear(WIDTH, VOCAB, bias=False)
            self.lm_head.weight = self.wte.weight
            self.apply(self._init_weights)

        @staticmethod
        def _init_weights(module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

        def forward(self, ids):
            positions = torch.arange(ids.shape[1], device=ids.device)
            x = self.wte(ids) + self.wpe(positions)
            for block in self.h:
                x = block(x)
            return self.lm_head(self.ln_f(x))

    torch.manual_seed(0)
    model = GPT2().eval()
    params = sum(p.numel() for p in model.parameters())
    ids = torch.randint(0, VOCAB, (1, 64))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        external = params * 4 > TWO_GB
        torch.onnx.export(
            model,
            (ids,),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["input_ids"],
            output_names=["logits"],
            dynamic_axes={"input_ids": {1: "seq"}},
        )
        if external:
            import onnx

            onnx.save_model(
                onnx.load(str(path)),
                str(path),
                save_as_external_data=True,
                location=path.name + ".data",
            )
    size = sum(f.stat().st_size for f in path.parent.glob(path.name + "*"))
    return {"parameters": params, "bytes": size, "external_data": external}


def measure(tool: str, path: Path, traced: bool) -> dict:
    code = RUNNER.format(
        root=str(ROOT), path=str(path), traced=traced, body=textwrap.dedent(TOOLS[tool])
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the exported model")
    parser.add_argument("--export-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        print(json.dumps(build_and_export(args.export_only)))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gradlint-gpt2-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "gpt2.onnx"
    exported = subprocess.run(
        [sys.executable, __file__, "--export-only", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(exported.stdout.strip().splitlines()[-1])
    print(
        f"model: {info['parameters'] / 1e6:.1f} M parameters, {info['bytes'] / 1e6:.0f} MB on disk"
        f"{' (external data)' if info['external_data'] else ' (single file)'}"
    )

    rows = {}
    for tool in TOOLS:
        runs = [measure(tool, path, traced=False) for _ in range(args.repeat)]
        traced = measure(tool, path, traced=True)
        rows[tool] = {
            "wall": statistics.median(r["wall"] for r in runs),
            "rss_mb": max(r["maxrss_kb"] for r in runs) / 1024,
            "traced_mb": traced["traced_peak"] / 1e6,
        }
    print(f"\n{'tool':36} {'wall s':>8} {'peak RSS MB':>12} {'py heap peak MB':>16}")
    for tool, row in rows.items():
        print(f"{tool:36} {row['wall']:8.2f} {row['rss_mb']:12.0f} {row['traced_mb']:16.1f}")
    ours, ref = rows["gradlint check"], rows["onnx.checker.check_model(path)"]
    print(
        f"\ngradlint / check_model(path): wall x{ours['wall'] / ref['wall']:.2f}, "
        f"peak RSS x{ours['rss_mb'] / ref['rss_mb']:.2f}"
    )
    ref2 = rows["onnx.load + check_model(model)"]
    print(
        f"gradlint / load + check_model(model): wall x{ours['wall'] / ref2['wall']:.2f}, "
        f"peak RSS x{ours['rss_mb'] / ref2['rss_mb']:.2f}"
    )
    print(json.dumps({"model": info, "results": rows}, indent=2))
    if not args.keep:
        for f in workdir.glob("gpt2.onnx*"):
            f.unlink()


if __name__ == "__main__":
    main()
