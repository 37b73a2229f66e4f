"""The 3x4 photo archive: one folder per unit of 354x472 JPEGs named after the person, and a CSV index.

`photo_file_name` is THE naming rule for photo files; the workbook imports it (through `Person.file_name`) so
its "Tệp ảnh" columns name exactly the files written here.

Which photos: every photo question of every section of the form (the shipped form: main and backup staff),
for every item of a repeat section and once for a plain section, found by walking the form, so any form's
photos are archived without code changes. The CSV lists every such person, with an empty "Tệp ảnh" when there
is no photo yet, so Sở Nội vụ sees who is still missing one (also when the stored file is gone or damaged:
logged, and the export goes on). The "Tệp ảnh" column is the path inside the archive
(`STP/STP_CHINH_1_Le-Thi-Mai.jpg`); text cells that Excel would run as a formula start with an apostrophe.
Unit folders are created only for units with a photo. When an item has several photo questions, each file
name also carries its question's key (`STP_HOCVIEN_1_ANH-THE_Le-Thi-Mai.jpg`). A photo question that is not a
badge's (Form.badge_questions) has its own folder named after its key (`ANH-TRU-SO/STP/…jpg`), and its pictures
are copied at their own size and shape, never cut to 3x4.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from PIL import Image, ImageOps

from conversations import texts
from conversations.answers import scope
from conversations.form import Question, Section
from conversations.parsers import format_phone
from exports.data import SUBMITTED, ExportData, UnitReport, badge_questions, items, photo_questions, status_label
from exports.memory import release_memory

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 354, 472  # 3x4 cm at 300 dpi, as bot.photos stores them
INDEX_NAME = "danh-sach-anh.csv"
MAX_NAME_CHARS = 80  # keeps a file name well under the 255-byte limit of every file system
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what Excel would run as a formula in a CSV cell

Progress = Callable[[int, int], None]


def photo_file_name(unit_code: str, section_key: str, stt: int, name: str, question_key: str | None = None) -> str:
    """`<unit code>_<role file code>_<STT>[_<question key>]_<name without diacritics>.jpg`, ASCII only.

    Diacritics are removed (đ → d), spaces and hyphens become single hyphens, other characters are dropped;
    the name part is cut at 80 characters and left out (with its `_`) when nothing of it remains. The
    question's key is there only when the item has several photo questions.
    """
    role = texts.ROLE_FILE_CODES.get(section_key) or _ascii(section_key).upper()
    person = _ascii(name)[:MAX_NAME_CHARS].strip("-")
    question = [_ascii(question_key.replace("_", "-")).upper()] if question_key else []
    parts = [_ascii(unit_code, keep="_"), role, str(stt), *question] + ([person] if person else [])
    return "_".join(parts) + ".jpg"


_D_LETTERS = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})  # no decomposition takes their bar off


def _ascii(text: str, keep: str = "") -> str:
    """Letters and digits without diacritics; runs of spaces and hyphens become one hyphen."""
    bare = unicodedata.normalize("NFD", text.translate(_D_LETTERS))
    bare = "".join(c for c in bare if not unicodedata.combining(c))
    bare = "".join(c for c in bare if (c.isascii() and c.isalnum()) or c.isspace() or c == "-" or c in keep)
    return re.sub(r"[\s\-]+", "-", bare).strip("-")


@dataclass(frozen=True)
class Person:
    """One photo question of one item (or of a plain section), with its photo file if there is one."""

    unit: UnitReport
    section: Section
    stt: int  # the item's STT; 1 for a plain section
    values: dict[str, Any]
    photo: Path | None  # the stored badge JPEG
    question: Question | None = None  # the photo question (None: the section's first)

    @property
    def name(self) -> str:
        return _text(self.values.get("name", self.values.get(self.section.questions[0].key)))

    @property
    def position(self) -> str:
        return _text(self.values.get("position"))

    @property
    def phone(self) -> str:
        phone_keys = [q.key for q in self.section.questions if q.type == "phone"]
        value = self.values.get(phone_keys[0]) if phone_keys else None
        return format_phone(value) if isinstance(value, str) else ""

    @property
    def role_label(self) -> str:
        label = texts.ROLE_LABELS.get(self.section.key, self.section.title)
        if self.question is not None and len(photo_questions(self.section)) > 1:
            label = f"{label} – {self.question.label}"
        return label

    def file_name(self) -> str:
        several = self.question is not None and len(photo_questions(self.section)) > 1
        return photo_file_name(self.unit.code, self.section.key, self.stt, self.name,
                               self.question.key if several else None)


def photo_question(section: Section) -> Question | None:
    """The first photo question of a section (None for a section without one)."""
    return next(iter(photo_questions(section)), None)


def person_of(unit: UnitReport, section: Section, question: Question, stt: int, values: dict[str, Any]) -> Person:
    """The person (item) of one photo answer, with the stored file when it is on disk."""
    photo_id = values.get(question.key)
    photo = unit.photos.get(photo_id) if isinstance(photo_id, int) else None
    if photo is not None and not Path(photo).is_file():
        log.warning("unit %s: photo %s of %s #%d is not on disk: %s", unit.code, photo_id, section.key, stt, photo)
        photo = None
    return Person(unit, section, stt, values, Path(photo) if photo else None, question)


def people_with_photo_question(data: ExportData, unit: UnitReport) -> Iterator[Person]:
    """Every photo question of the unit's report, per item, in form and STT order (a plain section: STT 1,
    listed only when the unit answered something in it)."""
    for section in data.form.sections:
        questions = photo_questions(section)
        if not questions:
            continue
        yield from _people(data, unit, section, questions)


def people_with_badge_photo(data: ExportData, unit: UnitReport) -> Iterator[Person]:
    """The people whose photo question is a badge's (exports.data.badge_questions), in form and STT order."""
    wanted: dict[str, list[Question]] = {}
    for section, question in badge_questions(data.form):
        wanted.setdefault(section.key, []).append(question)
    for section in data.form.sections:
        if section.key in wanted:
            yield from _people(data, unit, section, wanted[section.key])


