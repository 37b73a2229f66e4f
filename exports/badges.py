"""Print-ready A4 sheets: staff badges with the 3x4 photo, and desk name tags, with cut marks.

Badges: portrait 54 x 86 mm (a card's size, for a lanyard holder), 3 x 3 = 9 per A4 sheet, 8 mm gutters; the
coloured bands bleed 2 mm past the cut so a slightly-off cut leaves no white sliver. The photo is the stored
354 x 472 JPEG embedded as it is (no re-encoding) at 29.97 x 39.96 mm, i.e. exactly 300 dpi.
Name tags: 180 x 60 mm (a desk or counter name plate), 4 per A4 sheet, for main staff.
Text is real text in an embedded TrueType subset (selectable, sharp at any zoom) that covers Vietnamese;
long names and units shrink, then wrap onto a second line, then end in "…" rather than overflow. Wrapped lines
are balanced, and the last line of a text of 3+ words never holds a single word ("… tỉnh Đồng" / "Nai").
The top band and the name tag's title name the province (ExportData.province) when there is one.

Who: the photo questions marked `badge: true` in the form (exports.data.badge_questions; when none is marked,
the template's main and backup staff), of units that submitted their report (all units with `include_drafts`).
A form without badge photos gets no badges file at all. The badges PDF ends with a list of
every such person without a badge and why: no photo (or its stored file is gone or damaged),
or the unit has not submitted yet. Units that never started have no people, so nobody of theirs is listed.

Memory: fpdf2 holds the whole document, photos included, until it writes it. Badges are therefore written in
files of at most 500 badges (~15 MB each with real photos, and under Telegram's 50 MB limit for bots), never
splitting a unit across files: `the-nhan-su.pdf` when one file is enough, else `the-nhan-su_1.pdf`, `_2`…
"""

from __future__ import annotations

import gc
import io
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fpdf import FPDF
from PIL import Image, ImageOps

from conversations import texts
from exports.faces import count_faces
from exports.data import SUBMITTED, ExportData, UnitReport, badge_questions, has_section, items
from exports.fonts import advance_widths, find_font
from exports.photo_archive import HEIGHT, WIDTH, Person, people_with_badge_photo

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

FAMILY = "HCC"
PT = 25.4 / 72  # mm per point
LEADING = 1.18  # line height / font size
PAGE_W, PAGE_H = 210.0, 297.0  # A4 portrait, mm

BADGE_W, BADGE_H = 54.0, 86.0
BADGE_COLS, BADGE_ROWS, BADGE_GUTTER = 3, 3, 8.0
BADGES_PER_FILE = 500
BLEED = 2.0
PHOTO_W, PHOTO_H = WIDTH / 300 * 25.4, HEIGHT / 300 * 25.4  # 300 dpi exactly

TAG_W, TAG_H = 180.0, 60.0
TAG_COLS, TAG_ROWS, TAG_GUTTER = 1, 4, 8.0

MARK_GAP, MARK_LEN = 2.5, 3.0  # cut marks start outside the bleed and stop before the next card's bleed

BLUE = (0, 84, 166)
RED = (190, 22, 34)
INK = (20, 20, 20)
WHITE = (255, 255, 255)
GREY = (170, 170, 170)
HEADER_FILL = (222, 233, 246)
NAME_TAG_SECTION = "main_staff"  # desk name tags are the template's main staff's
BADGE_ROLES = {"main_staff": (texts.BADGE_ROLE_MAIN, BLUE), "backup_staff": (texts.BADGE_ROLE_BACKUP, RED)}

