"""The fonts the charts are drawn with, so Arabic and Chinese labels are real
glyphs, not boxes.

matplotlib's own DejaVu Sans has no Chinese and only part of Arabic; since
3.11 matplotlib shapes text with libraqm (joined Arabic letters, right to
left runs) and falls back glyph by glyph along ``font.family``. The Noto
fonts come with Debian's fonts-noto-core (Noto Sans Arabic) and
fonts-noto-cjk (Noto Sans CJK SC), which .ci/run installs. matplotlib reads
the system's fonts into a cache once, so fonts installed after that cache
was made are not known to it: they are added here by file, from the
system's font folders.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from matplotlib import font_manager

log = logging.getLogger(__name__)

ARABIC, CHINESE, LATIN = "Noto Sans Arabic", "Noto Sans CJK SC", "DejaVu Sans"
# A family's files as Debian (and Noto's own releases) name them; a .ttc
# holds the CJK faces of every region, SC among them.
_FILES = {
    ARABIC: ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    CHINESE: ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJKsc-Bold.otf"),
}
_FOLDERS = (*font_manager.X11FontDirectories, str(Path.home() / ".local/share/fonts"), str(Path.home() / ".fonts"))


def _known() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


@cache
def available() -> frozenset[str]:
    """The Noto families matplotlib can draw with, each added by file when its cache lacks it."""
    known = _known()
    for family, names in _FILES.items():
        if family in known:
            continue
        for folder in _FOLDERS:
            root = Path(folder)
            if not root.is_dir():
                continue
            for name in names:
                for path in root.rglob(name):
                    try:
                        font_manager.fontManager.addfont(str(path))
                    except (OSError, RuntimeError, ValueError) as exc:  # a broken file: the next one may do
                        log.warning("chart font %s could not be read: %s", path, exc)
        known = _known()
        if family not in known:
            log.warning("%s is not installed: chart labels in its script may be drawn as boxes", family)
    return frozenset(f for f in _FILES if f in known)


def families(language: str) -> list[str]:
    """``font.family`` for a chart in ``language``: its script's font first,
    then the others, so any name in any script (a cluster named in Arabic on
    an English page) still finds its glyphs."""
    have = available()
    first = {"ar": [ARABIC], "zh": [CHINESE]}.get(language, [])
    order = [*first, LATIN, *(f for f in (ARABIC, CHINESE) if f not in first)]
    return [f for f in order if f == LATIN or f in have]
