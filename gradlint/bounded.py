"""Reading gradlint's own files (configuration, cache entries) without blocking or bloating.

A path that is a FIFO blocks ``open()`` for ever, ``/dev/zero`` reads without end, and
a symlink may lead anywhere: these files are opened without blocking, checked to be
regular files of bounded size on the open descriptor (so nothing can be swapped in
between the check and the read), and only then read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


class NotRegularFile(OSError):
    """The path exists but is no regular file of acceptable size; the message says why.

    ``kind`` is set when the path is no regular file, ``size`` when it is over the limit.
    """

    def __init__(self, message: str, kind: str | None = None, size: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.size = size


def read_bytes(path: Path | str, limit: int, follow_symlinks: bool = True) -> bytes:
    """The content of the regular file at ``path``, at most ``limit`` bytes.

    Raises ``FileNotFoundError`` (and other ``OSError``s) as ``open`` does, and
    ``NotRegularFile`` for a pipe, a device, a folder, a file over ``limit``
    or, with ``follow_symlinks=False``, a symbolic link.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(path, flags)
    except OSError as exc:
        if not follow_symlinks and os.path.islink(path):
            raise NotRegularFile(f"{path} is a symbolic link") from None
        raise exc from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            kind = file_kind(info.st_mode)
            raise NotRegularFile(f"{path} is {kind}, not a regular file", kind=kind)
        if info.st_size > limit:
            raise NotRegularFile(f"{path} is {info.st_size} bytes, over the limit of {limit}", size=info.st_size)
        chunks = []
        left = limit + 1  # one more than allowed: a file that grew since fstat is caught
        while left > 0:
            chunk = os.read(handle, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(handle)
    data = b"".join(chunks)
    if len(data) > limit:
        raise NotRegularFile(f"{path} is over the limit of {limit} bytes", size=len(data))
    return data
