"""The probe's overhead (hooks and statistics) against a bare forward+backward of the same model.

    python benchmarks/probe_overhead.py [--repeats 5] [--device cpu|cuda|all]

Both sides run in this process on the same model and input: `forward_backward` is what a
user's training step does (train mode, loss, backward); `measure` is the same pass with the
probe's forward hooks and per-parameter statistics, ending in one device-to-host transfer.
Models are built here, without torchvision or transformers: a bottleneck ResNet-50 (25.6M
parameters) and a GPT-2 small (12 layers, d=768, 124M parameters). Target: <= 1.3x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradlint.probe.measure import forward_backward, measure


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + identity)


class ResNet50(nn.Module):
    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        stages, inplanes = [], 64
        for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layers = [Bottleneck(inplanes, planes, stride)]
            inplanes = planes * 4
            layers += [Bottleneck(inplanes, planes) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        return self.fc(
            torch.flatten(nn.functional.adaptive_avg_pool2d(self.stages(self.stem(x)), 1), 1)
        )


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(
            nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d)
        )

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class GPT2(nn.Module):
    def __init__(
        self,
        vocab: int = 50257,
        context: int = 1024,
        d: int = 768,
        layers: int = 12,
        heads: int = 12,
    ):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as in GPT-2

    def forward(self, tokens):
        t = tokens.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf"), device=tokens.device), 1)
        x = self.wte(tokens) + self.wpe(torch.arange(t, device=tokens.device))
        for block in self.blocks:
            x = block(x, mask)
        return self.lm_head(self.ln_f(x))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds(fn, device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def bench(
    name: str, model: nn.Module, example: torch.Tensor, device: torch.device, repeats: int
) -> float:
    model.to(device)
    example = example.to(device)

    def bare():
        forward_backward(model, example)

    def probed():
        measure(model, example)

    bare()  # warm-up: allocator, kernels, lazy init
    probed()
    # Interleaved pairs, so that drift in clock speed or load affects both sides alike.
    bare_times, probe_times = [], []
    for _ in range(repeats):
        bare_times.append(_seconds(bare, device))
        probe_times.append(_seconds(probed, device))
    b, p = statistics.median(bare_times), statistics.median(probe_times)
    # On a loaded machine the fastest run of each side is the least disturbed one.
    best = min(probe_times) / min(bare_times)
    params = sum(x.numel() for x in model.parameters()) / 1e6
    print(
        f"{name:<10} {device.type:<5} {params:6.1f}M params  input {tuple(example.shape)}  "
        f"bare {b * 1000:8.1f} ms  probe {p * 1000:8.1f} ms (medians)  "
        f"ratio {p / b:.3f}x median, {best:.3f}x best-of-{repeats}"
    )
    return p / b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--resnet-batch", type=int, default=4)
    parser.add_argument("--gpt-batch", type=int, default=2)
    parser.add_argument("--gpt-tokens", type=int, default=128)
    args = parser.parse_args()
    devices = []
    if args.device in ("cpu", "all"):
        devices.append(torch.device("cpu"))
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    elif args.device == "cuda":
        print("no CUDA device; nothing to measure")
        return 0
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    worst = 0.0
    for device in devices:
        torch.manual_seed(0)
        worst = max(
            worst,
            bench(
                "resnet50",
                ResNet50(),
                torch.randn(args.resnet_batch, 3, 224, 224),
                device,
                args.repeats,
            ),
        )
        torch.manual_seed(0)
        tokens = torch.randint(50257, (args.gpt_batch, args.gpt_tokens))
        worst = max(worst, bench("gpt2-small", GPT2(), tokens, device, args.repeats))
    print(f"worst ratio {worst:.3f}x (target <= 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
