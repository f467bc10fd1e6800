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
# modules that hold no code of the checked tree: the torch table describes the first, the
# others are libraries; a helper imported from anywhere else may be a file of the tree
OUTSIDE_THE_TREE = ("torch", "numpy", "np", "scipy", "typing", "__future__", "math", "os", "sys")
_OUTSIDE = "|".join(OUTSIDE_THE_TREE)
# an import from a file of the tree, whose helpers forward may call (and cut in)
IMPORTS_FROM_THE_TREE = Pattern(
    rf"(?m)^[ \t]*(?:from[ \t]+(?!(?:{_OUTSIDE})\b)[\w.]+[ \t]+import"
    rf"|import[ \t]+(?!(?:{_OUTSIDE})\b)\w)"
)
# "forward" alone is in the docstrings of tokenizers and configurations too
NEEDS_CUTS = AllOf(NEEDS_FORWARD, AnyOf(Words(*CUT_WORDS), IMPORTS_FROM_THE_TREE))

# the activation may sit in an imported model file; the loss must be in the checked one
NEEDS_LOSS = Words("cross_entropy", "crossentropy", "nll", "bce", "binary_cross_entropy", ignore_case=True)

# every loop-order issue is about a ``backward()`` call
NEEDS_BACKWARD = Pattern(r"backward\s*\(")
# ... or about a LightningModule's training_step, whose backward Lightning calls
NEEDS_LIGHTNING_CLIP = AllOf(Words("training_step"), Words("clip_grad"))
