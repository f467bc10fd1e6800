"""Initialisation measured from the initialisers themselves.

Tensors are read one at a time (external data through a memory map) and
reduced in chunks, so a model larger than memory can still be measured.
"""

from __future__ import annotations

import math
import os
import re
import sys
from typing import Any, NamedTuple

from gradlint.diagnostics import Location
from gradlint.frontends.onnx.loading import LoadError
from gradlint.ir import Init

_CHUNK = 1 << 20
# external data offsets and lengths as the spec writes them; int() would also take
# "+1", " 1" and "1_0"
_DECIMAL = re.compile(r"[0-9]+")
# element widths of the packed types (a 4-bit tensor stores two entries a byte)
_PACKED_BITS = {"INT4": 4, "UINT4": 4, "FLOAT4E2M1": 4, "INT2": 2, "UINT2": 2}
_PACKED_BITS.update({"FLOAT6E2M3": 6, "FLOAT6E3M2": 6})


class WeightsAbsent(Exception):
    """The tensor's data lives in an external file that is not there."""


class External(NamedTuple):
    """Where a tensor's external data lies: a real path inside the model's folder."""

    path: str
    location: str
    offset: int
    length: int | None


def _shown(name: str | bytes) -> str:
    """A tensor or file name for a one-line message: quoted, escaped, at most 200 characters."""
    if isinstance(name, bytes):  # protobuf's way of handing over a string that is not UTF-8
        name = name.decode("utf-8", "replace")
    return repr(name if len(name) <= 200 else name[:197] + "...")


def _type_name(data_type: int) -> str:
    from onnx import TensorProto

    try:
        return TensorProto.DataType.Name(data_type)
    except ValueError:
        return str(data_type)


def _np_dtype(tensor: Any):
    """The numpy dtype of the tensor's entries; LoadError for a type onnx does not know."""
    import numpy as np
    from onnx import helper

    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
    except (KeyError, TypeError, ValueError):
        raise LoadError(
            f"tensor {_shown(tensor.name)}: unknown data type {tensor.data_type}"
        ) from None


def _count(tensor: Any) -> int:
    dims = list(tensor.dims)
    if any(d < 0 for d in dims):
        raise LoadError(f"tensor {_shown(tensor.name)}: negative dimension {min(dims)}")
    return math.prod(dims)


def _need(tensor: Any) -> str:
    dims = list(tensor.dims)
    shown = str(dims) if len(dims) <= 8 else f"{str(dims[:8])[:-1]}, ...]"
    return f"dims {shown} of {_type_name(tensor.data_type)} need"


def payload_bytes(tensor: Any) -> int:
    """The bytes the tensor's raw or external data must hold for its dims and type."""
    count = _count(tensor)
    dtype = _np_dtype(tensor)
    bits = _PACKED_BITS.get(_type_name(tensor.data_type))
    if bits is not None:
        return (count * bits + 7) // 8
    if dtype.kind == "O":
        raise LoadError(f"tensor {_shown(tensor.name)}: STRING data cannot be raw or external")
    return count * dtype.itemsize


def _raw(tensor: Any) -> bytes | None:
    """The tensor's raw_data, checked against its dims and type; None when its entries are
    in a typed field instead."""
    from onnx import TensorProto

    if tensor.data_type == TensorProto.STRING or not tensor.HasField("raw_data"):
        return None
    need = payload_bytes(tensor)
    raw = tensor.raw_data  # a copy: taken once, and read from
    if len(raw) != need:
        raise LoadError(
            f"tensor {_shown(tensor.name)}: raw_data holds {len(raw)} bytes, "
            f"but {_need(tensor)} {need}"
        )
    return raw


def _check_inline(tensor: Any, with_raw: bool) -> None:
    """The entries held in the tensor itself match its dims and data type."""
    from onnx import TensorProto, helper

    if tensor.data_type != TensorProto.STRING and tensor.HasField("raw_data"):
        if with_raw:
            _raw(tensor)
        return
    count = _count(tensor)
    _np_dtype(tensor)
    field = helper.tensor_dtype_to_field(tensor.data_type)
    bits = _PACKED_BITS.get(_type_name(tensor.data_type))
    if bits in (2, 4):
        need = (count * bits + 7) // 8  # packed into the low byte of each int32
    elif tensor.data_type in (TensorProto.COMPLEX64, TensorProto.COMPLEX128):
        need = 2 * count  # real and imaginary parts in turn
    else:
        need = count
    have = len(getattr(tensor, field))
    if have != need:
        raise LoadError(
            f"tensor {_shown(tensor.name)}: {field} holds {have} values, "
            f"but {_need(tensor)} {need}"
        )


def _outside(location: str, base_dir: str) -> str | None:
    """Why ``location`` is not a file inside the model's folder, or None when it is.

    ONNX's own loader refuses such locations too: a model must not make its reader open
    /etc/passwd, or a file beside its folder, by naming it as a weights file.
    """
    if os.path.isabs(location) or os.path.splitdrive(location)[0]:
        return "is an absolute path"
    if os.path.normpath(location).split(os.sep)[0] == os.pardir:
        return "leaves the model's folder"
    root = os.path.realpath(base_dir or os.curdir)
    real = os.path.realpath(os.path.join(root, location))
    try:
        inside = os.path.commonpath([root, real]) == root
    except ValueError:  # on another drive
        inside = False
    return None if inside else "is a link to a file outside the model's folder"


