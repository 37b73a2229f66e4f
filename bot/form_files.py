"""Form files on disk: our YAML, or an XLSForm workbook (.xlsx, .xls) within limits; the shipped workbooks' writer.

`load_form_file(path)` returns `(Form, raw dict)`: the raw dict is plain JSON (stored as the campaign's snapshot)
and the Form is built from it, so what is stored is what was checked. The mapping of an XLSForm's cells to our
vocabulary is pure and lives in conversations/xlsform.py; reading the workbook is here: its size and extent
checked first (the zip's directory and the cells' references; an .xls's records with olefile), then read with
python-calamine (a tenth of a second for 10,000 rows; openpyxl for the rare sheet whose cells carry no
reference), its headers and type cells normalised with pyxform's alias tables (`normalise_sheets`).

`python -m bot.form_files` regenerates conversations/forms/report.xlsx (from report.yaml) and training.xlsx.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterable, Mapping

from conversations import texts
from conversations.form import Form, FormError, parse_form, read_yaml
from conversations.xlsform import xlsform_to_form

UNREADABLE_HINT = texts.FORM_UNREADABLE
Sheets = dict[str, list[tuple[int, list[str]]]]
# A form file's own limits (issue 22): the largest real XLSForms are a few hundred rows and well under 1 MB; these
# leave a wide margin and keep one file from taking the server's memory or minutes of its time. The number of
# questions and the length of a label are checked by conversations/form.py (MAX_QUESTIONS, MAX_LABEL).
MAX_FILE_MB = 10  # the file as sent
MAX_PART_MB = 20  # each part of the .xlsx (a sheet, the shared strings) once decompressed: a zip bomb stops here
MAX_TOTAL_MB = 60  # every part together (a workbook of many sheets)
MAX_ROWS = 20_000  # rows of one sheet (a choices sheet of every commune of the country fits)
MAX_COLUMNS = 500  # columns of one row
_MB = 1024 * 1024
FORM_SHEETS = ("survey", "choices", "settings", "external_choices")  # the sheets read; any other is left alone
# What a damaged or foreign file can raise inside openpyxl: each becomes one line naming the file.
_UNREADABLE = (OSError, zipfile.BadZipFile, zlib.error, KeyError, ValueError, TypeError, IndexError, EOFError,
               NotImplementedError, RuntimeError, AttributeError)


def _text(value: Any) -> str:
    """A cell as the text an author typed: 3 not 3.0, TRUE/FALSE, dates as dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() != dt.time() else value.strftime("%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _mb(size: int) -> str:
    return f"{size / _MB:.1f}".replace(".", ",")


def check_size(path: Path) -> None:
    """Refuse a form file larger than MAX_FILE_MB (one line naming the limit)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FormError(f"{path}: {texts.FORM_CANNOT_READ.format(reason=exc.strerror)}") from exc
    if size > MAX_FILE_MB * _MB:
        raise FormError(f"{path}: {texts.FORM_LIMIT_FILE_SIZE.format(size=_mb(size), limit=MAX_FILE_MB)}")


_CELL = re.compile(rb"<(?:\w+:)?c(\s[^>]*?)?(/?)>")  # a self-closing cell holds no value (a style only)
_REF = re.compile(rb'\br="\$?([A-Z]{1,3})\$?([0-9]{1,7})"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_parts(path: Path) -> bool:
    """Refuse an .xlsx whose parts would decompress past MAX_PART_MB, from the zip's directory alone (zipfile never
    inflates a part past the size its directory declares), or whose sheets' cells reach past MAX_ROWS or
    MAX_COLUMNS (found from each cell's reference before a reader lays the sheet out as a grid). False when a
    cell has no reference (a rare writer): the caller then reads the sheet row by row."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            for part in parts:
                if part.file_size > MAX_PART_MB * _MB:
                    name = _sheet_names(archive).get(part.filename, part.filename)
                    raise FormError(f"{path}: " + texts.FORM_LIMIT_SHEET_SIZE.format(
                        sheet=name, size=_mb(part.file_size), limit=MAX_PART_MB))
            total = sum(part.file_size for part in parts)
            if total > MAX_TOTAL_MB * _MB:
                raise FormError(f"{path}: " + texts.FORM_LIMIT_TOTAL_SIZE.format(size=_mb(total), limit=MAX_TOTAL_MB))
            names = None
            for part in parts:
                if not part.filename.startswith("xl/worksheets/") or not part.filename.endswith(".xml"):
                    continue
                data = archive.read(part)
                last_row = last_column = 0
                for cell in _CELL.finditer(data):
                    if cell[2]:
                        continue
                    ref = _REF.search(cell[1] or b"")
                    if ref is None:
                        return False
                    last_row = max(last_row, int(ref[2]))
                    last_column = max(last_column, _column_number(ref[1]))
                if last_row > MAX_ROWS or last_column > MAX_COLUMNS:
                    names = names or _sheet_names(archive)
                    sheet = names.get(part.filename, part.filename)
                    limit = texts.FORM_LIMIT_ROWS.format(sheet=sheet, limit=f"{MAX_ROWS:,}".replace(",", "."))
                    if last_row <= MAX_ROWS:
                        limit = texts.FORM_LIMIT_COLUMNS.format(sheet=sheet, limit=MAX_COLUMNS)
                    raise FormError(f"{path}: {limit}")
            return True
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, KeyError, zlib.error) as exc:
        if isinstance(exc, FormError):
            raise
        raise FormError(f"{path}: {UNREADABLE_HINT}") from exc


