"""Arguments for a model's constructor that nothing in its file passes.

Three kinds are filled in, and the model record says which:
- a configuration object, built from its own defaults: the class the parameter is annotated
  with (``config: GPTConfig``), the class's own ``get_default_config()``, or the one
  configuration class of the file (or imported into it) whose fields cover every attribute the
  constructor reads from the parameter (``config.n_layer``, ``config.n_embd``);
- stand-ins for sizes (``dim``, ``heads``, a parameter annotated ``int``): the model is
  built twice with different stand-ins, and its estimate is reported only when both builds
  agree (mean-field ratios of scale-free inits depend on no width, only on ratios of widths).
  A layer count (``depth``) is stood in for to build a model whose blocks are then judged
  on their own (``fill(..., counts=True)``), and for the model's own estimate in a third
  build ``DEEP_COUNT`` layers deep: the estimate is the builds' midpoint where the
  three lie within ``records.BOUNDED_SPREAD``; a block whose weights change with the count
  is judged so too.

  The stand-ins are of each parameter's own magnitude: widths 64 to 2048, heads 4 and 8 of
  64 and 32 (``dim_head``), kernels 3 and 5, strides 1 and 2, patches 16 and 8 of images 224
  and 256.
- a collection the constructor only tests with ``in`` (``if curr_res in attn_resolutions``):
  one that holds nothing in the first build and ``EVERYTHING`` in the second, the two ends of
  what the model may build.

Anything else (a module, a function, a flag) leaves the model unbuilt, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from gradlint.codefacts.syntax import walk
from gradlint.frontends.python.call_sites import (
    evaluate,
    flags_passed_on,
    given_in_file,
    passed_on,
    passes_of,
    required_params,
)
from gradlint.frontends.python.shared import Abort
from gradlint.frontends.python.values import EVERYTHING, UNKNOWN, ClassVal, FuncVal, Obj
from gradlint.names import dotted

_CONFIG_NAME = re.compile(r"^(config|cfg|conf|args|params|hparams|opt|hp|model_args|.*_(config|cfg|args|params))$")
_CONFIG_CLASS = re.compile(r"(Config|Configuration|Args|Arguments|Cfg|Params|Hparams|Options|Settings)$")
_HEADS = re.compile(r"^(h|heads|n_?heads?|num_heads|nhead|.*_heads)$")
# geometry, stood in for by values of its own magnitude (a kernel 256 wide, a stride of 1024
# or a patch as large as the image is no model's): kernels 3 and 5, strides 1 and 2 (a
# projection's stride of 2 halves the keys), patches 16 and 8 of images 224 and 256 wide,
# resampling factors 2 and 3 (a super-resolution net's last layer makes factor² channels)
_GEOMETRY = (
    (re.compile(r"^(factor|.*_factor)$"), (2, 3)),
    (re.compile(r"^(kernel|kernel_size|.*_kernel|.*_kernel_size|k)$"), (3, 5)),
    (re.compile(r"^(stride|.*_stride)$"), (1, 2)),
    (re.compile(r"^(patch_size|patch|.*_patch_size)$"), (16, 8)),
    (re.compile(r"^(image_size|img_size|input_resolution|image_resolution)$"), (224, 256)),
)
_HEAD_SIZES = re.compile(r"^(dim_head|head_dim|d_head|head_size|dim_per_head|attn_head_dim|d_k|d_v)$")
_COUNTS = re.compile(r"^(depth|.*_depth|layers|n_?layers?|num_layers|nlayers|.*_layers|num_res_blocks|n_blocks|num_blocks|blocks)$")
# the counts a stand-in may be given: ``layers``, ``blocks``, ``attn_layers`` are as often modules
_COUNT_STAND_INS = re.compile(r"^(depth|.*_depth|n_?layers?|nlayers|(num|n)_(.*_)?(layers|blocks)|num_res_blocks)$")
_FRACTIONS = re.compile(r"^(p|prob|dropout|.*_dropout|drop|.*_drop|.*_drop_rate|drop_rate|.*_prob)$")
_SIZES = re.compile(
    r"(dim|size|channels|features|width|hidden|classes|planes|tokens|embed|d_model|ninp|nhid|ntoken|"
    r"n_state|n_ctx|seq_len|resolution|mult|multiple_of|window|stride|kernel|patch|^ch$|^c\d$|^ch_|_ch$|"
    r"^in_|^out_|_in$|_out$|^n_|^num_|^d_|_len$|latent|filters|^nz$|^ngf$|^ndf$|^nc$|^k$|^emb)"
)
# two sets of stand-ins whose ratios differ, so that a width ratio cannot cancel by chance; of
# the hundreds real models use, beside the defaults written for them (64-wide heads, 8 of them)
_WIDTHS = ((512, 256, 1024, 128, 2048, 64), (256, 1024, 512, 2048, 128, 1024))
_HEAD_COUNTS = (4, 8)
# the width of one head: 64 in most models, 32 to 128 in the rest (a model-wide width stand-in
# for it, 1024 wide heads on a 256 wide model, would make up a dependence no real model has)
_HEAD_SIZES_STAND_INS = (64, 32)
_LAYER_COUNTS = (2, 3)
# a third build of a model whose layer counts are stood in for: as deep as a base-sized
# transformer (GPT-2, ViT-B, BERT); within ``records.BOUNDED_SPREAD`` of the shallow builds,
# the estimate hardly follows depth (normalised residual stacks), so it is reported
DEEP_COUNT = 12


@dataclass
class Arguments:
    """Keyword arguments for two builds (the second only with stand-ins), and what they are."""

    first: dict[str, Any] = field(default_factory=dict)
    second: dict[str, Any] = field(default_factory=dict)
    stand_ins: list[str] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)  # layer counts among the stand-ins
    given: list[str] = field(default_factory=list)  # ``name=value`` every call in the file passes
    defaults: list[str] = field(default_factory=list)  # switches passed on, as their receiver defaults them

    def deep(self) -> dict[str, Any]:
        """The first build's arguments with every layer count ``DEEP_COUNT``."""
        return {name: DEEP_COUNT if name in self.counts else value for name, value in self.first.items()}

    @property
    def label(self) -> str | None:
        parts = [f"{name} defaults" for name in self.configs]
        if self.given:
            parts.append(", ".join(self.given) + " as the file passes them")
        parts.extend(self.defaults)
        if self.stand_ins:
            parts.append("stand-ins for " + ", ".join(self.stand_ins))
        return "; ".join(parts) or None


