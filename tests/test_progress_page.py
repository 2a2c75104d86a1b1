"""The progress page: its content, the public variant, and the charts as
headless Chromium draws them."""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.chat_harness import TRICKY
from tests.test_reports import registry, run  # noqa: F401 - the fixture is shared

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
GREEN, BLUE = (0x2E, 0x9E, 0x5B), (0x4F, 0x9A, 0xD8)


def screenshot(page: Path, out: Path, profile: Path) -> Image.Image:
    assert CHROMIUM, "Debian's chromium is needed (.ci/run installs it)"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
         "--hide-scrollbars", "--window-size=1200,1800", f"--screenshot={out}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    return Image.open(out).convert("RGB")


def share_of(image: Image.Image, colour: tuple[int, int, int]) -> float:
    data = image.tobytes()
    close = sum(
        1 for i in range(0, len(data), 3)
        if abs(data[i] - colour[0]) <= 6 and abs(data[i + 1] - colour[1]) <= 6 and abs(data[i + 2] - colour[2]) <= 6
    )
    return close / (image.width * image.height)


async def test_the_progress_page_and_its_public_variant(registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    internal, public = tmp_path / "progress.html", tmp_path / "public.html"
    # Every input counts here (tests/test_public_tracker.py: only validated input, the default).
    (tmp_path / "config.toml").write_text("[reports]\npublic_requires_validation = false\n", encoding="utf-8")
    await run("report", "progress", "--out", str(internal))
    await run("report", "progress", "--out", str(public), "--public")
    inside, outside = internal.read_text(encoding="utf-8"), public.read_text(encoding="utf-8")
    for page in (inside, outside):
        # Self-contained: five inline charts (the CEDAW one has an SDG target), nothing loaded from anywhere.
        assert page.count("<svg") == 5 and "<script" not in page and "<link" not in page and " src=" not in page
        assert "As of" in page and "1 of 7 recommendations have an update" in page
    # Internal: the latest narrative, escaped, and who gave it.
    assert html.escape(TRICKY) in inside and "<b>bold</b>" not in inside and "Ana Pérez" in inside
    # Public: no narratives, no next steps, no individuals; institutions and statuses stay.
    for private in ("Ana Pérez", html.escape(TRICKY), "Bill drafted", "-1 more decree", "informe.pdf"):
        assert private not in outside
    assert "fully implemented" in outside and "MOJ" in outside


async def test_names_with_dollars_and_backslashes_are_text_not_formulas(registry: dict[str, int], sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """matplotlib reads $...$ as TeX: such a cluster name once stopped the page."""
    from storage.clusters import add_cluster, put_in_cluster
    from storage.selection import Selector

    name = r"Fees in $\frac$ (C:\data)"
    async with sessions() as session, session.begin():
        await add_cluster(session, name)
        await put_in_cluster(session, name, Selector(ids=(registry["mine"],)))
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "progress.html"
    await run("report", "progress", "--out", str(page))
    assert page.read_text(encoding="utf-8").count("<svg") == 5


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
async def test_chromium_draws_the_charts(registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "progress.html"
    await run("report", "progress", "--out", str(page))
    shot = screenshot(page, tmp_path / "shot.png", tmp_path / "profile")
    # Fully implemented (green) bars and the response-rate (blue) bars are on screen.
    assert share_of(shot, GREEN) > 0.0005 and share_of(shot, BLUE) > 0.0005
    # A page whose charts are missing shows neither colour: the check can fail.
    blank = tmp_path / "blank.html"
    blank.write_text(page.read_text(encoding="utf-8").split('<div class="charts">')[0] + "</body></html>", encoding="utf-8")
    empty = screenshot(blank, tmp_path / "blank.png", tmp_path / "profile2")
    assert share_of(empty, GREEN) == 0 and share_of(empty, BLUE) == 0