def _people(data: ExportData, unit: UnitReport, section: Section, questions: list[Question]) -> Iterator[Person]:
    if section.repeat is None:
        values = scope(unit.answers, section.key)
        if values:
            for question in questions:
                yield person_of(unit, section, question, 1, values)
        return
    for item in items(data.form, unit.answers, section.key):
        for question in questions:
            yield person_of(unit, section, question, item.stt, item.values)


TRIM_EVERY = 100  # units between two returns of freed memory to the OS (see exports/memory.py)


def build_photo_archive(data: ExportData, folder: Path, *, progress: Progress | None = None) -> list[Path]:
    """Write `<folder>/<unit code>/<photo file>.jpg` for the people of the badge sheet, the others' photos in a
    subfolder named for why (`<folder>/<why>/<unit code>/…`), and `<folder>/danh-sach-anh.csv` listing everyone
    with the unit's status."""
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / INDEX_NAME
    written: list[Path] = [index]
    total = len(data.units)
    with index.open("w", encoding="utf-8-sig", newline="") as out:  # the BOM lets Excel read Vietnamese
        rows = csv.writer(out)
        columns = list(texts.PHOTO_INDEX_COLUMNS)
        rows.writerow([*columns[:3], texts.COL_STATUS, *columns[3:]])
        for done, unit in enumerate(data.units, 1):
            used: set[str] = set()
            status = status_label(data, unit)
            for person in people_with_photo_question(data, unit):
                relative = ""
                if person.photo is not None:
                    name = _unique(person.file_name(), used)
                    badge = person.question is None or data.form.is_badge(person.section.key, person.question.key)
                    place = unit.code if badge else f"{_ascii(person.question.key.replace('_', '-')).upper()}/{unit.code}"
                    # a photo that is no badge's is in the folder of its question: that names why it is not on the
                    # badge sheet; a unit that has not submitted keeps every photo apart
                    aside = texts.PHOTO_ASIDE_NOT_SUBMITTED if unit.status not in SUBMITTED else None
                    inside = f"{aside}/{place}" if aside else place
                    target = folder / inside / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        write_badge_jpeg(person.photo, target) if badge else shutil.copyfile(person.photo, target)
                    except OSError as exc:  # a damaged stored file: listed without a photo, the export goes on
                        log.warning("unit %s: photo %s not archived: %s", unit.code, person.photo, exc)
                        target.unlink(missing_ok=True)
                    else:
                        written.append(target)
                        relative = f"{inside}/{name}"
                rows.writerow([relative, unit.code] + [_inert(v) for v in (
                    unit.name, status, person.role_label)] + [person.stt] + [_inert(v) for v in (
                    person.name, person.position, person.phone)])
            if done % TRIM_EVERY == 0:
                release_memory()
            if progress is not None:
                progress(done, total)
    return written


def write_badge_jpeg(source: Path, target: Path) -> None:
    """Copy a stored 354x472 JPEG as it is; re-fit anything else to 354x472 (centre crop, 300 dpi)."""
    with Image.open(source) as image:
        if image.format == "JPEG" and image.size == (WIDTH, HEIGHT) and image.mode in ("RGB", "L"):
            shutil.copyfile(source, target)
            return
        fitted = ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"), (WIDTH, HEIGHT),
                              method=Image.Resampling.LANCZOS)
    fitted.save(target, "JPEG", quality=90, dpi=(300, 300), optimize=True)


def _unique(name: str, used: set[str]) -> str:
    """The name, or `<stem>-2.jpg`, `-3`… if already used in this folder (cannot happen with the shipped form)."""
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{name[:-4]}-{n}.jpg"
    used.add(candidate.lower())
    return candidate


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _inert(value: str) -> str:
    """Text that a spreadsheet opening the CSV would take as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