def _annotation(param: cst.Param) -> str | None:
    return dotted(param.annotation.annotation) if param.annotation is not None else None


def _number_kind(param: cst.Param, counts: set[str] | None = None) -> str | None:
    """``counts``: stand in for layer counts too, those named as counts or looped over."""
    name = param.name.value
    annotation = _annotation(param)
    if annotation in ("bool", "str") or (annotation is not None and annotation not in ("int", "float")):
        return None
    if annotation == "float" or _FRACTIONS.match(name):
        return "fraction" if annotation != "int" else None
    if _HEADS.match(name):
        return "heads"
    if _HEAD_SIZES.match(name):
        return "head size"
    if any(pattern.match(name) for pattern, _ in _GEOMETRY):
        return "geometry"
    if _COUNTS.match(name):
        # the estimate depends on it: a stand-in cannot cancel
        named = _COUNT_STAND_INS.match(name) or annotation == "int" or name in (counts or ())
        return "count" if counts is not None and named else None
    if annotation == "int" or _SIZES.search(name):
        return "size"
    return None


def may_fill(init: cst.FunctionDef, counts: bool = False) -> bool:
    """Whether every required parameter is of a kind ``fill`` may supply: read off the
    signature alone, before any base class or configuration is resolved."""
    tested = _tested(init)
    return all(
        _number_kind(p, _counted(init) if counts else None) is not None or _CONFIG_NAME.match(p.name.value)
        or _annotation(p) is not None or p.name.value in tested
        for p in required_params(init)
    )


# calls that read a collection whole: its items, its length
_READS = frozenset({"len", "zip", "enumerate", "list", "tuple", "sorted", "set", "iter", "max", "min", "sum", "any",
                    "all", "reversed"})


def _tested(init: cst.FunctionDef) -> set[str]:
    """Names the constructor tests with ``in`` (``if curr_res in attn_resolutions``) and
    reads no other way (iterates, measures, indexes) but to pass on: collections it decides
    by, stood in for by one that holds nothing and one that holds everything, the two ends of
    what the model may build."""
    found, read = _membership(init)
    return found - read