def external(tensor: Any, base_dir: str) -> External:
    """The checked location, offset and length of a tensor's external data.

    The path returned is the real one (links resolved), so what is opened and hashed
    is the file that was checked to lie inside the folder.
    """
    # protobuf hands over a string that is not UTF-8 as bytes
    entries = {str(entry.key): entry.value for entry in tensor.external_data}
    name = _shown(tensor.name)
    location = entries.get("location", "")
    if isinstance(location, bytes):
        raise LoadError(f"tensor {name}: external data location {location!r} is not UTF-8")
    if not location or "\0" in location:
        raise LoadError(f"tensor {name}: external data has no location")
    why = _outside(location, base_dir)
    if why is not None:
        raise LoadError(f"tensor {name}: external data location {_shown(location)} {why}; not read")
    numbers: dict[str, int | None] = {}
    for key in ("offset", "length"):
        value = entries.get(key)
        if value is not None and not (isinstance(value, str) and _DECIMAL.fullmatch(value)):
            raise LoadError(
                f"tensor {name}: external data {key} {_shown(value)} is not a whole number of bytes"
            )
        if value is not None and len(value) > 18:
            # past any file, and int() refuses strings of thousands of digits
            raise LoadError(f"tensor {name}: external data {key} {_shown(value)} is too large")
        numbers[key] = int(value) if value is not None else None
    root = os.path.realpath(base_dir or os.curdir)
    path = os.path.realpath(os.path.join(root, location))
    return External(path, location, numbers["offset"] or 0, numbers["length"])


def check_external(tensor: Any, base_dir: str) -> External | None:
    """The tensor's external data, checked against the file's size; None when the file is
    not there (the structure is still checked, and the note says so)."""
    import stat

    ref = external(tensor, base_dir)
    name, shown = _shown(tensor.name), _shown(ref.location)
    try:
        info = os.stat(ref.path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise LoadError(f"tensor {name}: external data location {shown} is not a regular file")
    need = payload_bytes(tensor)
    size = info.st_size
    if ref.offset > size:
        raise LoadError(
            f"tensor {name}: external data offset {ref.offset} is past the end of {shown} "
            f"({size} bytes)"
        )
    if ref.length is not None and ref.length != need:
        raise LoadError(
            f"tensor {name}: external data length is {ref.length} bytes, "
            f"but {_need(tensor)} {need}"
        )
    if ref.offset + need > size:
        raise LoadError(
            f"tensor {name}: external data ends at byte {ref.offset + need}, "
            f"past the end of {shown} ({size} bytes)"
        )
    return ref


def check_tensor(tensor: Any, base_dir: str, with_raw: bool = True) -> None:
    """LoadError naming the tensor when its data cannot be what its dims and type say."""
    from onnx import TensorProto

    if tensor.data_type == TensorProto.UNDEFINED:
        raise LoadError(f"tensor {_shown(tensor.name)}: no data type")
    _np_dtype(tensor)
    _count(tensor)
    if tensor.data_location == TensorProto.EXTERNAL:
        check_external(tensor, base_dir)
    else:
        _check_inline(tensor, with_raw)


def check_tensors(model: Any, base_dir: str) -> None:
    """Every tensor gradlint may read (initialisers and Constant values), checked before
    any is read: a corrupt one is one line naming it, not a numpy error half-way.

    An initialiser's raw_data is measured when it is read instead: taking it from the
    protobuf copies it, and the weights of a large model are hundreds of megabytes.
    """
    from onnx import AttributeProto

    graph = model.graph
    for tensor in graph.initializer:
        check_tensor(tensor, base_dir, with_raw=False)
    for node in graph.node:
        if node.op_type != "Constant":
            continue
        for attribute in node.attribute:
            if attribute.name == "value" and attribute.type == AttributeProto.TENSOR:
                check_tensor(attribute.t, base_dir)


def _external_array(tensor: Any, base_dir: str):
    import numpy as np

    ref = check_external(tensor, base_dir)
    if ref is None:
        raise WeightsAbsent(external(tensor, base_dir).location)
    dtype = _np_dtype(tensor)
    if dtype.kind not in "fiu" or _type_name(tensor.data_type) in _PACKED_BITS:
        raise WeightsAbsent(ref.location)
    count = _count(tensor)
    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.memmap(ref.path, dtype=dtype, mode="r", offset=ref.offset, shape=(count,))


def tensor_values(tensor: Any, base_dir: str):
    """The tensor's entries as a flat array (a memory map for external data)."""
    import numpy as np
    from onnx import TensorProto, numpy_helper

    if tensor.data_location == TensorProto.EXTERNAL:
        return _external_array(tensor, base_dir)
    raw = _raw(tensor)
    if raw is not None and sys.byteorder == "little":
        dtype = _np_dtype(tensor)
        if dtype.kind in "biufc" and _type_name(tensor.data_type) not in _PACKED_BITS:
            return np.frombuffer(raw, dtype=dtype)  # the one copy, read in place
    try:
        return numpy_helper.to_array(tensor).reshape(-1)
    except (TypeError, ValueError, KeyError) as exc:
        # what check_tensor does not foresee (a segmented tensor): still one line
        reason = next(iter(str(exc).splitlines()), type(exc).__name__)
        raise LoadError(f"tensor {_shown(tensor.name)}: cannot read its data ({reason})") from None


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
    # fans come from attributes and dims a corrupt file may set to anything
    fan_in = fan_in if isinstance(fan_in, int) and fan_in > 0 else None
    fan_out = fan_out if isinstance(fan_out, int) and fan_out > 0 else None
    values = tensor_values(tensor, base_dir)
    if values.dtype.kind in "cOSU":
        # complex or text entries have no variance to compare with He or Xavier
        return Init("unknown", location=where, detail="entries are not real numbers")
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
