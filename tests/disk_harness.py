"""A folder on a real, nearly full disk (a 64 kB tmpfs), and the real command line run in it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 64 kB tmpfs (root only: CI and this machine), for a module's ``full_disk`` fixture."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        # Lazily: a file a failed test left open must not keep the mount behind.
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the disk, then free ``leave`` bytes: a writer gets that far before it fails."""
    filler = folder / "filler"
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 4096)
    if leave:
        os.truncate(filler, max(filler.stat().st_size - leave, 0))


def run_cli(*args: str, cwd: Path, db_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """``nmrf-bot ARGS`` in a process of its own, on the tests' clock: what Python
    itself prints at exit (an 'Exception ignored' from a finaliser) is seen too."""
    child = (
        "import sys\n"
        "from bot.cli import main\n"
        "from tests.fakes import FakeClock\n"
        "main(sys.argv[1:], clock=FakeClock())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if db_url is not None:
        env["NMRF_DATABASE_URL"] = db_url
    return subprocess.run(
        [sys.executable, "-c", child, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
