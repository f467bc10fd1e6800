"""`gradlint probe`: the click command. Heavy imports wait until the command runs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

EPILOG = """\b
Exit status: 0 every verdict healthy, 1 a verdict flags a problem, 2 usage or
configuration error, 3 the model's code failed (import, build, forward, backward,
out of memory), 124 the probe ran past --timeout, 128+N stopped by signal N
(130 for Ctrl-C). With several targets, the highest status wins.
"""


@click.command("probe", epilog=EPILOG)
@click.argument("targets", nargs=-1, metavar="[FILE.py:NAME]...")
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    help="Where the pass runs (auto: cuda when available).",
)
@click.option("--seed", type=int, help="torch.manual_seed before NAME is called (default 0).")
@click.option(
    "--input-shape",
    help="Input shape for a model class or a factory without example input, e.g. 32,784 "
    "(default: the file's INPUT_SHAPE, else inferred from the first layer).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--plot",
    type=click.Path(path_type=Path),
    help="Write the per-layer gradient-flow chart to this PNG.",
)
@click.option(
    "--loss",
    type=click.Choice(["mse", "cross-entropy"]),
    help="mse: mean of the squared output (default).",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float16"]),
    help="float16: also run a half-precision pass without loss scaling and report the "
    "parameters whose gradients underflow to zero (CUDA, or CPU where torch supports it).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds the model may take (default 120).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="A pyproject.toml or gradlint.toml to use.",
)
def probe_command(targets, device, seed, input_shape, fmt, plot, loss, dtype, timeout, config_path):
    """Run one real forward/backward pass of NAME from FILE.py and measure its gradients.

    NAME is a function returning a model or a (model, example_input) tuple, or an
    nn.Module class that builds without arguments. Without targets, the ones listed
    under [tool.gradlint.probe] targets are probed.
    """
    from gradlint.probe.session import ProbeOptions, run_probes

    options = ProbeOptions(device, seed, input_shape, fmt, plot, loss, timeout, config_path, dtype)
    code = run_probes(list(targets), options)
    sys.exit(code)
