"""A process's peak memory, read from Linux's /proc.

``VmHWM`` starts afresh at exec, unlike ``getrusage``'s ``ru_maxrss``, which
a child inherits from a large parent (a benchmark driver that generated a
big file would otherwise show its own peak in every child's figure)."""

from __future__ import annotations

from pathlib import Path


def peak_mib(pid: int | str = "self") -> float:
    """Peak resident memory of process ``pid`` (default: this one), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