# The list of who got no badge: A4 portrait, a table of fixed-height rows, its heading repeated on every page.
LIST_MARGIN = 15.0
LIST_COLUMNS = (10.0, 52.0, 33.0, 42.0, 43.0)  # STT, unit, role, name, reason: 180 mm
LIST_HEADER_Y, LIST_HEADER_H, LIST_ROW_H = 36.0, 8.0, 8.5
LIST_ROWS_PER_PAGE = int((PAGE_H - LIST_MARGIN - 8 - LIST_HEADER_Y - LIST_HEADER_H) // LIST_ROW_H)


@dataclass(frozen=True)
class Box:
    """A text area in mm, on the page."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Unprinted:
    """A person who got no badge, and why (texts.BADGE_MISSING_*)."""

    person: Person
    reason: str


def badge_center_name(province: str | None) -> str:
    """The badge's top band: the centre of the province, upper case."""
    province = " ".join((province or "").split())
    return texts.BADGE_CENTER_NAME_OF.format(province=province.upper()) if province else texts.BADGE_CENTER_NAME


def name_tag_title(province: str | None) -> str:
    """The name tag's title: the centre of the province."""
    province = " ".join((province or "").split())
    return texts.NAME_TAG_TITLE_OF.format(province=province) if province else texts.NAME_TAG_TITLE


def is_included(unit: UnitReport, include_drafts: bool) -> bool:
    """Whether the unit's staff get badges and name tags: submitted units, or every unit with include_drafts."""
    return include_drafts or unit.status in SUBMITTED


# --- Badges ----------------------------------------------------------------------------------------------


def build_badges(data: ExportData, path: Path, *, progress: Progress | None = None,
                 per_file: int = BADGES_PER_FILE, include_drafts: bool = False) -> list[Path]:
    """Badges of the people with a badge photo (see badge_questions), 9 per A4 sheet, then the list of who got none.

    The PDF files written; [] when there is nobody to print or list (always for a form without badge photos).
    The list is in the last file.
    """
    if not badge_questions(data.form):
        return []
    fonts = (find_font(), find_font(bold=True))  # fail with one clear line before any work
    path.parent.mkdir(parents=True, exist_ok=True)
    center = badge_center_name(data.province)
    parts: list[Path] = []
    unprinted: list[Unprinted] = []
    sheet: Sheets | None = None
    total = len(data.units)
    for done, unit in enumerate(data.units, 1):
        printable, skipped = unit_badges(data, unit, include_drafts)
        unprinted += skipped
        if printable:
            if sheet is not None and sheet.count + len(printable) > per_file:
                parts.append(sheet.save(_part_path(path, len(parts) + 1)))
                sheet = None
            if sheet is None:
                sheet = _badge_sheets(data, fonts)
            for person, jpeg in printable:
                draw_badge(sheet, person, jpeg, *sheet.next_slot(), center=center)
        if progress is not None:
            progress(done, total)
    if unprinted:
        sheet = sheet or _badge_sheets(data, fonts)
        draw_unprinted(sheet, unprinted)
    if sheet is not None:
        parts.append(sheet.save(_part_path(path, len(parts) + 1)))
    if len(parts) == 1:
        parts = [parts[0].replace(path)]
    return parts


def unit_badges(data: ExportData, unit: UnitReport,
                include_drafts: bool) -> tuple[list[tuple[Person, bytes]], list[Unprinted]]:
    """The unit's people who get a badge, with its JPEG, and those who do not, with the reason; in form order."""
    printable: list[tuple[Person, bytes]] = []
    unprinted: list[Unprinted] = []
    for person in people_with_badge_photo(data, unit):
        if not is_included(unit, include_drafts):
            unprinted.append(Unprinted(person, texts.BADGE_MISSING_NOT_SUBMITTED))
            continue
        jpeg = None
        if person.photo is not None:
            try:
                jpeg = badge_jpeg(person.photo)
            except OSError as exc:  # a damaged stored file: one missing badge, not a failed export
                log.warning("unit %s: no badge for %s #%d: %s", unit.code, person.section.key, person.stt,
                            type(exc).__name__)
        if jpeg is None:
            unprinted.append(Unprinted(person, texts.BADGE_MISSING_NO_PHOTO))
        else:
            printable.append((person, jpeg))
            if not has_one_face(jpeg):  # printed as it is, and listed so the photo is replaced before printing
                unprinted.append(Unprinted(person, texts.BADGE_MISSING_NO_FACE))
    return printable, unprinted


def faceless(data: ExportData, unit: UnitReport) -> list[Person]:
    """The unit's people whose badge photo does not show exactly one face (they are listed for a new photo)."""
    out = []
    for person in people_with_badge_photo(data, unit):
        if person.photo is None:
            continue
        try:
            if not has_one_face(badge_jpeg(person.photo)):
                out.append(person)
        except OSError:  # a damaged stored file is "chưa có ảnh" elsewhere
            continue
    return out


def has_one_face(jpeg: bytes) -> bool:
    """Whether the badge's photo shows exactly one face (exports/faces.py)."""
    with Image.open(io.BytesIO(jpeg)) as image:
        return count_faces(image) == 1


def _badge_sheets(data: ExportData, fonts: tuple[Path, Path]) -> Sheets:
    return Sheets(data.campaign_title, fonts, BADGE_W, BADGE_H, BADGE_COLS, BADGE_ROWS, BADGE_GUTTER)


def draw_badge(sheet: Sheets, person: Person, jpeg: bytes, x: float, y: float, *,
               center: str = texts.BADGE_CENTER_NAME) -> None:
    """One badge with its top-left corner (at the cut) at x, y; `center` in the top band."""
    pdf = sheet.pdf
    role, color = BADGE_ROLES.get(person.section.key) or (person.role_label.upper(), BLUE)
    top_h, bottom_h = 12.0, 7.0
    pdf.set_fill_color(*BLUE)
    pdf.rect(x - BLEED, y - BLEED, BADGE_W + 2 * BLEED, top_h + BLEED, style="F")
    pdf.set_fill_color(*color)
    pdf.rect(x - BLEED, y + BADGE_H - bottom_h, BADGE_W + 2 * BLEED, bottom_h + BLEED, style="F")
    sheet.write(center, Box(x + 2.5, y + 1, BADGE_W - 5, top_h - 2), bold=True,
                sizes=(8.5, 5.5), max_lines=2, color=WHITE)

    photo_x, photo_y = x + (BADGE_W - PHOTO_W) / 2, y + top_h + 2.5
    pdf.image(jpeg, photo_x, photo_y, PHOTO_W, PHOTO_H)
    pdf.set_draw_color(*GREY)
    pdf.set_line_width(0.1)
    pdf.rect(photo_x, photo_y, PHOTO_W, PHOTO_H)

    # Below the photo, down to the bottom band: name, position, unit.
    name_y = photo_y + PHOTO_H + 1.5
    position_y = name_y + 9.5
    unit_y = position_y + 6
    bottom_y = y + BADGE_H - bottom_h
    inner = BADGE_W - 4
    sheet.write(person.name, Box(x + 2, name_y, inner, position_y - name_y), bold=True, sizes=(11.5, 6),
                max_lines=2)
    sheet.write(person.position, Box(x + 2, position_y, inner, unit_y - position_y), sizes=(8, 5.5), max_lines=2)
    sheet.write(person.unit.name, Box(x + 2, unit_y, inner, bottom_y - 0.5 - unit_y), bold=True, sizes=(7.5, 5),
                max_lines=2, color=BLUE)
    sheet.write(role, Box(x + 2, bottom_y, inner, bottom_h), bold=True, sizes=(9, 5.5), max_lines=1, color=WHITE)


def badge_jpeg(source: Path) -> bytes:
    """The stored JPEG's bytes as they are when 354x472 RGB; anything else re-fitted to 354x472 once."""
    raw = source.read_bytes()
    with Image.open(io.BytesIO(raw)) as image:
        if image.format == "JPEG" and image.size == (WIDTH, HEIGHT) and image.mode in ("RGB", "L"):
            return raw
        fitted = ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"), (WIDTH, HEIGHT),
                              method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, "JPEG", quality=90, dpi=(300, 300))
    return out.getvalue()


