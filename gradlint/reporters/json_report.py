"""Machine-readable findings, errors and the static gradient estimate of each model."""

from __future__ import annotations

import json

from gradlint import __version__
from gradlint.diagnostics import RunResult
from gradlint.docs import rule_url


def render(result: RunResult, context) -> str:
    document = {
        "version": __version__,
        "findings": [{**f.to_json(), "url": rule_url(f.code)} for f in result.findings],
        "errors": [e.to_json() for e in result.errors],
        "models": [m.to_json() for m in result.models],
    }
    return json.dumps(document, indent=2) + "\n"
