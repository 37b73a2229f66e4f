"""The font that badges and name tags are set in: one that has every Vietnamese letter, or one clear error.

Order: `HCC_FONT` (and `HCC_FONT_BOLD`) when set, else DejaVu Sans shipped in `exports/fonts/`, else a
system font that covers Vietnamese. A font set by the operator that is missing or lacks Vietnamese letters is
an error, not a silent fallback: the operator asked for that font.

The two settings are read from the process environment; bot/settings.py checks them at start and puts a value
from `.env` there, so this module needs no settings object.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError  # a dependency of fpdf2

FONT_ENV = "HCC_FONT"
BOLD_FONT_ENV = "HCC_FONT_BOLD"
SHIPPED_DIR = Path(__file__).parent / "fonts"
SHIPPED = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
# System fonts known to cover Vietnamese, best first, by file name.
SYSTEM_CANDIDATES = {
    False: ("DejaVuSans.ttf", "NotoSans-Regular.ttf", "LiberationSans-Regular.ttf", "FreeSans.ttf", "arial.ttf",
            "Arial.ttf", "tahoma.ttf"),
    True: ("DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf", "LiberationSans-Bold.ttf", "FreeSansBold.ttf", "arialbd.ttf",
           "Arial Bold.ttf", "tahomabd.ttf"),
}
SYSTEM_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts",
               Path.home() / ".fonts", Path("/Library/Fonts"), Path("/System/Library/Fonts/Supplemental")]
if sys.platform == "win32":
    SYSTEM_DIRS.append(Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts")
# Every letter and tone mark of Vietnamese, upper and lower case, and the dash used in titles.
VIETNAMESE_SAMPLE = (
    "Nguyễn Thị Ánh Tuyết – Phó Giám đốc Sở Tư pháp, ỹ Ỷ ừ ợ đ Đ "
    "ĂÂĐÊÔƠƯăâđêôơư "
    "àáảãạ ằắẳẵặ ầấẩẫậ èéẻẽẹ ềếểễệ ìíỉĩị òóỏõọ ồốổỗộ ờớởỡợ ùúủũụ ừứửữự ỳýỷỹỵ "
    "ÀÁẢÃẠ ẰẮẲẴẶ ẦẤẨẪẬ ÈÉẺẼẸ ỀẾỂỄỆ ÌÍỈĨỊ ÒÓỎÕỌ ỒỐỔỖỘ ỜỚỞỠỢ ÙÚỦŨỤ ỪỨỬỮỰ ỲÝỶỸỴ"
)
FIX = "install fonts-dejavu-core, or set HCC_FONT to a .ttf font that covers Vietnamese"


class FontMissing(RuntimeError):
    """No usable font; str() is one line saying what is missing and how to fix it."""


def find_font(bold: bool = False) -> Path:
    """The TTF file to set badges and name tags in; raises FontMissing when none covers Vietnamese."""
    name = BOLD_FONT_ENV if bold and os.environ.get(BOLD_FONT_ENV) else FONT_ENV  # bold falls back to HCC_FONT
    env = os.environ.get(name)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise FontMissing(f"{name}: {path} is not a file; {FIX}")
        if not font_covers(path, VIETNAMESE_SAMPLE):
            lacking = "".join(sorted(set(VIETNAMESE_SAMPLE) - covered_characters(path) - {" "}))
            raise FontMissing(f"{name}: {path} lacks Vietnamese letters ({lacking[:20]}); {FIX}")
        return path
    shipped = SHIPPED_DIR / SHIPPED[bold]
    if font_covers(shipped, VIETNAMESE_SAMPLE):
        return shipped
    for candidate in _system_candidates(bold):
        if font_covers(candidate, VIETNAMESE_SAMPLE):
            return candidate
    style = "bold " if bold else ""
    raise FontMissing(f"no {style}font covering Vietnamese: {SHIPPED[bold]} is not in {SHIPPED_DIR} and no system "
                      f"font has all Vietnamese letters; {FIX}")


def font_covers(path: Path, text: str) -> bool:
    """Whether the font's character map has a glyph for every non-space character of the text."""
    cmap = covered_characters(path)
    return all(ch in cmap for ch in text if not ch.isspace())


def covered_characters(path: Path) -> frozenset[str]:
    """The characters a font file maps to glyphs; empty when the file is missing or not a font."""
    return _codepoints(str(path))


@lru_cache(maxsize=32)
def _codepoints(path: str) -> frozenset[str]:
    """The characters a font file maps to glyphs; empty when the file is missing or not a font."""
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
    except (OSError, TTLibError, AssertionError, KeyError, ValueError, IndexError):
        return frozenset()
    return frozenset(map(chr, cmap))


@lru_cache(maxsize=8)
def advance_widths(path: Path) -> dict[str, float]:
    """Each character's advance width in em, for measuring text without asking the PDF library per string."""
    with TTFont(str(path), lazy=True, fontNumber=0) as font:
        units = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        return {chr(code): metrics[glyph][0] / units for code, glyph in (font.getBestCmap() or {}).items()}


def _system_candidates(bold: bool) -> list[Path]:
    """Known Vietnamese-capable font files found under the system font folders, best first."""
    found: list[Path] = []
    for name in SYSTEM_CANDIDATES[bold]:
        for folder in SYSTEM_DIRS:
            if folder.is_dir():
                found += sorted(folder.rglob(name))
    return found