def _part_path(path: Path, n: int) -> Path:
    return path.with_name(f"{path.stem}_{n}{path.suffix}")


# --- Name tags -------------------------------------------------------------------------------------------


def build_name_tags(data: ExportData, path: Path, *, progress: Progress | None = None,
                    include_drafts: bool = False) -> list[Path]:
    """Desk name tags of main staff, 4 per A4 sheet; the PDF written ([] when no main staff is named yet).

    Submitted units only, unless include_drafts.
    """
    if not has_section(data.form, NAME_TAG_SECTION):
        return []  # a form without the template's main staff has nobody for a desk name tag
    fonts = (find_font(), find_font(bold=True))
    title = name_tag_title(data.province)
    sheet: Sheets | None = None
    total = len(data.units)
    for done, unit in enumerate(data.units, 1):
        for item in items(data.form, unit.answers, NAME_TAG_SECTION) if is_included(unit, include_drafts) else []:
            name = item.values.get("name")
            if not name:
                continue
            if sheet is None:
                sheet = Sheets(data.campaign_title, fonts, TAG_W, TAG_H, TAG_COLS, TAG_ROWS, TAG_GUTTER)
            draw_name_tag(sheet, str(name), str(item.values.get("position") or ""), unit.name, *sheet.next_slot(),
                          title=title)
        if progress is not None:
            progress(done, total)
    if sheet is None:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    return [sheet.save(path)]


