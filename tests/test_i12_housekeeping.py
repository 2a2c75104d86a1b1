"""House-keeping that issue 12 asked for and nothing kept: no wheel or other
large binary is committed (a 10 MB ruff wheel once sat at the root), ruff
comes from the dev extra, and CI runs it."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The largest tracked file today is a catalog of about 450 kB.
LARGEST = 2 << 20


def tracked() -> list[Path]:
    done = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True)
    if done.returncode or not done.stdout:
        pytest.skip("not a git checkout")
    listed = done.stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_wheel_or_large_file_is_committed() -> None:
    files = tracked()
    assert [f.name for f in files if f.suffix in (".whl", ".egg", ".tar.gz", ".zip") and "fixtures" not in f.parts] == []
    assert [str(f.relative_to(ROOT)) for f in files if f.is_file() and f.stat().st_size > LARGEST] == []


def test_ruff_is_a_dev_dependency_and_ci_runs_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(req.startswith("ruff") for req in project["project"]["optional-dependencies"]["dev"])
    assert "\nruff check ." in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
