"""The province's list of units from a file: CSV as Excel saves it (comma or semicolon, UTF-8) or an .xlsx.

Columns are found by their header, in English or Vietnamese (mã, tên đơn vị, nhóm, email; compared without
accents); other columns (STT, ghi chú) are left out and named in the preview. Every mistake is one Vietnamese
line naming the file, the row and the column.

Excel's plain "CSV" writes the Windows code page (1258 for Vietnamese), which cannot hold most precomposed
Vietnamese letters: they become "?". Such a file is refused with the way to save it ("CSV UTF-8" or .xlsx),
rather than guessed at: a single-byte code page cannot be told from another by its bytes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.form_files import read_sheets
from conversations import texts
from conversations.form import FormError
from conversations.parsers import fold
from storage.queries import SAMPLE_UNITS_CSV, UnitRow, unit_code, unit_name

COLUMNS = ("code", "name", "group", "email")
_ALIASES = {fold(alias): column for column, aliases in texts.UNITS_HEADER_ALIASES.items() for alias in aliases}
_LABELS = {"code": texts.UNITS_COL_CODE, "name": texts.UNITS_COL_NAME, "group": texts.UNITS_COL_GROUP,
           "email": texts.UNITS_COL_EMAIL}
_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")
_LIMITS = {"name": 300, "group": 200, "email": 254}


class UnitFileError(ValueError):
    """One line for the operator: file, row, column and what to do."""


@dataclass
class UnitFile:
    """The rows read, and the header cells that were not a known column (shown in the preview)."""

    rows: list[UnitRow] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def read_units_file(path: Path) -> UnitFile:
    """Read a .csv or .xlsx list of units; UnitFileError (one line) on the first mistake."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UnitFileError(texts.UNITS_FILE_ONLY.format(path=path, problem=texts.UNITS_FILE_MISSING))
    if suffix == ".xlsx":
        try:
            sheets = read_sheets(path, first_only=True)
        except FormError:
            raise UnitFileError(texts.UNITS_FILE_ONLY.format(
                path=path, problem=texts.UNITS_FILE_UNREADABLE.format(reason="không phải tệp .xlsx đọc được"))) \
                from None
        table = next(iter(sheets.values()), [])  # the first sheet
    elif suffix in (".csv", ".txt"):
        table = _csv_table(path)
    else:
        raise UnitFileError(texts.UNITS_FILE_ONLY.format(path=path, problem=texts.UNITS_FILE_KIND))
    return _rows(path, table)


def read_sample_units() -> UnitFile:
    """The 25 units of the 2017 letter (the demo's, and `units import --sample`)."""
    return read_units_file(SAMPLE_UNITS_CSV)


def _csv_table(path: Path) -> list[tuple[int, list[str]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnitFileError(texts.UNITS_FILE_ONLY.format(
            path=path, problem=texts.UNITS_FILE_UNREADABLE.format(reason=exc.strerror or type(exc).__name__))) \
            from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        raise UnitFileError(texts.UNITS_FILE_LINE.format(path=path, row=row, problem=texts.UNITS_FILE_NOT_UTF8)) \
            from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel with Vietnamese regional settings separates with ";" (the decimal mark is ","); else ",".
    delimiter = max((";", ",", "\t"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = []
    line = 1
    for record in reader:
        if any(cell.strip() for cell in record):
            table.append((line, [cell.strip() for cell in record]))
        line = reader.line_num + 1
    return table


def _rows(path: Path, table: list[tuple[int, list[str]]]) -> UnitFile:
    if not table:
        raise UnitFileError(texts.UNITS_FILE_ONLY.format(path=path, problem=texts.UNITS_FILE_EMPTY))
    # The header: the first row naming both a code and a name column (a title row above it is left out).
    start = next((n for n, (_, cells) in enumerate(table[:10])
                  if {"code", "name"} <= {_ALIASES.get(fold(c)) for c in cells}), 0)
    header_row, header = table[start]
    where: dict[str, int] = {}
    out = UnitFile()
    for n, cell in enumerate(header):
        column = _ALIASES.get(fold(cell))
        if column is None:
            if cell.strip():
                out.ignored.append(cell.strip())
            continue
        if column in where:
            raise UnitFileError(texts.UNITS_FILE_LINE.format(
                path=path, row=header_row, problem=texts.UNITS_FILE_DUP_COLUMN.format(column=cell.strip())))
        where[column] = n
    missing = [_LABELS[c] for c in ("code", "name") if c not in where]
    if missing:
        found = ", ".join(f"“{c}”" for c in header if c.strip()) or "–"
        raise UnitFileError(texts.UNITS_FILE_LINE.format(path=path, row=header_row, problem=texts.UNITS_FILE_NO_HEADER
                                                         .format(columns=", ".join(f"“{m}”" for m in missing),
                                                                 found=found)))
    first_row: dict[str, int] = {}
    for row_number, cells in table[start + 1:]:
        def cell(column: str) -> str | None:
            if column not in where:
                return None
            n = where[column]
            return cells[n].strip() if n < len(cells) else ""

        def fail(column: str, problem: str) -> UnitFileError:
            return UnitFileError(texts.UNITS_FILE_ROW.format(path=path, row=row_number,
                                                             column=header[where[column]].strip(), problem=problem))

        code_text, name_text = cell("code"), cell("name")
        try:
            code = unit_code(code_text)
        except ValueError:
            raise fail("code", texts.UNITS_BAD_CODE.format(value=code_text)) from None
        try:
            name = unit_name(name_text)
        except ValueError:
            raise fail("name", texts.UNITS_EMPTY_NAME) from None
        if "?" in name:
            raise fail("name", texts.UNITS_LOST_ACCENTS.format(value=name))
        group = cell("group")
        group = " ".join(group.split()) if group is not None else None
        email = cell("email")
        if email and not _EMAIL.fullmatch(email):
            raise fail("email", texts.UNITS_BAD_EMAIL.format(value=email))
        for column, value in (("name", name), ("group", group), ("email", email)):
            if value and len(value) > _LIMITS[column]:
                raise fail(column, texts.UNITS_TOO_LONG.format(limit=_LIMITS[column]))
        if code in first_row:
            raise fail("code", texts.UNITS_DUP_CODE.format(code=code, first=first_row[code]))
        first_row[code] = row_number
        out.rows.append(UnitRow(code, name, group, email.lower() if email else email))
    if not out.rows:
        raise UnitFileError(texts.UNITS_FILE_ONLY.format(path=path, problem=texts.UNITS_FILE_NO_ROWS))
    return out