# BIFF (.xls) records that hold a cell's value: row and column are their first two 16-bit fields (MULRK: a run of
# cells, its last column in its last two bytes). Blank cells (a style only) are not laid out by the reader.
_XLS_CELLS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0204, 0x0205, 0x00D6}
_XLS_MULRK = 0x00BD


def check_xls_extent(path: Path) -> None:
    """Refuse an older .xls whose cells reach past MAX_ROWS or MAX_COLUMNS, from its records (olefile reads the
    container), before a reader lays the sheet out as a grid: two far corners would take half a gigabyte."""
    import struct

    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            stream = next((name for name in ("Workbook", "Book") if ole.exists(name)), None)
            if stream is None:
                raise FormError(f"{path}: {UNREADABLE_HINT}")
            data = ole.openstream(stream).read()
    except (OSError, ValueError, struct.error) as exc:
        if isinstance(exc, FormError):
            raise
        raise FormError(f"{path}: {UNREADABLE_HINT}") from exc
    sheets: dict[int, str] = {}  # where each sheet's records begin: its name (BOUNDSHEET records)
    extent: dict[str, list[int]] = {}
    sheet, at, size = "?", 0, len(data)
    while at + 4 <= size:
        kind, length = struct.unpack_from("<HH", data, at)
        body = at + 4
        if at in sheets:
            sheet = sheets[at]
        if kind == 0x0085 and length >= 8 and body + length <= size:
            start, count, wide = struct.unpack_from("<I", data, body)[0], data[body + 6], data[body + 7] & 1
            raw = data[body + 8: body + 8 + count * (2 if wide else 1)]
            sheets[start] = raw.decode("utf-16-le" if wide else "latin-1", "replace")
        elif (kind in _XLS_CELLS or kind == _XLS_MULRK) and length >= 4 and body + length <= size:
            row, column = struct.unpack_from("<HH", data, body)
            if kind == _XLS_MULRK and length >= 6:
                column = struct.unpack_from("<H", data, body + length - 2)[0]
            last = extent.setdefault(sheet, [0, 0])
            last[0], last[1] = max(last[0], row + 1), max(last[1], column + 1)
        at = body + length
    for name, (last_row, last_column) in extent.items():
        if last_row > MAX_ROWS:
            raise FormError(f"{path}: " + texts.FORM_LIMIT_ROWS.format(sheet=name,
                                                                       limit=f"{MAX_ROWS:,}".replace(",", ".")))
        if last_column > MAX_COLUMNS:
            raise FormError(f"{path}: " + texts.FORM_LIMIT_COLUMNS.format(sheet=name, limit=MAX_COLUMNS))


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """{part name: sheet name} from the workbook's own list (small parts, already size-checked)."""
    try:
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    attribute = re.compile(rb'([\w:]+)="([^"]*)"')
    targets = {}
    for tag in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        found = dict(attribute.findall(tag[0]))
        targets[found.get(b"Id")] = found.get(b"Target", b"")
    out = {}
    for tag in re.finditer(rb"<(?:\w+:)?sheet\b[^>]*>", book):
        found = dict(attribute.findall(tag[0]))
        target = targets.get(found.get(b"r:id"), b"").decode("utf-8", "replace").lstrip("/")
        part = target if target.startswith("xl/") else f"xl/{target}"
        out[part] = html.unescape(found.get(b"name", b"").decode("utf-8", "replace"))
    return out