def draw_name_tag(sheet: Sheets, name: str, position: str, unit: str, x: float, y: float, *,
                  title: str = texts.NAME_TAG_TITLE) -> None:
    """One name tag with its top-left corner (at the cut) at x, y; `title` (upper-cased) above the name."""
    pdf = sheet.pdf
    inner = TAG_W - 12
    sheet.write(title.upper(), Box(x + 6, y + 4, inner, 6), bold=True, sizes=(11, 7), max_lines=1,
                color=BLUE)
    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(0.4)
    pdf.line(x + 30, y + 11.5, x + TAG_W - 30, y + 11.5)  # wider than the title with a province
    sheet.write(name, Box(x + 6, y + 14, inner, 20.5), bold=True, sizes=(30, 12), max_lines=2)
    sheet.write(position, Box(x + 6, y + 37, inner, 8), sizes=(14, 8), max_lines=2)
    sheet.write(unit, Box(x + 6, y + 46, inner, 10), sizes=(12, 7), max_lines=2, color=BLUE)


# --- The list of who got no badge -----------------------------------------------------------------------


def draw_unprinted(sheet: Sheets, unprinted: list[Unprinted]) -> None:
    """Pages listing everyone without a badge (unit, role, name, reason), the heading on every page."""
    pages = -(-len(unprinted) // LIST_ROWS_PER_PAGE)
    for page in range(pages):
        _list_heading(sheet, len(unprinted), page + 1, pages)
        rows = unprinted[page * LIST_ROWS_PER_PAGE:(page + 1) * LIST_ROWS_PER_PAGE]
        for n, row in enumerate(rows):
            person = row.person
            cells = [str(page * LIST_ROWS_PER_PAGE + n + 1), person.unit.name, person.role_label,
                     person.name or texts.BADGE_MISSING_NO_NAME, row.reason]
            _list_row(sheet, cells, LIST_HEADER_Y + LIST_HEADER_H + n * LIST_ROW_H, LIST_ROW_H)


def _list_heading(sheet: Sheets, count: int, page: int, pages: int) -> None:
    """A new page with the title, the campaign, the count, the table's header row and the page number."""
    pdf = sheet.pdf
    pdf.add_page()
    inner = PAGE_W - 2 * LIST_MARGIN
    sheet.write(texts.BADGE_MISSING_TITLE.upper(), Box(LIST_MARGIN, LIST_MARGIN, inner, 8), bold=True,
                sizes=(14, 10), max_lines=1, color=BLUE)
    sheet.write(sheet.title, Box(LIST_MARGIN, LIST_MARGIN + 8.5, inner, 5), sizes=(10, 7), max_lines=1)
    sheet.write(texts.BADGE_MISSING_COUNT.format(count=count), Box(LIST_MARGIN, LIST_MARGIN + 13.5, inner, 5),
                sizes=(10, 7), max_lines=1)
    pdf.set_fill_color(*HEADER_FILL)
    pdf.rect(LIST_MARGIN, LIST_HEADER_Y, inner, LIST_HEADER_H, style="F")
    _list_row(sheet, texts.BADGE_MISSING_COLUMNS, LIST_HEADER_Y, LIST_HEADER_H, bold=True)
    sheet.write(texts.BADGE_MISSING_PAGE.format(page=page, pages=pages),
                Box(LIST_MARGIN, PAGE_H - LIST_MARGIN - 5, inner, 5), sizes=(8, 8), max_lines=1, color=GREY)


def _list_row(sheet: Sheets, cells: list[str], y: float, h: float, *, bold: bool = False) -> None:
    """One ruled table row; the STT and header cells centred, the others from the left."""
    pdf = sheet.pdf
    pdf.set_draw_color(*GREY)
    pdf.set_line_width(0.1)
    x = LIST_MARGIN
    for n, (text, w) in enumerate(zip(cells, LIST_COLUMNS)):
        pdf.rect(x, y, w, h)
        sheet.write(text, Box(x + 1.5, y + 0.3, w - 3, h - 0.6), bold=bold, sizes=(9, 6.5), max_lines=2,
                    align="C" if bold or n == 0 else "L")
        x += w


# --- Sheets: a PDF of cards in a grid, with cut marks ----------------------------------------------------


class Sheets:
    """An A4 PDF being filled with equal cards in a centred grid; cut marks at every card's corners."""

    def __init__(self, title: str, fonts: tuple[Path, Path], card_w: float, card_h: float, cols: int, rows: int,
                 gutter: float):
        self.pdf = FPDF(orientation="P", unit="mm", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margin(0)
        self.pdf.set_title(title)
        self.title = title
        self.pdf.set_creator("hcc-bot")
        self.pdf.add_font(FAMILY, "", str(fonts[0]))
        self.pdf.add_font(FAMILY, "B", str(fonts[1]))
        self.faces = (Face(advance_widths(fonts[0])), Face(advance_widths(fonts[1])))
        self.card_w, self.card_h, self.cols, self.rows, self.gutter = card_w, card_h, cols, rows, gutter
        self.x0 = (PAGE_W - cols * card_w - (cols - 1) * gutter) / 2
        self.y0 = (PAGE_H - rows * card_h - (rows - 1) * gutter) / 2
        self.count = 0

    def next_slot(self) -> tuple[float, float]:
        """The top-left corner of the next card, starting a new sheet (with its cut marks) when one is full."""
        n = self.count % (self.cols * self.rows)
        if n == 0:
            self.pdf.add_page()
        self.count += 1
        x = self.x0 + (n % self.cols) * (self.card_w + self.gutter)
        y = self.y0 + (n // self.cols) * (self.card_h + self.gutter)
        self.cut_marks(x, y)
        return x, y

    def cut_marks(self, x: float, y: float) -> None:
        """Short hairlines continuing each edge of the card beyond its corners, clear of the bleed."""
        pdf = self.pdf
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.1)
        for cx, dx in ((x, -1), (x + self.card_w, 1)):
            for cy, dy in ((y, -1), (y + self.card_h, 1)):
                pdf.line(cx + dx * MARK_GAP, cy, cx + dx * (MARK_GAP + MARK_LEN), cy)
                pdf.line(cx, cy + dy * MARK_GAP, cx, cy + dy * (MARK_GAP + MARK_LEN))

    def write(self, text: str, box: Box, *, sizes: tuple[float, float], max_lines: int, bold: bool = False,
              color: tuple[int, int, int] = INK, align: str = "C") -> None:
        """Set the text in the box at the largest size (in steps of 0.5 pt) that fits; never overflow.

        Centred vertically; horizontally centred, or from the left with align="L".
        """
        face = self.faces[bold]
        text = "".join(c for c in " ".join(unicodedata.normalize("NFC", text).split()) if c in face.widths or c == " ")
        text = " ".join(text.split())  # characters the font lacks (rare emoji...) are left out
        if not text:
            return
        size, lines = fit_text(face, text, box, sizes, max_lines)
        pdf = self.pdf
        pdf.set_font(FAMILY, "B" if bold else "", size)
        pdf.set_text_color(*color)
        line_h = size * PT * LEADING
        top = box.y + (box.h - line_h * len(lines)) / 2
        for n, line in enumerate(lines):
            # Baseline placed so capitals sit in the middle of their line (cap height of DejaVu: 0.73 em).
            baseline = top + line_h * (n + 0.5) + 0.365 * size * PT
            offset = 0.0 if align == "L" else (box.w - face.width(line, size)) / 2
            pdf.text(box.x + offset, baseline, line)

    def save(self, path: Path) -> Path:
        """Write the PDF and release its memory."""
        self.pdf.output(str(path))
        # fpdf2's objects refer to each other in cycles: free the photos now, not at the next full collection,
        # or two or three files' photos pile up in memory.
        self.pdf.image_cache.images.clear()
        self.pdf = None  # type: ignore[assignment]
        gc.collect()
        return path


@dataclass(frozen=True)
class Face:
    """One font file's advance widths: measuring text this way is ~50x faster than asking fpdf2 each time."""

    widths: dict[str, float]  # em

    def width(self, text: str, size: float) -> float:
        """Width in mm of the text set at size pt."""
        return sum(self.widths.get(c, 0.6) for c in text) * size * PT


def fit_text(face: Face, text: str, box: Box, sizes: tuple[float, float], max_lines: int) -> tuple[float, list[str]]:
    """The largest font size from sizes[0] down to sizes[1] at which the text wraps into the box, and its lines.

    At the smallest size a text that still does not fit is cut at the last line with "…".
    """
    largest, smallest = sizes
    size = largest
    while True:
        lines_fit = max(1, min(max_lines, int(box.h / (size * PT * LEADING) + 1e-6)))
        lines = wrap(face, size, text, box.w, lines_fit)
        if lines is not None:
            return size, lines
        if size - 0.5 < smallest - 1e-6:
            return size, truncate(face, size, text, box.w, lines_fit)
        size -= 0.5


def wrap(face: Face, size: float, text: str, width: float, max_lines: int | None = None) -> list[str] | None:
    """Balanced word wrap into the fewest lines; None when a word is wider than the width or it needs more lines.

    Balanced: the longest line is as short as it can be, and a text of 3+ words never ends with a line of a
    single word (unless its last two words together are wider than the width); extra space goes to the top.
    """
    words = text.split()
    fewest = _fill_from_end(face, size, words, width)
    if fewest is None or (max_lines is not None and len(fewest) > max_lines):
        return None
    if len(fewest) == 1:
        return fewest
    # Filled from the end, the last line holds the last two words whenever they fit together.
    pair = len(words) >= 3 and face.width(" ".join(words[-2:]), size) <= width

    def balanced(lines: list[str] | None) -> bool:
        return lines is not None and len(lines) == len(fewest) and (not pair or " " in lines[-1])

    short, long = 0.0, width  # the widest line limit known to fail, the narrowest known to work
    best = fewest
    for _ in range(30):  # bisection to well under a micrometre
        middle = (short + long) / 2
        lines = _fill_from_end(face, size, words, middle)
        if balanced(lines):
            long, best = middle, lines
        else:
            short = middle
    return best


def _fill_from_end(face: Face, size: float, words: list[str], width: float) -> list[str] | None:
    """Greedy word wrap from the last word up (the fewest lines, the last ones full); None if a word is wider."""
    lines: list[str] = []
    for word in reversed(words):
        if face.width(word, size) > width:
            return None
        if lines and face.width(f"{word} {lines[0]}", size) <= width:
            lines[0] = f"{word} {lines[0]}"
        else:
            lines.insert(0, word)
    return lines


def truncate(face: Face, size: float, text: str, width: float, max_lines: int) -> list[str]:
    """Fill max_lines lines (breaking between words when possible, else anywhere) and end with "…"."""
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines:
        last = len(lines) == max_lines - 1
        line = _longest_prefix(face, size, rest, width - (face.width("…", size) if last else 0))
        if len(line) < len(rest) and " " in line and rest[len(line)] != " ":
            line = line[:line.rindex(" ")]
        rest = rest[len(line):].lstrip()
        lines.append(line.rstrip() + ("…" if last and rest else ""))
    return lines


def _longest_prefix(face: Face, size: float, text: str, width: float) -> str:
    low, high = 1, len(text)  # at least one character, so truncate always progresses
    while low < high:
        mid = (low + high + 1) // 2
        if face.width(text[:mid], size) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low]
