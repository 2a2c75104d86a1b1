"""Fewer garbage collections while a very large report is made.

A matrix of a quarter of a million rows allocates a few dicts, strings and
criteria a cell, nearly all freed by reference counting as soon as the row
is written; yet each 700 allocations start a collection, and every so often
one that walks every object of the process (SQLAlchemy's, openpyxl's, the
catalogs'): a sixth of the matrix's time went to collections that found
next to nothing. While any such report is being made the first generation
waits for many more allocations; the thresholds are given back when the
last one ends, so two reports made at once in `nmrf-bot run` cannot leave
them raised.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations before a young collection, while a large report is made (Python's default: 700).
YOUNG = 50_000
_active = 0
_before: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    global _active, _before
    if _active == 0:
        _before = gc.get_threshold()
        gc.set_threshold(max(YOUNG, _before[0]), *_before[1:])
    _active += 1
    try:
        yield
    finally:
        _active -= 1
        if _active == 0:
            gc.set_threshold(*_before)