def read_sheets(path: Path, first_only: bool = False) -> Sheets:
    """The form's sheets of an .xlsx (or an older .xls) file (first_only: the first sheet, whatever its name):
    {name: [(row number, [cell text, …]), …]}, empty rows left out; the file's size, its parts' sizes and its
    sheets' extent are checked before any reader parses it."""
    check_size(path)
    if path.suffix.lower() == ".xls":
        check_xls_extent(path)
    scanned = path.suffix.lower() != ".xlsx" or check_parts(path)
    try:
        with warnings.catch_warnings():  # a library's warning would print before our one line
            warnings.simplefilter("ignore")
            return _read_calamine(path, first_only) if scanned else _read_openpyxl(path, first_only)
    except MemoryError:
        raise FormError(f"{path}: {texts.FORM_TOO_BIG_FOR_MEMORY}") from None


def _read_calamine(path: Path, first_only: bool = False) -> Sheets:
    """python-calamine (Rust) reads a 10,000-row sheet in a tenth of a second, openpyxl in seconds."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except FileNotFoundError as exc:
        raise FormError(f"{path}: {texts.FORM_CANNOT_READ.format(reason=exc.strerror)}") from exc
    except (CalamineError, *_UNREADABLE) as exc:
        raise FormError(f"{path}: {UNREADABLE_HINT}") from exc
    try:
        sheets: Sheets = {}
        for name in book.sheet_names[:1] if first_only else book.sheet_names:
            if not first_only and name.strip().lower() not in FORM_SHEETS:
                continue  # a sheet of notes, entities, osm: never laid out
            ws = book.get_sheet_by_name(name)
            if ws.total_height > MAX_ROWS or ws.total_width > MAX_COLUMNS:  # an .xls is not scanned beforehand
                raise FormError(f"{path}: " + texts.FORM_LIMIT_ROWS.format(
                    sheet=name, limit=f"{MAX_ROWS:,}".replace(",", ".")))
            rows = []
            for number, values in enumerate(ws.to_python(skip_empty_area=False), 1):
                cells = [_text(v) for v in values]
                if any(cells):
                    rows.append((number, cells))
            sheets[name] = rows
        return sheets
    except FormError:
        raise
    except (CalamineError, *_UNREADABLE) as exc:
        raise FormError(f"{path}: {UNREADABLE_HINT}") from exc
    finally:
        book.close()


def _read_openpyxl(path: Path, first_only: bool = False) -> Sheets:
    """Row by row, for a sheet whose cells carry no reference (its extent unknown until read)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError as exc:
        raise FormError(f"{path}: {texts.FORM_CANNOT_READ.format(reason=exc.strerror)}") from exc
    except (InvalidFileException, *_UNREADABLE) as exc:
        raise FormError(f"{path}: {UNREADABLE_HINT}") from exc
    rows_limit = f"{MAX_ROWS:,}".replace(",", ".")
    try:
        sheets: Sheets = {}
        for ws in book.worksheets:
            if first_only and sheets:
                break
            if not first_only and ws.title.strip().lower() not in FORM_SHEETS:
                continue
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # a declared A1:XFD1048576 would pad every row and add a million empty ones
            rows = []
            for number, values in enumerate(ws.iter_rows(values_only=True), 1):
                if number > MAX_ROWS:
                    raise FormError(f"{path}: " + texts.FORM_LIMIT_ROWS.format(sheet=ws.title, limit=rows_limit))
                if len(values) > MAX_COLUMNS:
                    raise FormError(f"{path}: " + texts.FORM_LIMIT_COLUMNS.format(sheet=ws.title, limit=MAX_COLUMNS))
                cells = [_text(v) for v in values]
                if any(cells):
                    rows.append((number, cells))
            sheets[ws.title] = rows
        return sheets
    except FormError:
        raise
    except _UNREADABLE as exc:
        raise FormError(f"{path}: {UNREADABLE_HINT}") from exc
    finally:
        book.close()


