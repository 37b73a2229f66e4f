"""Form files on disk: our YAML, or an XLSForm workbook read with openpyxl; and the shipped workbooks' writer.

`load_form_file(path)` returns `(Form, raw dict)`: the raw dict is plain JSON (stored as the campaign's snapshot)
and the Form is built from it, so what is stored is what was checked. The mapping of an XLSForm's cells to our
vocabulary is pure and lives in conversations/xlsform.py; reading the .xlsx is here, with openpyxl (the library
the exports already use), so that any workbook Excel or LibreOffice writes is read as they wrote it.

`python -m bot.form_files` regenerates conversations/forms/report.xlsx (from report.yaml) and training.xlsx.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterable, Mapping

from conversations.form import Form, FormError, parse_form, read_yaml
from conversations.xlsform import xlsform_to_raw

UNREADABLE_HINT = "not a readable .xlsx workbook (open it in Excel or LibreOffice and save it as .xlsx)"
Sheets = dict[str, list[tuple[int, list[str]]]]
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


def read_sheets(path: Path) -> Sheets:
    """Every sheet of an .xlsx file: {name: [(row number, [cell text, …]), …]}, empty rows left out."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError as exc:
        raise FormError(f"{path}: cannot read the spreadsheet ({exc.strerror})") from exc
    except (InvalidFileException, *_UNREADABLE) as exc:
        raise FormError(f"{path}: {UNREADABLE_HINT}") from exc
    try:
        sheets: Sheets = {}
        for ws in book.worksheets:
            rows = []
            for number, values in enumerate(ws.iter_rows(values_only=True), 1):
                cells = [_text(v) for v in values]
                if any(cells):
                    rows.append((number, cells))
            sheets[ws.title] = rows
        return sheets
    except _UNREADABLE as exc:
        raise FormError(f"{path}: {UNREADABLE_HINT}") from exc
    finally:
        book.close()


def read_xlsform(path: Path | str) -> dict:
    """An XLSForm workbook as a dict in our form vocabulary (plain JSON); FormError in one line."""
    return xlsform_to_raw(read_sheets(Path(path)), Path(path))


def load_form_file(path: Path | str) -> tuple[Form, dict]:
    """A form from a .yaml/.yml or an XLSForm .xlsx file: the Form and its raw dict (plain JSON, for a snapshot).

    `parse_form(raw, path)` on the returned dict gives an equal Form; any mistake raises FormError (one line).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        raw = read_yaml(path)
    elif suffix == ".xlsx":
        raw = read_xlsform(path)
    else:
        raise FormError(f"{path}: a form is a .yaml, .yml or .xlsx file")
    parse_form(raw, path)  # the form's own mistakes first, named as in the file
    try:  # the snapshot is what is stored: the Form is built from it, so the two cannot differ
        raw = json.loads(json.dumps(raw, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise FormError(f"{path}: (top): a value is not text, a number, true/false, a list or a mapping "
                        f"({exc})") from exc
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