def _membership(init: cst.FunctionDef) -> tuple[set[str], set[str]]:
    """(names tested with ``in``, names read whole: measured, indexed, iterated)."""
    found: set[str] = set()
    read: set[str] = set()
    for node in walk(init.body):
        if type(node) is cst.Comparison:
            for target in node.comparisons:
                if type(target.operator) in (cst.In, cst.NotIn) and type(target.comparator) is cst.Name:
                    found.add(target.comparator.value)
        elif type(node) is cst.Call and type(node.func) is cst.Name and node.func.value in _READS:
            read.update(a.value.value for a in node.args if type(a.value) is cst.Name)
        elif type(node) is cst.Subscript and type(node.value) is cst.Name:
            read.add(node.value.value)
        elif type(node) in (cst.For, cst.CompFor) and type(node.iter) is cst.Name:
            read.add(node.iter.value)
    return found, read


def _counted(init: cst.FunctionDef) -> set[str]:
    """Names the constructor loops over as a count (``for _ in range(layers)``): a parameter
    called ``layers`` is as often a list of modules."""
    return {
        node.args[-1].value.value for node in walk(init.body)
        if type(node) is cst.Call and type(node.func) is cst.Name and node.func.value == "range"
        and node.args and type(node.args[-1].value) is cst.Name
    }


def fill(interp: Any, cls: ClassVal, init: FuncVal, counts: bool = False) -> Arguments | None:
    """Arguments for every required parameter of ``cls.__init__``, or None when one is of a
    kind that cannot be filled in; ``counts``: layer counts too (``Arguments.counts``)."""
    found = Arguments()
    sizes = 0
    passes = passes_of(interp, init)
    counted = _counted(init.node) | passed_on(interp, passes, _counted) if counts else None
    found_in, read = _membership(init.node)
    tested = (found_in - read) | (passed_on(interp, passes, _tested) - found_in - read)
    given = given_in_file(cls, init.node)
    flags: dict[str, Any] | None = None
    for param in required_params(init.node):
        name = param.name.value
        if name in given and name not in tested:
            found.first[name] = found.second[name] = given[name]
            found.given.append(f"{name}={given[name]!r}")
            continue
        if name in tested:
            found.first[name], found.second[name] = (), EVERYTHING
            found.stand_ins.append(name)
            continue
        kind = _number_kind(param, counted)
        if kind is not None:
            if kind == "count":
                found.counts.append(name)
            found.first[name], found.second[name] = _stand_ins_for(kind, name, sizes)
            sizes += kind == "size"
            found.stand_ins.append(name)
            continue
        config = _configuration(interp, cls, init, param)
        if config is None:
            flags = flags_passed_on(passes) if flags is None else flags
            if name not in flags:
                return None
            value, owner = flags[name]
            found.first[name] = found.second[name] = value
            found.defaults.append(f"{name}={value!r} as {owner} defaults it")
            continue
        value, label = config
        found.first[name] = found.second[name] = value
        found.configs.append(label)
    return found


def _configuration(interp: Any, cls: ClassVal, init: FuncVal, param: cst.Param) -> tuple[Any, str] | None:
    annotation = param.annotation.annotation if param.annotation is not None else None
    if annotation is not None:
        target = evaluate(interp, init, annotation)
        if isinstance(target, ClassVal) and not target.is_module:
            value = _defaults(interp, target)
            return (value, f"{target.name}()") if value is not None else None
        return None
    if not _CONFIG_NAME.match(param.name.value):
        return None
    factory, _ = interp.class_attr(cls, "get_default_config")
    if isinstance(factory, FuncVal) and (getattr(factory, "static", False) or getattr(factory, "classmethod", False)):
        value = _called(interp, factory, cls)
        if isinstance(value, Obj):
            return value, f"{cls.name}.get_default_config()"
    wanted = _attributes_read(init.node, param.name.value)
    if not wanted:
        return None
    matches = []
    for candidate in _config_classes(interp, init.file):
        value = _defaults(interp, candidate)
        if value is not None and all(_has(interp, value, attr) for attr in wanted):
            matches.append((value, f"{candidate.name}()"))
    return matches[0] if len(matches) == 1 else None


# the arguments torch's layers require, for a subclass that keeps their constructor
_TORCH_REQUIRED = {
    "Linear": ("in_features", "out_features"),
    **{f"{kind}{d}d": ("in_channels", "out_channels", "kernel_size") for kind in ("Conv", "ConvTranspose")
       for d in (1, 2, 3)},
    "Embedding": ("num_embeddings", "embedding_dim"),
    "MultiheadAttention": ("embed_dim", "num_heads"),
    **{kind: ("input_size", "hidden_size") for kind in ("RNN", "LSTM", "GRU")},
}


