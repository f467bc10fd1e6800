"""Initialisation measured from the initialisers themselves.

Tensors are read one at a time (external data through a memory map) and
reduced in chunks, so a model larger than memory can still be measured.
"""

from __future__ import annotations

import math
import os
from typing import Any

from gradlint.diagnostics import Location
from gradlint.ir import Init

_CHUNK = 1 << 20


class WeightsAbsent(Exception):
    """The tensor's data lives in an external file that is not there."""


def _external_array(tensor: Any, base_dir: str):
    import numpy as np
    from onnx import helper
    from onnx.external_data_helper import ExternalDataInfo

    info = ExternalDataInfo(tensor)
    location = os.path.join(base_dir, info.location)
    if not os.path.isfile(location):
        raise WeightsAbsent(info.location)
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
    count = math.prod(tensor.dims)
    if dtype.kind not in "fiu" or (info.length and info.length < count * dtype.itemsize):
        raise WeightsAbsent(info.location)
    if os.path.getsize(location) < (info.offset or 0) + count * dtype.itemsize:
        raise WeightsAbsent(info.location)
    return np.memmap(location, dtype=dtype, mode="r", offset=info.offset or 0, shape=(count,))


def tensor_values(tensor: Any, base_dir: str):
    """The tensor's entries as a flat array (a memory map for external data)."""
    from onnx import numpy_helper
    from onnx.external_data_helper import uses_external_data

    if uses_external_data(tensor):
        return _external_array(tensor, base_dir)
    return numpy_helper.to_array(tensor).reshape(-1)


def _moments(values) -> tuple[int, float, float, float, float]:
    """(count, mean, variance, min, max), one chunk at a time.

    Squares are summed by BLAS in the tensor's own precision (float32 for most
    weights: ten times faster than float64 on a GPT-2-size model, relative error
    about 1e-6 on the variance), sums in float64; chunk results add up in float64.
    """
    import numpy as np

    count = int(values.size)
    if count == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    work = np.float64 if values.dtype == np.float64 else np.float32
    shift = work(values[0])  # shifted sums keep the variance exact when the mean is large
    total = squares = 0.0
    low, high = math.inf, -math.inf
    with np.errstate(all="ignore"):  # inf/nan entries give a non-finite variance: "unknown"
        for start in range(0, count, _CHUNK):
            chunk = np.asarray(values[start : start + _CHUNK]).astype(work, copy=False) - shift
            total += float(chunk.sum(dtype=np.float64))
            squares += float(np.dot(chunk, chunk))
            low = min(low, float(chunk.min()))
            high = max(high, float(chunk.max()))
    mean = total / count
    variance = max(squares / count - mean * mean, 0.0)
    return count, mean + float(shift), variance, low + float(shift), high + float(shift)


def _torch_default(count: int, variance: float, low: float, high: float, fan_in: int | None) -> bool:
    """Entries that fill U(±1/√fan_in), PyTorch's kaiming_uniform(a=√5) that Linear and Conv
    start from: a weight nobody initialised, which is what tells GL203 from GL202."""
    if not fan_in or count < 64:
        return False
    bound = 1.0 / math.sqrt(fan_in)
    inside = -bound * (1 + 1e-5) <= low and high <= bound * (1 + 1e-5)
    filled = min(-low, high) >= 0.9 * bound
    return inside and filled and 0.8 <= variance / (bound * bound / 3.0) <= 1.2


def measure(
    tensor: Any, base_dir: str, fan_in: int | None, fan_out: int | None, where: Location
) -> Init:
    """Init(kind="measured"|"default"|"zeros"|"constant") from the tensor's entries."""
    values = tensor_values(tensor, base_dir)
    count, mean, variance, low, high = _moments(values)
    if count == 0 or not math.isfinite(variance):
        return Init("unknown", location=where, detail="no finite entries")
    if low == high:
        kind = "zeros" if low == 0 else "constant"
        return Init(
            kind,
            variance=0.0,
            mean=low,
            constant=low,
            location=where,
            detail=f"all {count} entries equal {low:g}",
        )
    std = math.sqrt(variance)
    if _torch_default(count, variance, low, high, fan_in):
        return Init(
            "default",
            variance=variance,
            mean=mean,
            location=where,
            detail=f"PyTorch's default init (uniform within ±1/√{fan_in}, measured std {std:.3g})",
        )
    detail = f"measured std {std:.3g}"
    if fan_in:
        detail += f"; He std {math.sqrt(2.0 / fan_in):.3g}"
        if fan_out:
            detail += f", Xavier std {math.sqrt(2.0 / (fan_in + fan_out)):.3g}"
        detail += f" for fan-in {fan_in}"
    return Init("measured", variance=variance, mean=mean, location=where, detail=detail)