# --- the dialects authors write, read as pyxform reads them ---------------------------------------------------

# Our names for the types pyxform knows under many spellings ("get start time", "q int", "add photo prompt", …):
# each alias maps to the first of these with the same definition in pyxform's QUESTION_TYPE_DICT.
CANONICAL_TYPES = ("text", "integer", "decimal", "date", "time", "datetime", "geopoint", "geotrace", "geoshape",
                   "image", "audio", "video", "file", "barcode", "note", "calculate", "acknowledge", "trigger",
                   "range", "rank", "hidden", "start", "end", "today", "deviceid", "subscriberid", "simserial",
                   "phonenumber", "username", "email", "audit", "start-geopoint", "background-audio",
                   "background-geopoint", "xml-external", "csv-external")
_SURVEY_COLUMN = {"jr:constraintMsg": "constraint_message", "jr:requiredMsg": "required_message",
                  "calculate": "calculation", "jr:count": "repeat_count", "readonly": "read_only",
                  "jr:noAppErrorString": "no_app_error_string"}
_TRANSLATABLE = {"label", "hint", "guidance_hint", "constraint_message", "required_message", "image", "big-image",
                 "audio", "video", "media"}


def _type_aliases() -> dict[str, str]:
    from pyxform import aliases
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

    canonical = {}
    for alias, definition in QUESTION_TYPE_DICT.items():
        canonical[alias] = next((c for c in CANONICAL_TYPES if QUESTION_TYPE_DICT.get(c) == definition), alias)
    for alias, target in getattr(aliases, "_type_alias_map", {}).items():  # "imei", "add image prompt", …
        canonical[alias] = canonical.get(target, target)
    canonical["photo"] = "image"
    canonical["hidden"] = "hidden"  # pyxform's definition is calculate's, but a hidden field needs no calculation
    canonical["phone number"] = "phone"  # digits only in ODK; our phone type checks a Vietnamese number
    return canonical


def _normal_type(cell: str, types: Mapping[str, str]) -> str:
    """A survey type cell in our spelling: begin_group, end_repeat, select_one LIST [or_other], integer, start…"""
    from pyxform import aliases

    words = cell.split()
    low = " ".join(words).lower()
    if m := re.match(r"^(begin|end)[ _](group|repeat|lgroup|looped group|loop)\b( (over )?(\S+))?$", low):
        kind = aliases.control[m[2]]
        return f"{m[1]}_{kind}" + (f" {words[-1]}" if m[5] and kind == "loop" else "")
    for alias in sorted(aliases.select, key=len, reverse=True):
        if low.startswith(alias + " ") and len(low) > len(alias) + 1:
            rest = " ".join(words)[len(alias) + 1:].split()
            if alias in aliases.select_from_file:
                base = "select_one_from_file" if aliases.select[alias] == "select one" else "select_multiple_from_file"
            else:
                base = {"select one": "select_one", "select all that apply": "select_multiple",
                        "select one external": "select_one_external"}.get(aliases.select[alias], aliases.select[alias])
            other = " ".join(rest[1:]).lower() in ("or_other", "or other", "or specify other")
            return f"{base} {rest[0]}" + (" or_other" if other else (" " + " ".join(rest[1:]) if rest[1:] else ""))
    if low.replace("_", " ") in ("select one", "select multiple", "select all that apply"):
        return "select_one" if "one" in low else "select_multiple"  # no list named: said by the mapping
    return types.get(low, types.get(low.replace("_", " "), low if low in types.values() else " ".join(words)))


def _normal_header(cell: str, table: Mapping[str, Any], single_colon: bool) -> str:
    """A column name as pyxform dealiases it (label::English (en) keeps its language, hcc:: columns stay ours)."""
    text = cell.strip()
    if text.lower().startswith("hcc::"):
        return text.lower()
    if "::" in text:
        head, _, language = text.partition("::")
    elif single_colon and ":" in text and text.split(":")[0].strip().lower() in _TRANSLATABLE:
        head, _, language = text.partition(":")
    else:
        head, language = text, ""
    name = "_".join(head.split()).lower()
    target = table.get(name, name)
    if isinstance(target, tuple):
        target = _SURVEY_COLUMN.get(target[-1], target[-1])
    target = {"list name": "list_name"}.get(target, target)
    return f"{target}::{language.strip()}" if language.strip() else target