def fill_inherited(cls: ClassVal) -> Arguments | None:
    """Stand-ins for the arguments of a torch layer's constructor that a subclass keeps
    (``class Linear(nn.Linear)`` overriding only forward, whisper's), or None."""
    names = _TORCH_REQUIRED.get(cls.torch_base or "")
    if names is None:
        return None
    found = Arguments()
    sizes = 0
    for name in names:
        kind = _number_kind(cst.Param(cst.Name(name)))
        if kind not in ("size", "heads", "geometry"):
            return None
        found.first[name], found.second[name] = _stand_ins_for(kind, name, sizes)
        sizes += kind == "size"
        found.stand_ins.append(name)
    return found


def _stand_ins_for(kind: str, name: str, sizes: int) -> tuple[Any, Any]:
    """The two stand-ins for a parameter of ``kind`` (``_number_kind``); ``sizes``: how many
    sizes came before it, so that two widths of one model differ."""
    if kind == "count":
        return _LAYER_COUNTS
    if kind == "size":
        return _WIDTHS[0][sizes % 6], _WIDTHS[1][sizes % 6]
    if kind == "heads":
        return _HEAD_COUNTS
    if kind == "head size":
        return _HEAD_SIZES_STAND_INS
    if kind == "geometry":
        return next(values for pattern, values in _GEOMETRY if pattern.match(name))
    return 0.1, 0.1


def _called(interp: Any, factory: FuncVal, cls: ClassVal) -> Any:
    before = interp.incomplete, len(interp.reasons)
    try:
        value = interp.invoke(factory, [cls] if getattr(factory, "classmethod", False) else [], {})
    except (Abort, RecursionError):
        value = UNKNOWN
    interp.incomplete, interp.reasons[before[1]:] = before[0], []
    return value


def _defaults(interp: Any, config: ClassVal) -> Obj | None:
    """An instance of a configuration class built from its defaults alone, or None when
    building it needs an argument or fails, or when a base of it lies outside the linted tree
    (a library's config class sets attributes the interpreter cannot see)."""
    written = [dotted(arg.value) for arg in config.node.bases if arg.keyword is None]
    if any(not isinstance(base, ClassVal) and name != "object" for base, name in zip(config.bases, written)):
        return None
    if any(_takes_any_keyword(klass) for klass in config.mro()):
        return None  # ``__init__(self, ..., **kwargs)`` hands its defaults to a base: a framework's config
    before = interp.incomplete, len(interp.reasons)
    try:
        value = interp.instantiate(config, [], {}, None)
    except (Abort, RecursionError):
        value = UNKNOWN
    failed = interp.incomplete and not before[0]
    interp.incomplete, interp.reasons[before[1]:] = before[0], []
    if failed or not isinstance(value, Obj):
        return None
    return value


def _takes_any_keyword(klass: ClassVal) -> bool:
    body = klass.node.body.body if type(klass.node.body) is cst.IndentedBlock else ()
    return any(type(s) is cst.FunctionDef and s.name.value == "__init__" and s.params.star_kwarg is not None
               for s in body)


def _has(interp: Any, value: Obj, attr: str) -> bool:
    return attr in value.attrs or interp.class_attr(value.cls, attr)[1] is not None


def _attributes_read(init: cst.FunctionDef, name: str) -> set[str]:
    return {
        node.attr.value for node in walk(init.body)
        if type(node) is cst.Attribute and type(node.value) is cst.Name and node.value.value == name
    }


def _config_classes(interp: Any, file: Any) -> list[ClassVal]:
    """Configuration classes of the file or imported into it, by their names (``GPTConfig``,
    ``ModelArgs``) or as dataclasses of the file."""
    found = []
    names = [n for n, stmt in file.definitions.items() if type(stmt) is cst.ClassDef]
    names += [n for n in file.imports if _CONFIG_CLASS.search(n)]
    for name in names:
        stmt = file.definitions.get(name)
        if type(stmt) is cst.ClassDef and not (_CONFIG_CLASS.search(name) or _is_dataclass(stmt)):
            continue
        try:
            value = interp.global_value(file, name)
        except (Abort, RecursionError):
            continue
        if isinstance(value, ClassVal) and not value.is_module:
            found.append(value)
    return found


def _is_dataclass(stmt: cst.ClassDef) -> bool:
    for decorator in stmt.decorators:
        expr = decorator.decorator.func if type(decorator.decorator) is cst.Call else decorator.decorator
        if (dotted(expr) or "").endswith("dataclass"):
            return True
    return False
