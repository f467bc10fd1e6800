"""What a model's output ends in (softmax, sigmoid, ...) as it reaches each loss call of a file."""

from __future__ import annotations

import re

import libcst as cst

from gradlint.codefacts.flow import Flow
from gradlint.codefacts.loss_domain import MAX_FILE_DEPTH, LossDomain, Mismatch, loss_of

MAX_METHOD_DEPTH = 3
from gradlint.codefacts.modules import (
    ClassFacts,
    module_classes,
    root_classes,
    top_level_statements,
)
from gradlint.codefacts.syntax import (
    cached_fact,
    classes_of,
    defines_forward,
    function_params,
    imports_of,
    iter_functions,
    method_call,
    statements,
    walk,
)
from gradlint.codefacts.words import NEEDS_LOSS
from gradlint.names import canonical_torch, dotted, word_search
from gradlint.source import SourceFile


class FileAnalysis:
    def __init__(self, source: SourceFile, depth: int = 0, others: dict | None = None) -> None:
        self.source = source
        self.depth = depth
        # the other files' analyses, one per file and depth, shared by every analysis that
        # serves this file's check (so the dependencies they read are this file's)
        self.others: dict[tuple[str, int], FileAnalysis] = {} if others is None else others
        self.foreign: dict[str, tuple[FileAnalysis, str]] = {}
        self.foreign_classes: dict[str | None, str | None] = {}
        self.imports = imports_of(source)
        self.facts: dict[str, ClassFacts] = module_classes(source)
        self.classes = self.facts
        self.outputs: dict[str, frozenset] = {}
        self.returns: dict[str, frozenset] = {}
        self.running: set[tuple[str, str]] = set()
        self.method_results: dict = {}
        self.builders: dict[str, frozenset] = {}
        self.mismatches: dict[int, Mismatch] = {}
        self.globals: dict = {}
        self.attributes: dict[str, dict] = {}
        self._candidates: frozenset | None = None
        self.functions = {
            s.name.value: s for s in source.module.body if type(s) is cst.FunctionDef
        }
        self.call_args: dict[str, dict[str, frozenset]] = {}

    def bind_call(self, name: str, call: cst.Call, values: list) -> None:
        """What a call in this file passes to each parameter of a function of this file."""
        params = [p.name.value for p in function_params(self.functions[name])]
        bound = self.call_args.setdefault(name, {})
        position = 0
        for arg, value in zip(call.args, values):
            if arg.star:
                return
            if arg.keyword is not None:
                key = arg.keyword.value
            elif position < len(params):
                key = params[position]
                position += 1
            else:
                continue
            bound[key] = bound.get(key, frozenset()) | value

    def run(self) -> list[Mismatch]:
        domain = LossDomain(self, "<module>", record=False)
        self.globals = Flow(domain).run(top_level_statements(self.source.module), {})
        may_record = self.may_record()
        for func, owner in iter_functions(self.source.module):
            if may_record(func, owner):
                self.run_function(func, owner)
        domain = LossDomain(self, "<module>", record=True)
        Flow(domain).run(top_level_statements(self.source.module), {})
        for name, bound in list(self.call_args.items()):
            # again, with what the file's own calls pass to the parameters
            self.run_function(self.functions[name], None, bound)
        return list(self.mismatches.values())

    def may_record(self):
        """Which functions may call a loss, decided on their text: running the others would
        record nothing. A mismatch is recorded only at a loss call, and a function reaches
        one only through a name in its text: a loss (or an alias of one), a global holding
        one, a function of the file that may call one (a call binds what it passes, and the
        callee runs again with it), or a class that may hold one (or, for a method, its own
        class). Most methods of a large model file name none of these."""
        names = {name for name, value in self.globals.items() if any(item[0] == "loss" for item in value)}
        for local, qualified in self.imports.aliases.items():
            if loss_of(canonical_torch(qualified)) is not None:
                names.add(local)
        units = {cls: self.source.class_text(cls) for cls in classes_of(self.source)}
        units.update((func, self.source.function_text(func)) for func in self.functions.values())
        worded = {unit for unit, text in units.items() if text is None or NEEDS_LOSS.matches(text)}
        bearing: set = set()
        while True:  # naming a unit that may reach a loss makes a unit one too
            pattern = _names_pattern(names)
            found = {unit for unit, text in units.items()
                     if unit not in bearing and (unit in worded or _names_any(pattern, text))}
            if not found:
                break
            bearing |= found
            names.update(unit.name.value for unit in found)

        def may_record(func: cst.FunctionDef, owner: cst.ClassDef | None) -> bool:
            if owner is not None and owner in bearing:
                return True
            text = self.source.function_text(func)
            return text is None or NEEDS_LOSS.matches(text) or _names_any(pattern, text)

        return may_record

    def initial_env(self, func: cst.FunctionDef, owner: cst.ClassDef | None) -> dict:
        env: dict = {}
        if owner is not None:
            env.update(self.class_attributes(owner))
            if owner.name.value in self.classes:
                env["self"] = frozenset({("instance", owner.name.value)})
        for param in function_params(func):
            value = frozenset()
            if param.annotation is not None:
                name = dotted(param.annotation.annotation)
                if name in self.classes:
                    value = frozenset({("instance", name)})
                elif name is not None:
                    key = self.foreign_class(self.imports.qualify(param.annotation.annotation))
                    value = frozenset({("foreign_instance", key)}) if key else frozenset()
            if not value and param.default is not None:
                value = self.default_of(param.default)
            if param.name.value != "self":
                env[param.name.value] = value
            elif owner is None or owner.name.value not in self.classes:
                env.pop("self", None)
        return env

    def class_attributes(self, owner: cst.ClassDef) -> dict:
        key = owner.name.value
        if key not in self.attributes:
            self.attributes[key] = {}
            init = next(
                (
                    s
                    for s in statements(owner.body)
                    if type(s) is cst.FunctionDef and s.name.value == "__init__"
                ),
                None,
            )
            if init is not None:
                env = {
                    p.name.value: self.default_of(p.default) if p.default is not None else frozenset()
                    for p in function_params(init)
                    if p.name.value != "self"
                }
                after = Flow(LossDomain(self, f"{key}.__init__", record=False)).run(
                    list(statements(init.body)), env
                )
                # the builders __init__ calls on self (self._build_model()) set attributes too
                methods = {s.name.value: s for s in statements(owner.body) if type(s) is cst.FunctionDef}
                for node in walk(init):
                    found = method_call(node) if type(node) is cst.Call else None
                    if found and dotted(found[0]) == "self" and found[1] in methods and found[1] != "__init__":
                        builder = methods[found[1]]
                        after = Flow(LossDomain(self, f"{key}.{found[1]}", record=False)).run(
                            list(statements(builder.body)), after
                        )
                self.attributes[key] = {k: v for k, v in after.items() if k.startswith("self.")}
        return self.attributes[key]

    def default_of(self, default: cst.BaseExpression) -> frozenset:
        """A parameter's default, when it names a loss (``criterion=nn.CrossEntropyLoss``)."""
        value = LossDomain(self, "<defaults>", record=False).evaluate(default, {})
        return frozenset(item for item in value if item[0] in ("loss", "loss_type"))

    def run_function(
        self, func: cst.FunctionDef, owner: cst.ClassDef | None, bound: dict | None = None
    ) -> None:
        scope = f"{owner.name.value}.{func.name.value}" if owner is not None else func.name.value
        env = self.initial_env(func, owner)
        for key, value in (bound or {}).items():
            if key in env and not env[key]:
                env[key] = value
        Flow(LossDomain(self, scope, record=True)).run(list(statements(func.body)), env)

    def run_method(self, cls: str, name: str, call: cst.Call, args: list, record: bool):
        """``self.loss(logits, labels)``: a method of the class run on what the call passes
        (its parameters bound by position and keyword); what it returns, or None for a
        method that is not the class's own or runs already."""
        facts = self.classes.get(cls)
        method = facts.methods.get(name) if facts is not None else None
        key = (cls, name)
        if method is None or name in ("forward", "__init__") or key in self.running:
            return None
        keywords = tuple(a.keyword.value if a.keyword is not None else None for a in call.args)
        memo = (cls, name, keywords, tuple(args), record)
        if memo in self.method_results:  # the same method on the same values: the same answer
            return self.method_results[memo]
        if len(self.running) >= MAX_METHOD_DEPTH:
            return None
        env = self.initial_env(method, facts.node)
        params = [p.name.value for p in function_params(method)][1:]
        for param, arg, value in zip(params, call.args, args):
            if arg.keyword is None and not arg.star and value:
                env[param] = value
        for arg, value in zip(call.args, args):
            if arg.keyword is not None and value:
                env[arg.keyword.value] = value
        self.running.add(key)
        try:
            flow = Flow(LossDomain(self, f"{cls}.{name}", record=record))
            flow.run(list(statements(method.body)), env)
        finally:
            self.running.discard(key)
        self.method_results[memo] = frozenset(flow.returned() or ()) or None
        return self.method_results[memo]

    def returned_by(self, name: str) -> frozenset:
        """What a function of this file returns, whatever it is passed (a model builder)."""
        if name in self.returns:
            return self.returns[name]
        self.returns[name] = frozenset()  # recursion guard
        func = self.functions[name]
        flow = Flow(LossDomain(self, name, record=False))
        flow.run(list(statements(func.body)), self.initial_env(func, None))
        self.returns[name] = frozenset(flow.returned() or ())
        return self.returns[name]

    def output_of(self, cls: str) -> frozenset:
        """What ``cls.forward`` returns, joined over its return statements."""
        if cls in self.outputs:
            return self.outputs[cls]
        self.outputs[cls] = frozenset()  # recursion guard: unknown while being computed
        facts = self.classes[cls]
        forward = facts.methods["forward"]
        flow = Flow(LossDomain(self, f"{cls}.forward", record=False))
        flow.run(list(statements(forward.body)), self.initial_env(forward, facts.node))
        result = flow.returned() or frozenset()
        self.outputs[cls] = frozenset(result)
        return self.outputs[cls]

    def foreign_class(self, qualified: str | None) -> str | None:
        """A model class imported from another file of the tree, parsed on demand; its key in
        ``foreign``. The same answer each time: worked out once per name."""
        if qualified not in self.foreign_classes:
            self.foreign_classes[qualified] = self._foreign_class(qualified)
        return self.foreign_classes[qualified]

    def _foreign_class(self, qualified: str | None) -> str | None:
        if not qualified or qualified.startswith("torch") or self.depth >= MAX_FILE_DEPTH:
            return None
        module, _, name = qualified.rpartition(".")
        resolver = self.source.resolver
        if resolver is None or not module or not name[:1].isupper():
            return None
        # only a class with a forward of its own is one of the other file's models; most
        # files are turned down on their text, unparsed
        other = resolver.imported_source(
            self.source.path, module, lambda text: f"class {name}" in text and defines_forward(text)
        )
        if other is None:
            return None
        key = f"{other.path}:{name}"
        if key not in self.foreign:
            analysis = self.analysis_of(other)
            if name not in analysis.classes:
                return None
            self.foreign[key] = (analysis, name)
        return key

    def foreign_builder(self, qualified: str | None) -> frozenset:
        """What a model-building function of another file of the tree returns
        (``model = build_model(cfg)``), its classes named as that file's."""
        if not qualified or qualified in self.builders or self.depth >= MAX_FILE_DEPTH:
            return self.builders.get(qualified or "", frozenset())
        self.builders[qualified] = frozenset()
        module, _, name = qualified.rpartition(".")
        resolver = self.source.resolver
        if resolver is None or not module or not name[:1].islower() or qualified.startswith("torch"):
            return frozenset()
        other = resolver.imported_source(self.source.path, module, lambda text: f"def {name}" in text)
        if other is None or other is self.source:
            return frozenset()
        analysis = self.analysis_of(other)
        if name not in analysis.functions:
            return frozenset()
        built = set()
        for item in analysis.returned_by(name):
            if item[0] in ("type", "instance"):
                key = f"{other.path}:{item[1]}"
                self.foreign[key] = (analysis, item[1])
                built.add(("foreign_" + item[0], key))
            elif item[0] in ("foreign_type", "foreign_instance"):
                self.foreign[item[1]] = analysis.foreign[item[1]]
                built.add(item)
            elif item[0] in ("makes", "out"):
                built.add(item)
        self.builders[qualified] = frozenset(built)
        return self.builders[qualified]

    def analysis_of(self, other: SourceFile) -> FileAnalysis:
        key = (other.path, self.depth + 1)
        if key not in self.others:
            self.others[key] = FileAnalysis(other, self.depth + 1, self.others)
        return self.others[key]

    def foreign_output(self, key: str) -> frozenset:
        analysis, name = self.foreign[key]
        return analysis.output_of(name)

    def candidates(self) -> frozenset:
        """The model an unresolved ``model(x)`` runs: any root class, when all roots return alike."""
        if self._candidates is None:
            roots = root_classes(self.classes, self.imports)
            shapes = {_shape(self.output_of(name)) for name in roots}
            self._candidates = (
                frozenset({("instance", roots[0])}) if len(shapes) == 1 else frozenset()
            )
        return self._candidates


def _names_pattern(names: set[str]) -> re.Pattern | None:
    """Any of ``names`` as a whole word, once word_search has checked where it starts."""
    if not names:
        return None
    alternatives = "|".join(re.escape(name) for name in sorted(names))
    return re.compile(rf"(?:{alternatives})\b")


def _names_any(pattern: re.Pattern | None, text: str) -> bool:
    return pattern is not None and word_search(pattern, text)


def _shape(value: frozenset):
    """A value without its source positions, to compare what two models return."""
    out = set()
    for item in value:
        if item[0] == "tuple":
            out.add(("tuple", tuple(_shape(part) for part in item[1])))
        else:
            out.add(item[:2])
    return frozenset(out)


def mismatches(source: SourceFile) -> list[Mismatch]:
    return cached_fact(source, "loss_mismatches", lambda: FileAnalysis(source).run())


