"""Linux's prctl(2), for the few process settings gradlint needs; a no-op elsewhere."""

from __future__ import annotations

import sys
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


def prctl(option: int, argument: Any = 0) -> int | None:
    """``prctl(option, argument, 0, 0, 0)``: its result, or None where there is no prctl.

    prctl is variadic and reads unsigned longs: a plain int would leave the upper half of
    each register undefined, so an int argument is passed as an unsigned long (a pointer,
    from ``ctypes.byref``, as it is).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        call = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    if isinstance(argument, int):
        argument = ctypes.c_ulong(argument)
    return call(option, argument, *(ctypes.c_ulong(0) for _ in range(3)))
