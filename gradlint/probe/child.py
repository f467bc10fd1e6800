"""The child process: `python -m gradlint.probe.child REQUEST.json RESULT.json`.

Runs the user's code; whatever happens, it writes one JSON document to RESULT.json:
the measurement, or an error with the phase it failed in and the user-code frame
nearest to the failure. The parent turns that into one line on stderr.
"""

from __future__ import annotations

import json
import math
import os
import sys
import traceback
from pathlib import Path
from typing import Any


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity; a non-finite statistic is flagged elsewhere and shown as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _user_frame(exc: BaseException) -> str | None:
    """The innermost frame outside torch and gradlint: where the user's code was when it failed."""
    frames = traceback.extract_tb(exc.__traceback__)
    package = str(Path(__file__).resolve().parent.parent) + os.sep
    for frame in reversed(frames):
        name = frame.filename
        if name.startswith((package, "<frozen")) or f"{os.sep}torch{os.sep}" in name:
            continue
        line = (frame.line or "").strip()
        return f"{name}:{frame.lineno} in {frame.name}" + (f": {line}" if line else "")
    return None


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    text = str(exc).lower()
    # CUDA says "out of memory"; the CPU allocator "can't allocate memory" (ENOMEM)
    return name == "OutOfMemoryError" or any(
        phrase in text
        for phrase in ("out of memory", "can't allocate memory", "cannot allocate memory")
    )


def run(request: dict[str, Any]) -> dict[str, Any]:
    phase = "import"
    input_desc = None
    try:
        import torch

        from gradlint.probe import loading, measure

        torch.manual_seed(request["seed"])
        path = Path(request["file"])
        module = loading.import_user_module(path)
        phase = "resolve"
        target = loading.resolve_name(module, request["name"])
        phase = "build"
        # Seeded again right before NAME runs: what the user gets by seeding and calling it.
        torch.manual_seed(request["seed"])
        model, example, optimizer = loading.build_with_optimizer(target, request["name"])
        phase = "input"
        if example is None:
            shape = tuple(request["input_shape"]) if request.get("input_shape") else None
            example, input_desc = loading.make_input(model, shape, module)
        else:
            input_desc = loading.describe_example(example)
        phase = "device"
        device = _device(request["device"])
        model.to(device)
        example = measure.to_device(example, device)
        phase = "forward/backward"
        stats = measure.measure(
            model, example, request["loss"], request["saturation_input"], optimizer
        )
        if request.get("dtype") == "float16":
            phase = "float16 pass"
            from gradlint.probe.half import underflow

            stats["float16"] = underflow(model, example, request["loss"])
        phase = "report"
        stats.update(
            {
                "ok": True,
                "device": str(device),
                "device_name": torch.cuda.get_device_name(device)
                if device.type == "cuda"
                else "cpu",
                "input": input_desc,
                "model_class": type(model).__name__,
                "spans": loading.class_spans(model, target),
                "torch": torch.__version__,
            }
        )
        return stats
    except BaseException as exc:  # noqa: BLE001  (the user's code may raise anything, SystemExit too)
        usage = getattr(exc, "usage", False)
        if _is_oom(exc):
            phase = f"{phase} (out of memory)"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {
            "ok": False,
            "phase": phase,
            "usage": usage,
            "error": f"{type(exc).__name__}: {message}" if message else type(exc).__name__,
            "where": None if usage else _user_frame(exc),
            "input": input_desc,
        }


def _device(choice: str):
    import torch

    from gradlint.probe.loading import ProbeError

    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ProbeError("--device cuda was asked for but torch sees no CUDA device", usage=True)
    return torch.device(choice)


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    result = _clean(run(request))
    Path(argv[2]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