def normalise_sheets(sheets: Sheets) -> Sheets:
    """The workbook's sheets with pyxform's aliases applied: the older `list name`, `select one from X`,
    `select all that apply from X`, `begin looped group`, `caption`, `relevance`, `form_id`, … in the spelling
    conversations/xlsform.py reads. Cells other than headers and survey types are left as they are."""
    from pyxform import aliases

    tables = {"survey": aliases.survey_header, "choices": aliases.list_header, "settings": aliases.settings_header,
              "external_choices": aliases.list_header}
    types = _type_aliases()
    out: Sheets = {}
    for name, rows in sheets.items():
        key = name.strip().lower()
        if key not in tables or not rows:
            out[name] = rows
            continue
        (header_row, header), body = rows[0], rows[1:]
        single = not any("::" in h for h in header)
        header = [_normal_header(h, tables[key], single) if h else "" for h in header]
        if key == "survey" and "type" in header:
            at = header.index("type")
            body = [(n, [_normal_type(c, types) if i == at and c else c for i, c in enumerate(cells)])
                    for n, cells in body]
        out[name] = [(header_row, header), *body]
    return out


def read_xlsform(path: Path | str, *, skip_unsupported: bool = False, skipped: list[str] | None = None) -> dict:
    """An XLSForm workbook as a dict in our form vocabulary (plain JSON); FormError in one line."""
    return xlsform_to_form(normalise_sheets(read_sheets(Path(path))), Path(path),
                           skip_unsupported=skip_unsupported, skipped=skipped)[1]


def load_form_file(path: Path | str, *, skip_unsupported: bool = False,
                   skipped: list[str] | None = None) -> tuple[Form, dict]:
    """A form from a .yaml/.yml or an XLSForm .xlsx/.xls file: the Form and its raw dict (plain JSON, a snapshot).

    With `skip_unsupported`, what a chat cannot ask in an XLSForm is left out instead of refused, one line for
    each appended to `skipped`.
    `parse_form(raw, path)` on the returned dict gives an equal Form; any mistake raises FormError (one line).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        check_size(path)
        raw = read_yaml(path)
    elif suffix in (".xlsx", ".xls"):  # the mapping built the Form from the raw dict, of text and numbers only
        form, raw = xlsform_to_form(normalise_sheets(read_sheets(path)), path,
                                    skip_unsupported=skip_unsupported, skipped=skipped)
        if json.loads(json.dumps(raw, ensure_ascii=False)) != raw:
            raise FormError(f"{path}: (top): {texts.FORM_ERR_VALUE_KIND}")
        return form, raw
    else:
        raise FormError(f"{path}: {texts.FORM_KIND}")
    try:
        parse_form(raw, path)  # the form's own mistakes first, named as in the file
    except MemoryError:
        raise FormError(f"{path}: {texts.FORM_TOO_BIG_FOR_MEMORY}") from None
    try:  # the snapshot is what is stored: the Form is built from it, so the two cannot differ
        raw = json.loads(json.dumps(raw, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise FormError(f"{path}: (top): {texts.FORM_ERR_VALUE_KIND} ({exc})") from exc
    return parse_form(raw, path), raw


def write_xlsx(path: Path | str, sheets: Mapping[str, Iterable[Iterable[Any]]]) -> None:
    """A plain workbook (text and numbers, no styles), one sheet per entry, in order."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append([None if value == "" else value for value in row])
    book.save(path)


def main() -> None:
    import yaml

    from conversations.forms.make_report_xlsx import FORMS, report_sheets, training_sheets

    raw = yaml.safe_load((FORMS / "report.yaml").read_text(encoding="utf-8"))
    write_xlsx(FORMS / "report.xlsx", report_sheets(raw))
    write_xlsx(FORMS / "training.xlsx", training_sheets())


if __name__ == "__main__":
    main()
