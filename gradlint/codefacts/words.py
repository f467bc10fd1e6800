"""What a file's text must contain for each code analysis to find anything: the rules
declare these as their ``needs`` (``gradlint.textmatch``). Plain data, no parser: the
planner reads them before any rule module's analysis is imported."""

from __future__ import annotations

from gradlint.textmatch import AllOf, AnyOf, Pattern, Words

# some class or function of the text is a ``forward``: the facts of the files' modules
# (``module_classes``) are about classes with a forward of their own
NEEDS_FORWARD = Pattern(r"def\s+forward\b")

# how a graph cut is spelled, in a class's own forward
CUT_WORDS = ("detach", "grad", ".data", ".item", "tolist", "numpy", "float(", "int(", "tensor(", "array(")
CUT_TEXT = Words(*CUT_WORDS)
# an import from a file of the tree, whose helpers forward may call (and cut in); the
# libraries the torch table describes, and the standard ones, hold no model code
IMPORTS_FROM_THE_TREE = Pattern(
    r"(?m)^[ \t]*(?:from[ \t]+(?!(?:torch|numpy|typing|__future__|math|os|sys)\b)[\w.]+[ \t]+import"
    r"|import[ \t]+(?!(?:torch|numpy|typing|math|os|sys)\b)\w)"
)
# "forward" alone is in the docstrings of tokenizers and configurations too
NEEDS_CUTS = AllOf(NEEDS_FORWARD, AnyOf(Words(*CUT_WORDS), IMPORTS_FROM_THE_TREE))

# the activation may sit in an imported model file; the loss must be in the checked one
NEEDS_LOSS = Words("cross_entropy", "crossentropy", "nll", "bce", "binary_cross_entropy", ignore_case=True)

# every loop-order issue is about a ``backward()`` call
NEEDS_BACKWARD = Pattern(r"backward\s*\(")
