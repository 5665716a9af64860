"""The references py-tree-sitter keeps to what a parse's read callback returns, given back.

`Parser.parse(read, progress_callback=...)` is the binding's only way to parse with a deadline,
and py-tree-sitter 0.25-0.26 never releases the bytes object the read callback returns: every
file parsed that way stayed in memory for the life of the process (~24 MB of source in each
parse worker of a cold index at 100,000 symbols, and every file a long-running daemon ever
re-parsed). `Returned` records what the callback handed over and, once the parse is done,
drops the references the binding kept: exactly as many as a probe parse, made once per
process, shows it keeps per returned object, so a fixed binding (zero) is left alone.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from typing import Any

from tree_sitter import Parser

_decref: Any = ctypes.pythonapi.Py_DecRef
_decref.argtypes = [ctypes.py_object]
_decref.restype = None

_kept: int | None = None  # references the binding keeps per returned object (0: none)
_lock = threading.Lock()


def kept_per_return(parser: Parser) -> int:
    """References the binding keeps to each object a read callback returns: measured once,
    by a probe parse of a fresh bytes object with `parser` (any language will do)."""
    global _kept
    if _kept is None:
        with _lock:
            if _kept is None:
                probe = bytes(bytearray(b"x\n"))  # a fresh object, never shared or interned
                returned = [0]

                def read(offset: int, _point: object) -> bytes:
                    if offset == 0:
                        returned[0] += 1
                        return probe
                    return b""

                before = sys.getrefcount(probe)
                tree = parser.parse(read)
                del tree
                parser.reset()
                extra = sys.getrefcount(probe) - before
                # each leaked reference is given back here too, so the probe is freed
                for _ in range(max(0, extra)):
                    _decref(probe)
                _kept = extra // returned[0] if returned[0] and extra > 0 else 0
    return _kept


class Returned:
    """What one parse's read callback handed to the binding (`add`), released by `release`
    once the parse has returned (or failed)."""

    __slots__ = ("objects",)

    def __init__(self) -> None:
        self.objects: list[bytes] = []

    def add(self, data: bytes) -> bytes:
        self.objects.append(data)
        return data

    def release(self, kept: int) -> None:
        for obj in self.objects:
            for _ in range(kept):
                _decref(obj)
        self.objects.clear()
