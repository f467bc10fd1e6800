"""Hostile and corrupt .onnx files: each is one error line (exit code 1) or a clean check,
never an internal error, a traceback, a hang, or a read outside the model's folder."""

from __future__ import annotations

import builtins
import os
import random
import re
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from click.testing import CliRunner
from onnx import AttributeProto, TensorProto, helper, numpy_helper

from gradlint.cli import main
from tests.conftest import deadline

OPSET = [helper.make_opsetid("", 18)]
LOCAL = [helper.make_opsetid("", 18), helper.make_opsetid("local", 1)]


def _values(*shape, seed=0, std=0.3):
    return np.random.default_rng(seed).normal(0, std, shape).astype(np.float32)


def _model(nodes, inits=(), inputs=(("x", [2, 8]),), outputs=("y",), functions=(), opset=OPSET):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n", "d"]) for n in outputs],
        initializer=list(inits),
    )
    return helper.make_model(graph, functions=list(functions), opset_imports=opset)


def _gemm(weight):
    """x @ weight.T then Sigmoid: a model whose weight gradlint measures."""
    return _model(
        [
            helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
            helper.make_node("Sigmoid", ["h"], ["y"], name="act"),
        ],
        [weight],
    )


def _check(path: Path, *extra: str):
    """(exit code, stdout lines, stderr lines) of `gradlint check` on one file, in-process."""
    result = CliRunner().invoke(main, ["check", "--output-format", "concise", *extra, str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout.splitlines(), result.stderr.splitlines()


def _error_of(path: Path, *extra: str) -> str:
    """The one error line a file that cannot be checked gives, with exit code 1."""
    code, _, errors = _check(path, "--no-cache", *extra)
    assert code == 1, errors
    (line,) = errors
    prefix = f"{path.name}: error: "
    assert line.startswith(prefix), line
    return line[len(prefix) :]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The model's folder, as the working directory: reports name files as `m.onnx`."""
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.chdir(models)
    return models


# -- external data outside the model's folder ------------------------------------------


def _external(location: str, offset=None, length=None, name="w") -> onnx.TensorProto:
    tensor = onnx.TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[4, 8])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = tensor.external_data.add()
            entry.key, entry.value = key, str(value)
    return tensor


@contextmanager
def _opened_files():
    """Every path opened through Python while inside (numpy's memmap and the cache's
    hashing both open through these)."""
    seen: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def record(path):
        if isinstance(path, (str, bytes, os.PathLike)):
            seen.append(os.path.realpath(os.fsdecode(path)))

    def spy_open(file, *args, **kwargs):
        record(file)
        return real_open(file, *args, **kwargs)

    def spy_os_open(path, *args, **kwargs):
        record(path)
        return real_os_open(path, *args, **kwargs)

    builtins.open, os.open = spy_open, spy_os_open
    try:
        yield seen
    finally:
        builtins.open, os.open = real_open, real_os_open


@pytest.mark.parametrize("how", ["absolute", "parent", "symlink", "folder-link"])
@pytest.mark.parametrize("cache", [False, True])
def test_external_data_outside_the_folder_is_refused_unread(folder, how, cache):
    outside = folder.parent / "secret.bin"
    outside.write_bytes(_values(4, 8).tobytes())
    if how == "absolute":
        location, reason = str(outside), "is an absolute path"
    elif how == "parent":
        location, reason = "../secret.bin", "leaves the model's folder"
    elif how == "symlink":
        (folder / "weights.bin").symlink_to(outside)
        location, reason = "weights.bin", "is a link to a file outside the model's folder"
    else:
        # `data/..` is the model's folder by its letters, and the one above it on disk
        (folder.parent / "elsewhere").mkdir()
        (folder / "data").symlink_to(folder.parent / "elsewhere", target_is_directory=True)
        location, reason = "data/../secret.bin", "is a link to a file outside the model's folder"
    path = folder / "m.onnx"
    onnx.save(_gemm(_external(location)), path)
    extra = ("--cache-dir", str(folder.parent / "cache")) if cache else ("--no-cache",)
    with _opened_files() as seen:
        code, _, errors = _check(path, *extra)
    assert code == 1
    message = f"tensor 'w': external data location {location!r} {reason}; not read"
    assert errors == [f"m.onnx: error: {message}"]
    assert str(outside.resolve()) not in seen


def test_external_data_inside_the_folder_is_still_read(folder):
    (folder / "data").mkdir()
    weights = _values(4, 8)
    (folder / "data" / "w.bin").write_bytes(weights.tobytes())
    # a link that stays inside the folder, and a `..` that does too
    (folder / "alias.bin").symlink_to(folder / "data" / "w.bin")
    for location in ("data/w.bin", "data/../data/w.bin", "alias.bin"):
        path = folder / "m.onnx"
        onnx.save(_gemm(_external(location)), path)
        code, out, errors = _check(path, "--no-cache", "--show-models")
        assert errors == [] and code in (0, 1), (location, out)


# -- local functions that expand without bound -----------------------------------------


def _nested(depth: int, calls: int = 2) -> onnx.ModelProto:
    """Function i calls function i-1 `calls` times: calls**(depth-1) nodes once inlined."""
    functions = [
        helper.make_function(
            "local", "f0", ["x"], ["y"], [helper.make_node("Relu", ["x"], ["y"])], OPSET
        )
    ]
    for i in range(1, depth):
        names = ["x"] + [f"h{k}" for k in range(calls - 1)] + ["y"]
        body = [
            helper.make_node(f"f{i - 1}", [names[k]], [names[k + 1]], domain="local")
            for k in range(calls)
        ]
        functions.append(helper.make_function("local", f"f{i}", ["x"], ["y"], body, LOCAL))
    call = helper.make_node(f"f{depth - 1}", ["x"], ["y"], domain="local")
    return _model([call], functions=functions, opset=LOCAL)


def test_functions_that_double_forty_deep_are_refused_at_once(folder):
    path = folder / "m.onnx"
    model = _nested(40)
    onnx.checker.check_model(model)  # valid ONNX, a few kilobytes
    onnx.save(model, path)
    assert path.stat().st_size < 10_000
    started = time.perf_counter()
    message = _error_of(path)
    assert time.perf_counter() - started < 1.0
    assert message == (
        "too large to inline: local functions expand to about 549,755,813,888 nodes "
        "(limit 1,000,000)"
    )


def test_functions_under_the_budget_are_inlined(folder):
    path = folder / "m.onnx"
    onnx.save(_nested(10), path)  # 512 Relu nodes once inlined
    code, _, errors = _check(path, "--no-cache")
    assert errors == [] and code in (0, 1)


def test_functions_repeating_a_large_constant_are_refused(folder):
    """Few nodes, but each call copies a 1 MB constant: 2,048 calls make 2 GB."""
    big = numpy_helper.from_array(np.zeros(1 << 18, dtype=np.float32), "c")
    base = helper.make_function(
        "local",
        "f0",
        ["x"],
        ["y"],
        [
            helper.make_node("Constant", [], ["c"], value=big),
            helper.make_node("Add", ["x", "c"], ["y"]),
        ],
        OPSET,
    )
    functions = [base]
    for i in range(1, 12):
        body = [
            helper.make_node(f"f{i - 1}", ["x"], ["h"], domain="local"),
            helper.make_node(f"f{i - 1}", ["h"], ["y"], domain="local"),
        ]
        functions.append(helper.make_function("local", f"f{i}", ["x"], ["y"], body, LOCAL))
    model = _model(
        [helper.make_node("f11", ["x"], ["y"], domain="local")],
        inputs=(("x", [1 << 18]),),
        functions=functions,
        opset=LOCAL,
    )
    path = folder / "m.onnx"
    onnx.save(model, path)
    assert _error_of(path).startswith("too large to inline: local functions expand to about 2,0")


# -- payloads that do not match their dims or data type ---------------------------------


def _with(**change) -> onnx.TensorProto:
    tensor = numpy_helper.from_array(_values(4, 8), "w")  # raw_data, 128 bytes
    if "raw" in change:
        tensor.raw_data = change["raw"]
    if "floats" in change:
        tensor.ClearField("raw_data")
        tensor.float_data.extend(change["floats"])
    if "data_type" in change:
        tensor.data_type = change["data_type"]
    if "dims" in change:
        del tensor.dims[:]
        tensor.dims.extend(change["dims"])
    return tensor


@pytest.mark.parametrize(
    "tensor,message",
    [
        (_with(raw=b"\0" * 10), "raw_data holds 10 bytes, but dims [4, 8] of FLOAT need 128"),
        (_with(raw=b"\0" * 200), "raw_data holds 200 bytes, but dims [4, 8] of FLOAT need 128"),
        (_with(floats=[1.0] * 3), "float_data holds 3 values, but dims [4, 8] of FLOAT need 32"),
        (_with(floats=[1.0] * 40), "float_data holds 40 values, but dims [4, 8] of FLOAT need 32"),
        (_with(data_type=99), "unknown data type 99"),
        (_with(data_type=0), "no data type"),
        (
            _with(data_type=TensorProto.DOUBLE),
            "raw_data holds 128 bytes, but dims [4, 8] of DOUBLE need 256",
        ),
        (_with(dims=[4, -8]), "negative dimension -8"),
        (
            _with(dims=[1 << 40, 1 << 40]),
            (
                "raw_data holds 128 bytes, but dims [1099511627776, 1099511627776] of FLOAT "
                "need 4835703278458516698824704"
            ),
        ),
    ],
    ids=["raw-short", "raw-long", "floats-short", "floats-long", "type-99", "type-0",
         "type-double", "dims-negative", "dims-huge"],
)
def test_a_payload_that_does_not_match_names_the_tensor(folder, tensor, message):
    path = folder / "m.onnx"
    onnx.save(_gemm(tensor), path)
    assert _error_of(path) == f"tensor 'w': {message}"


@pytest.mark.parametrize(
    "offset,length,message",
    [
        (4096, None, "external data offset 4096 is past the end of 'w.bin' (128 bytes)"),
        (-8, None, "external data offset '-8' is not a whole number of bytes"),
        ("abc", None, "external data offset 'abc' is not a whole number of bytes"),
        ("1_0", None, "external data offset '1_0' is not a whole number of bytes"),
        ("9" * 5000, None, f"external data offset '{'9' * 197}...' is too large"),
        (None, "x", "external data length 'x' is not a whole number of bytes"),
        (
            None,
            1 << 40,
            "external data length is 1099511627776 bytes, but dims [4, 8] of FLOAT need 128",
        ),
        (None, 64, "external data length is 64 bytes, but dims [4, 8] of FLOAT need 128"),
        (64, 128, "external data ends at byte 192, past the end of 'w.bin' (128 bytes)"),
    ],
    ids=["offset-past-end", "offset-negative", "offset-text", "offset-underscore",
         "offset-digits", "length-text", "length-huge", "length-short", "runs-past-end"],
)
def test_bad_external_offsets_and_lengths_name_the_tensor(folder, offset, length, message):
    (folder / "w.bin").write_bytes(_values(4, 8).tobytes())
    path = folder / "m.onnx"
    onnx.save(_gemm(_external("w.bin", offset, length)), path)
    assert _error_of(path) == f"tensor 'w': {message}"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_external_data_that_is_not_a_regular_file_is_not_opened(folder):
    os.mkfifo(folder / "pipe.bin")  # opening it to read would wait for a writer forever
    path = folder / "m.onnx"
    onnx.save(_gemm(_external("pipe.bin")), path)
    assert _error_of(path) == (
        "tensor 'w': external data location 'pipe.bin' is not a regular file"
    )


def test_missing_external_data_is_still_only_a_note(folder):
    path = folder / "m.onnx"
    onnx.save(_gemm(_external("gone.bin")), path)
    code, _, errors = _check(path, "--no-cache")
    assert errors == [] and code in (0, 1)


# -- a generator of corrupt models ------------------------------------------------------


def _hand_built(folder: Path) -> dict[str, bytes]:
    """Small valid models that between them reach every part of the frontend: Gemm, Conv,
    ReduceMean axes, LSTM, scalar constants, local functions and external data."""
    bases: dict[str, onnx.ModelProto] = {}
    bases["mlp"] = _model(
        [
            helper.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], name="fc1", transB=1),
            helper.make_node("Sigmoid", ["h"], ["a"]),
            helper.make_node("MatMul", ["a", "fc2.weight"], ["m"], name="fc2"),
            helper.make_node("Add", ["m", "fc2.bias"], ["y"]),
        ],
        [
            numpy_helper.from_array(_values(16, 8), "fc1.weight"),
            numpy_helper.from_array(np.zeros(16, np.float32), "fc1.bias"),
            helper.make_tensor("fc2.weight", TensorProto.FLOAT, [16, 4], _values(64, seed=1)),
            helper.make_tensor("fc2.bias", TensorProto.FLOAT, [4], [0.0] * 4),
        ],
    )
    bases["conv"] = _model(
        [
            helper.make_node("Conv", ["x", "k", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("ReduceMean", ["p", "axes"], ["g"], keepdims=0),
            helper.make_node("Gemm", ["g", "head"], ["y"], transB=1),
        ],
        [
            numpy_helper.from_array(_values(8, 3, 3, 3), "k"),
            numpy_helper.from_array(np.zeros(8, np.float32), "b"),
            numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
            numpy_helper.from_array(_values(10, 8, seed=2), "head"),
        ],
        inputs=(("x", [2, 3, 16, 16]),),
    )
    bases["scalars"] = _model(
        [
            helper.make_node("Constant", [], ["lo"], value=helper.make_tensor("lo", 1, [], [0.0])),
            helper.make_node("Constant", [], ["hi"], value=helper.make_tensor("hi", 1, [], [6.0])),
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("Clip", ["h", "lo", "hi"], ["c"]),
            helper.make_node("PRelu", ["c", "slope"], ["p"]),
            helper.make_node("Max", ["p", "zero"], ["m"]),
            helper.make_node("Softmax", ["m"], ["y"], axis=-1),
        ],
        [
            numpy_helper.from_array(_values(8, 8), "w"),
            numpy_helper.from_array(np.full(1, 0.1, np.float32), "slope"),
            numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
        ],
    )
    bases["lstm"] = _model(
        [
            helper.make_node("LSTM", ["x", "W", "R", "B"], ["seq", "h"], hidden_size=6),
            helper.make_node("Squeeze", ["h"], ["y"]),
        ],
        [
            numpy_helper.from_array(_values(1, 24, 8), "W"),
            numpy_helper.from_array(_values(1, 24, 6, seed=3), "R"),
            numpy_helper.from_array(np.zeros((1, 48), np.float32), "B"),
        ],
        inputs=(("x", [5, 2, 8]),),
    )
    block = helper.make_function(
        "local",
        "block",
        ["x", "w"],
        ["y"],
        [
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("Constant", [], ["s"], value_float=0.5),
            helper.make_node("Mul", ["h", "s"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["y"]),
        ],
        OPSET,
    )
    bases["functions"] = _model(
        [
            helper.make_node("block", ["x", "w1"], ["h"], domain="local"),
            helper.make_node("block", ["h", "w2"], ["y"], domain="local"),
        ],
        [
            numpy_helper.from_array(_values(8, 8), "w1"),
            numpy_helper.from_array(_values(8, 8, seed=4), "w2"),
        ],
        functions=[block],
        opset=LOCAL,
    )
    found = {name: model.SerializeToString() for name, model in bases.items()}
    external = onnx.load_from_string(found["mlp"])
    onnx.save_model(
        external,
        folder / "external.onnx",
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="external.bin",
        size_threshold=0,
    )
    found["external"] = (folder / "external.onnx").read_bytes()
    (folder / "external.onnx").unlink()  # external.bin stays: the mutants read it
    return found


def _exported(folder: Path) -> dict[str, bytes]:
    """The torch-exported test models, when torch can export here."""
    try:
        import _onnx_models as models
        import torch
    except ImportError:
        return {}
    found = {}
    for name in ("deep_sigmoid_mlp", "conv_net", "lstm_classifier", "layernorm_block"):
        torch.manual_seed(0)
        model, example = models.MODELS[name]()
        path = folder / f"{name}.export.onnx"
        try:
            models.export_any(model, example, path)
        except Exception:  # noqa: BLE001, S112 - an exporter that cannot manage here: fewer bases
            continue
        found[name] = path.read_bytes()
        path.unlink()
    return found


def _truncations(data: bytes, rng: random.Random, count: int):
    cuts = {len(data) * i // count for i in range(1, count)} | {1, 2, len(data) - 1}
    cuts |= {rng.randrange(1, len(data)) for _ in range(count // 4)}
    for cut in sorted(cuts):
        yield f"truncated at {cut}", data[:cut]


def _flips(data: bytes, rng: random.Random, count: int):
    for _ in range(count):
        changed = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 4, 16))):
            changed[rng.randrange(len(changed))] = rng.randrange(256)
        yield "bytes changed", bytes(changed)


def _tensors(model):
    found = list(model.graph.initializer)
    for node in model.graph.node:
        found += [a.t for a in node.attribute if a.type == AttributeProto.TENSOR]
    return found


def _mutate(model, rng: random.Random) -> str:
    """One field-level change in place; returns what it did."""
    graph = model.graph
    tensors = _tensors(model)
    nodes = list(graph.node) + [n for f in model.functions for n in f.node]
    kind = rng.choice(
        ["dims", "data_type", "external", "payload", "rename", "attribute", "attribute",
         "opset", "missing function", "empty", "ir_version", "duplicate function", "domain",
         "inputs", "shape", "reshape", "reshape", "name"]
    )
    if kind == "dims" and tensors:
        tensor = rng.choice(tensors)
        dims = list(tensor.dims)
        choice = rng.randrange(5)
        if choice == 0 and dims:
            dims.pop()
        elif choice == 1:
            dims.append(rng.choice((0, 1, 3)))
        elif dims:
            dims[rng.randrange(len(dims))] = rng.choice((-1, 0, 7, 1 << 31, 1 << 62))
        del tensor.dims[:]
        tensor.dims.extend(dims)
    elif kind == "data_type" and tensors:
        rng.choice(tensors).data_type = rng.choice(list(range(29)) + [99, 1 << 20])
    elif kind == "external" and tensors:
        tensor = rng.choice(tensors)
        tensor.data_location = TensorProto.EXTERNAL
        del tensor.external_data[:]
        keys = ["location", "offset", "length", "checksum", "other"]
        for key in rng.sample(keys, rng.randrange(4)):
            entry = tensor.external_data.add()
            entry.key = key
            entry.value = rng.choice(
                ["external.bin", "../outside.bin", "/dev/zero", "", "missing.bin", "0", "-1",
                 "12", "abc", "99999999999999999999", ".", "sub/../external.bin"]
            )
    elif kind == "payload" and tensors:
        tensor = rng.choice(tensors)
        if rng.random() < 0.5:
            tensor.raw_data = bytes(rng.randrange(0, 300))
        else:
            tensor.ClearField("raw_data")
            tensor.float_data.extend([1.0] * rng.randrange(0, 70))
    elif kind == "rename" and nodes:
        node = rng.choice(nodes)
        names = node.input if (rng.random() < 0.5 and node.input) else node.output
        if names:
            names[rng.randrange(len(names))] = rng.choice(["", "nope", "x", "y", "w"])
    elif kind == "attribute" and nodes:
        node = rng.choice(nodes)
        name = node.attribute[0].name if node.attribute and rng.random() < 0.7 else "axis"
        for index, attribute in enumerate(node.attribute):
            if attribute.name == name:
                del node.attribute[index]
                break
        value = rng.choice(
            [1.5, float("nan"), "text", b"\xff\xfe", [1, 2, 3], [0.5], ["a", "b"], -7, 0,
             1 << 62, [0, 0], [-1, -1], [0, 0, 0, 0], [5, 0, 5], [],
             helper.make_tensor("t", TensorProto.FLOAT, [1], [1.0]),
             helper.make_graph([], "empty", [], [])]
        )
        ints = AttributeProto.INTS if value == [] else None  # an empty list has no type to infer
        node.attribute.append(helper.make_attribute(name, value, attr_type=ints))
    elif kind == "opset":
        opsets = list(model.opset_import)
        opset = rng.choice(opsets) if opsets else model.opset_import.add()
        opset.version = rng.choice((0, 1, 6, 13, 99, 1 << 40, -3))
        if rng.random() < 0.2:
            opset.domain = rng.choice(("ai.onnx", "com.microsoft", "local", "x" * 200))
    elif kind == "missing function":
        target = rng.choice([graph.node] + [f.node for f in model.functions])
        target.append(helper.make_node("missing", ["x"], ["ghost"], domain="local"))
        if not any(o.domain == "local" for o in model.opset_import):
            model.opset_import.append(helper.make_opsetid("local", 1))
    elif kind == "empty":
        part = rng.choice(("node", "input", "output", "initializer", "graph"))
        if part == "graph":
            model.ClearField("graph")
        else:
            graph.ClearField(part)
    elif kind == "ir_version":
        model.ir_version = rng.choice((0, 1, 3, 99, 1 << 40))
    elif kind == "reshape" and graph.initializer:
        # a consistent tensor of another shape: what the converter reads dims from
        tensor = rng.choice(list(graph.initializer))
        shape = [rng.choice((0, 1, 2, 3, 5)) for _ in range(rng.randrange(5))]
        dtype = rng.choice((np.float32, np.float64, np.int64, np.float16, np.bool_))
        values = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 1, shape)
        tensor.CopyFrom(numpy_helper.from_array(values.astype(dtype), tensor.name))
    elif kind == "name":
        # names reach the report: a newline in one must not split a finding over two lines
        name = rng.choice(["line\nbreak", "nul\x00", "tab\there", "sep\u2028", "x" * 300, ""])
        target = rng.choice([graph] + nodes)
        target.name = name
    elif kind == "domain" and nodes:
        # an op of another domain is read by name, with no schema the checker holds it to
        rng.choice(nodes).domain = "com.microsoft"
        if not any(o.domain == "com.microsoft" for o in model.opset_import):
            model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    elif kind == "inputs" and nodes:
        node = rng.choice(nodes)
        keep = rng.randrange(len(node.input) + 1)
        del node.input[keep:]
    elif kind == "shape" and graph.input:
        value = rng.choice(list(graph.input))
        tensor_type = value.type.tensor_type
        if rng.random() < 0.3:
            tensor_type.elem_type = rng.choice((0, 8, 14, 99))
        else:
            del tensor_type.shape.dim[:]
            for _ in range(rng.randrange(6)):
                tensor_type.shape.dim.add().dim_value = rng.choice((-5, 0, 1, 3, 1 << 40))
    elif kind == "duplicate function" and model.functions:
        copy = model.functions.add()
        copy.CopyFrom(model.functions[0])
        copy.node.append(helper.make_node(copy.name, ["y"], ["y2"], domain=copy.domain))
    return kind


def _field_mutants(data: bytes, rng: random.Random, count: int):
    for _ in range(count):
        model = onnx.load_from_string(data)
        done = [_mutate(model, rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        yield ", ".join(done), model.SerializeToString()


def _mutants(bases: dict[str, bytes], per_base: int, seed: int = 1234):
    """Deterministic mutants: the same seed gives the same files."""
    for name, data in sorted(bases.items()):
        rng = random.Random(f"{seed}-{name}")
        share = max(per_base // 4, 1)
        yield from ((name, what, d) for what, d in _truncations(data, rng, share))
        yield from ((name, what, d) for what, d in _flips(data, rng, share))
        yield from ((name, what, d) for what, d in _field_mutants(data, rng, per_base - 2 * share))


_ERROR_LINE = re.compile(r"^m\d{4}\.onnx: error: \S[^\n]*$")
_FINDING_LINE = re.compile(r"^m\d{4}\.onnx:.*: GL\d{3} ")


def _run_mutants(folder: Path, mutants) -> dict[int, int]:
    """Check each mutant on its own; returns how many gave each exit code."""
    (folder.parent / "outside.bin").write_bytes(b"\0" * 4096)
    codes: dict[int, int] = {}
    for number, (base, what, data) in enumerate(mutants):
        path = folder / f"m{number:04d}.onnx"
        path.write_bytes(data)
        label = f"{path.name} ({base}: {what})"
        with deadline(30, label):
            result = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "concise", str(path.name)])
        output = result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            label,
            result.exception,
        )
        assert result.exit_code in (0, 1), (label, output)
        assert "internal error" not in output and "Traceback" not in output, (label, output)
        errors = result.stderr.splitlines()
        assert len(errors) <= 1 and all(_ERROR_LINE.match(e) for e in errors), (label, errors)
        lines = result.stdout.splitlines()
        assert lines and lines[-1].startswith(("All checks passed", "Found ")), (label, lines)
        assert all(_FINDING_LINE.match(line) for line in lines[:-1]), (label, lines)
        codes[result.exit_code] = codes.get(result.exit_code, 0) + 1
        path.unlink()
    return codes


def test_the_models_mutated_check_cleanly(folder):
    for name, data in sorted(_hand_built(folder).items()):
        path = folder / f"{name}.onnx"
        path.write_bytes(data)
        code, _, errors = _check(path, "--no-cache")
        assert errors == [] and code in (0, 1), name


def test_corrupt_models_sample(folder):
    """About sixty mutants of the hand-built models, on every run."""
    codes = _run_mutants(folder, _mutants(_hand_built(folder), per_base=8))
    assert sum(codes.values()) >= 45


@pytest.mark.slow
def test_corrupt_models_many(folder):
    """About a thousand mutants, the torch-exported models among the bases."""
    bases = _hand_built(folder) | _exported(folder)
    per_base = 1000 // len(bases) + 1
    codes = _run_mutants(folder, _mutants(bases, per_base=per_base))
    assert sum(codes.values()) >= 1000
    assert codes.get(1, 0) and codes.get(0, 0)  # both kinds happen: the mutants vary


def test_a_newline_in_a_node_name_does_not_split_a_finding(folder):
    nodes, inits, previous = [], [], "x"
    for i in range(6):
        inits.append(numpy_helper.from_array(_values(8, 8, seed=i, std=0.35), f"w{i}"))
        nodes += [
            helper.make_node("Gemm", [previous, f"w{i}"], [f"h{i}"], name=f"fc\n{i}", transB=1),
            helper.make_node("Sigmoid", [f"h{i}"], [f"a{i}" if i < 5 else "y"], name=f"act{i}"),
        ]
        previous = f"a{i}"
    path = folder / "m.onnx"
    onnx.save(_model(nodes, inits), path)
    code, out, errors = _check(path, "--no-cache")
    assert code == 1 and errors == []
    finding, summary = out
    assert finding.startswith("m.onnx:fc\\n0: GL101 6 sigmoid layers in series (fc\\n0 → fc\\n5)")
    assert summary == "Found 1 finding in 1 file checked."
