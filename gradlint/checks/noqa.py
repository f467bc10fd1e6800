"""GL0xx: gradlint's own directives."""

from gradlint.rule import Rule
from gradlint.suppression import UNUSED_NOQA_CODE, UNUSED_NOQA_NAME


class UnusedNoqa(Rule):
    """Applied by the engine after suppression (gradlint.suppression)."""

    code = UNUSED_NOQA_CODE
    name = UNUSED_NOQA_NAME
    summary = "A `# noqa: GLxxx` directive that suppresses nothing"
    severity = "warning"
