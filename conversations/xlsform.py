"""Forms authored as XLSForm spreadsheets, read into our own form vocabulary.

`xlsform_to_form(sheets, path)` maps a workbook's cell text to a dict in the vocabulary of forms/report.yaml
(see its header) and the Form built from it. Reading the file is I/O and stays out of this pure core:
bot/form_files.py reads the workbook (python-calamine), applies pyxform's aliases to the headers and the type
column (`normalise_sheets`: every spelling authors use, from `list name` to `select all that apply from X`) and
calls this. Its `load_form_file(path)` returns `(Form, raw dict)`, the raw dict plain JSON (the campaign's
snapshot) from which `parse_form(raw, path)` builds the same Form again.

Why not pyxform's `workbook_to_json` (tried, pyxform 4.5): it does keep our `hcc::` columns (as a nested `hcc`
dict) and lets our own types through, but its tree has no row numbers, so a refusal could not name the row an
officer must fix; its errors are English; it reads with openpyxl (8 s for 10,000 rows, python-calamine 0.1 s)
before our limits could apply; and it refuses what we read leniently (names that are not XML names). Its alias
tables are what makes every dialect readable, and those we use.

Sheets
  survey    one row per question; groups and repeats nest (see below). Questions outside any group: each run of
            them becomes a section titled with the form's title, keyed `form` (then `form_2`, …).
  choices   list_name, name, label (any language column); any further column may be named by a choice_filter
            (`col = ${question}`, several joined by `and`: a cascade; a name may repeat under another filter)
  external_choices  the same, for select_one_external
  settings  optional: title (else the file's name), id_string (else made from the title), version; every other
            standard column (default_language, instance_name, style, allow_choice_duplicates, …) is accepted

Languages: the label, hint and message columns of one language are read: Vietnamese when there is one
(`label::Vietnamese (vi)`, `label::vi`, `label::Tiếng Việt`), else settings default_language, else the plain
`label`, else the first language; a cell empty in that language falls back to the plain column, then to any.

Names: XML names (capitals, dots, hyphens, a leading `_`) become storage-safe keys deterministically (lowercase
ASCII letters, digits, _; at most 40; a clash gets _2, _3): `Q1.Age` → `q1_age`. Every `${Q1.Age}` in an
expression is rewritten to the key, so references keep working.

Types: text (appearance multiline: long_text; numbers: phone), integer, decimal, date, time, datetime,
geopoint, image (a photo), select_one/select_multiple LIST [or_other] (`or_other: true`), select_one_external LIST
(its list on the workbook's external_choices sheet, as pyxform reads it), range (a number within
its start/end), acknowledge/trigger (yes_no), note (a `note` question said with the next one; first in a group
and unconditional: the section's intro), calculate (`calculation`), the metadata types start, end, today,
deviceid, subscriberid, simserial, phonenumber, username, email, audit (a `meta` question, never asked), and our
own name, phone, times, yes_no. Anything a chat cannot ask (geotrace, geoshape, audio, video, file, barcode,
rank, select_one_from_file, hidden, background-audio, …) is
refused in one line naming sheet, row and column — or left out with `skip_unsupported`, one line each in
`skipped`; so is a calculation, relevant or constraint outside the evaluator (pulldata(), instance() lookups). A
question left out is read as never answered by what names it: a question whose `relevant` names it is left out
too (never asked: its condition cannot be known, and not asking only leaves an answer blank, never a wrong one),
a `constraint` naming it is dropped (it could never hold), a calculation reads it as empty, as ODK reads an
unanswered field, a repeat count naming it leaves the list open; each said in `skipped` (see
drop_what_names_the_skipped). A note, a group's introduction or a group read as empty (pyxform allows naming
them). `hidden` is a calculate that needs no calculation (its default, else empty); an unnamed group gets the key
`group_row_N`. A form with nothing the chat would ask is refused.

Groups: a group inside a group is a section whose title is the path ("I. › 1. Nhân sự"); a repeat anywhere
outside a repeat is a repeat section with the path title; a group inside a repeat adds its questions to the
repeat's item, its label said as a note first. A group's `relevant` is added to each of its questions'. A
repeat inside a repeat (people, each with their trainings) is a list of its own after its parent's list, each
item first choosing which of the parent's items it belongs to (form.Question.item_of); its repeat_count counts one
parent item's, which a list of its own cannot check: it is an open list ("Thêm … nữa không?"). A repeat that
holds nothing but a repeat (and notes) is no parent: the inner list belongs to the list around it, or stands
alone.
Repeats: repeat_count a whole number (min = max), an expression (`count`), or none (`min: 0`, `max: null`:
open); hcc::min/hcc::max/hcc::item as before.

Expressions (relevant, constraint, calculation, repeat_count) are passed through with names rewritten; the
evaluator checks them when parse_form loads the form. Columns XLSForm defines that mean nothing in a chat
(appearance, default, media, parameters other than range's, guidance_hint, …) are accepted and ignored; an
unknown `hcc::` column is refused (a misspelt extension would otherwise be lost).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any, Mapping

from conversations import texts
from conversations.form import Form, FormError, in_vietnamese, parse_form
from conversations.xpath import XPathError, column_names, parse_expression

HCC_QUESTION = ("hcc::prompt", "hcc::personal", "hcc::deferrable", "hcc::badge", "hcc::not_above", "hcc::not_before")
HCC_GROUP = ("hcc::compact", "hcc::min", "hcc::max", "hcc::item")
SIMPLE_TYPES = {"integer": "integer", "decimal": "decimal", "date": "date", "time": "time", "datetime": "datetime",
                "geopoint": "geopoint", "image": "photo", "name": "name", "phone": "phone", "times": "times",
                "yes_no": "yes_no", "acknowledge": "yes_no", "trigger": "yes_no"}
META_TYPES = ("start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "email",
              "audit", "start-geopoint")
KNOWN_TYPES = {"select_one", "select_multiple", "select_one_external", "text", "range", "calculate", "hidden", "note",
               *SIMPLE_TYPES, *META_TYPES}
TRUE_WORDS = {"yes", "true", "true()", "1"}
FALSE_WORDS = {"no", "false", "false()", "0", ""}
PATH_SEPARATOR = " › "
_REF = re.compile(r"\$\{([^}]*)\}")
# a question's columns that may read another's answer (`${x}`)
_READING = ("relevant", "constraint", "calculation", "label", "prompt", "hint", "required_message",
            "constraint_message")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
Rows = list[tuple[int, list[str]]]


EXTERNAL = " (external_choices)"  # the name of a list read from the external_choices sheet: its own
WHOLE = " (whole)"  # a filtered list as a question without a filter offers it: each value once


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _keys_of(filter_by: str | list[str] | None) -> list[str]:
    """The questions a raw filter_by names."""
    return [] if not filter_by else [filter_by] if isinstance(filter_by, str) else list(filter_by)


def _names_in(q: dict) -> set[str]:
    """The names a raw question reads (its expressions and texts, its condition, its filter)."""
    return ({m.strip() for c in _READING for m in _REF.findall(q.get(c, ""))}
            | {q.get("ask_if", {}).get("key"), *_keys_of(q.get("filter_by"))})


class _Sheet:
    """One sheet as rows of {column: text}, with the column names lowercased."""

    def __init__(self, path: Path, name: str, rows: Rows):
        self.path, self.name = path, name
        if not rows:
            self.header_row, self.columns, self.rows = 0, [], []
            return
        self.header_row, header = rows[0]
        self.columns = [h.strip().lower() for h in header]
        self.rows = [(n, {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(self.columns) if c})
                     for n, cells in rows[1:]]

    def where(self, row: int | None, column: str | None = None) -> str:
        if row and column:
            return texts.XLSFORM_AT_COLUMN.format(sheet=self.name, row=row, column=column)
        if row:
            return texts.XLSFORM_AT_ROW.format(sheet=self.name, row=row)
        return texts.XLSFORM_AT_SHEET.format(sheet=self.name)

    def fail(self, row: int | None, column: str | None, problem: str) -> FormError:
        return FormError(f"{self.path}: {self.where(row, column)}: {problem}")


def _is_vietnamese(language: str) -> bool:
    low = language.strip().lower()
    return (low in ("vi", "vie", "vn") or "(vi)" in low or low.startswith(("vietnam", "vi-", "vi_", "tiếng việt",
                                                                               "tieng viet")))


def _languages(columns: list[str]) -> list[str]:
    """The languages of the label (and hint) columns, in the order of the sheet."""
    found: dict[str, None] = {}
    for column in columns:
        base, sep, language = column.partition("::")
        if sep and base in ("label", "hint") and language:
            found[language] = None
    return list(found)


def choose_language(columns: list[str], default_language: str) -> str | None:
    """Vietnamese when present, else default_language, else the plain columns (None), else the first language."""
    languages = _languages(columns)
    for language in languages:
        if _is_vietnamese(language):
            return language
    if default_language.lower() in languages:
        return default_language.lower()
    if "label" in columns or not languages:
        return None
    return languages[0]


def _in_language(row: Mapping[str, str], name: str, language: str | None) -> str:
    """A text column in the chosen language, else the plain column, else any language that has it."""
    if language is not None and row.get(f"{name}::{language}"):
        return row[f"{name}::{language}"]
    if row.get(name):
        return row[name]
    return next((v for c, v in row.items() if v and c.startswith(name + "::")), "")


def storage_key(name: str) -> str:
    """An XML name as a storage-safe key: ASCII lowercase letters, digits and _, a letter first, at most 40."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    key = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    if not key or not key[0].isalpha():
        key = f"q_{key}".rstrip("_")
    return key[:40].rstrip("_")


def _flag(row: Mapping[str, str], column: str) -> bool | None:
    """yes/no in XLSForm's spellings; None when the cell is something else (an expression)."""
    word = row.get(column, "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


_GT = re.compile(r"^\$\{([a-z][a-z0-9_]*)\}\s*>\s*(\d+)$")
_EQ = re.compile(r"^\$\{([a-z][a-z0-9_]*)\}\s*=\s*'([^']*)'$")
_NE = re.compile(r"^\$\{([a-z][a-z0-9_]*)\}\s*!=\s*''\s+and\s+\$\{([a-z][a-z0-9_]*)\}\s*!=\s*'([^']*)'$")


def _as_ask_if(relevant: str, earlier: Mapping[str, str]) -> dict | None:
    """Our ask_if for a relevant of a simple shape with exactly its meaning, else None."""
    if (m := _GT.match(relevant)) and earlier.get(m[1]) == "integer":
        return {"key": m[1], "gt": int(m[2])}
    op, field, value = "equals", None, ""
    if m := _EQ.match(relevant):
        field, value = m[1], m[2]
    elif (m := _NE.match(relevant)) and m[1] == m[2]:
        op, field, value = "not_equals", m[1], m[3]
    if field not in earlier or not value:
        return None
    kind = earlier[field]
    if kind == "yes_no":
        if value not in ("yes", "no"):
            return None
        return {"key": field, op: value == "yes"}
    if kind == "integer":
        return {"key": field, op: int(value)} if value.isdigit() else None
    if kind in ("choice", "text", "name", "long_text", "phone", "times", "date"):
        return {"key": field, op: value}
    return None


def _both(first: str, second: str) -> str:
    """Two relevant conditions that must both hold."""
    if not first or not second:
        return first or second
    return f"({first}) and ({second})"


def _quoted(text: str) -> str:
    """A default value as an expression: a number as it is, anything else quoted ('' when empty)."""
    if re.fullmatch(r"-?\d+(\.\d+)?", text.strip()):
        return text.strip()
    return "'" + text + "'" if "'" not in text else '"' + text.replace('"', "") + '"'


def _as_empty(expression: str, names: set[str]) -> str:
    """`${name}` of these names read as the empty string '' (also where it is quoted whole: '${name}')."""
    def empty(m: re.Match) -> str:
        return "''" if _REF.fullmatch(m[0].strip("'\"")) and m[0].strip("'\"")[2:-1].strip() in names else m[0]
    return re.sub(r"'\$\{[^}]*\}'|\"\$\{[^}]*\}\"|\$\{[^}]*\}", empty, expression)


def _slug(title: str) -> str:
    return storage_key(title) or "form"


class _Skip(Exception):
    """A row left out with skip_unsupported (its line already recorded)."""


def xlsform_to_raw(sheets: Mapping[str, Rows], path: Path | str, **options: Any) -> dict:
    """An XLSForm workbook's sheets ({name: [(row number, [cell text, …]), …]}, as bot/form_files.py reads and
    normalises them) as a dict in our form vocabulary (plain JSON); FormError in one line naming `path`, the
    sheet, the row and the column."""
    return xlsform_to_form(sheets, path, **options)[1]


def xlsform_to_form(sheets: Mapping[str, Rows], path: Path | str, *, skip_unsupported: bool = False,
                    skipped: list[str] | None = None) -> tuple[Form, dict]:
    """The Form and its raw dict (see xlsform_to_raw), the Form built once from the dict. With skip_unsupported,
    what a chat cannot ask is left out and said in `skipped`, one line each, instead of refused."""
    return _Reader(sheets, Path(path), skip_unsupported, skipped if skipped is not None else []).read()


class _Reader:
    def __init__(self, sheets: Mapping[str, Rows], path: Path, skip: bool, skipped: list[str]):
        found = {name.strip().lower(): rows for name, rows in sheets.items()}
        if "survey" not in found:
            raise FormError(f"{path}: {texts.XLSFORM_NO_SURVEY}")
        self.path, self.skip, self.skipped = path, skip, skipped
        self.survey = _Sheet(path, "survey", found["survey"])
        self.choices = _Sheet(path, "choices", found.get("choices", []))
        # select_one_external's lists: in ODK a CSV made from this sheet; here read from the workbook itself
        self.external = _Sheet(path, "external_choices", found.get("external_choices", []))
        for sheet, auto in ((self.survey, "$autoname"), (self.choices, "$autovalue")):  # KoboToolbox's own names
            for _, row in sheet.rows:
                if not row.get("name") and row.get(auto):
                    row["name"] = row[auto]
            if auto in sheet.columns and "name" not in sheet.columns:
                sheet.columns.append("name")
        self.settings = _Sheet(path, "settings", found.get("settings", []))

    # --- refusals, or lines of what was left out ---

    def unsupported(self, sheet: _Sheet, row: int, column: str, problem: str) -> _Skip:
        """Refuse (FormError), or with skip_unsupported record the line and return _Skip to raise."""
        if not self.skip:
            raise sheet.fail(row, column, problem)
        self.skipped.append(f"{sheet.where(row, column)}: {problem}")
        return _Skip()

    # --- the whole workbook ---

    def read(self) -> tuple[Form, dict]:
        survey, settings = self.survey, self.settings
        values = settings.rows[0][1] if settings.rows else {}
        self.language = choose_language(survey.columns, values.get("default_language", ""))
        title = _in_language(values, "title", self.language) or re.sub(r"[_\-]+", " ", self.path.stem).strip()
        form_id = values.get("id_string") or _slug(title)
        self.title = title or form_id
        for column in ("type", "name"):
            if column not in survey.columns:
                raise survey.fail(survey.header_row, None, texts.XLSFORM_COLUMN_MISSING.format(column=column))
        for column in survey.columns:
            if column.startswith("hcc::") and column not in HCC_QUESTION + HCC_GROUP:
                used = next((n for n, row in survey.rows if row.get(column)), None)
                if used is not None:
                    raise survey.fail(used, column, texts.XLSFORM_UNKNOWN_HCC)
        self.list_sheets: dict[str, _Sheet] = {}  # a list not of the choices sheet: its sheet
        self.lists = self._choice_rows(self.choices)
        for name, rows in self._choice_rows(self.external).items():
            self.lists[name + EXTERNAL] = rows
            self.list_sheets[name + EXTERNAL] = self.external
        survey.rows = self.expand_loops(survey.rows)
        self.keys = self._keys()
        self.sections: list[dict] = []
        self.rows_of: dict[int, tuple[int, dict]] = {}  # id() of a section or question dict: (row, its row)
        self.used_lists: dict[str, int] = {}
        self.types_of: dict[int, dict[str, str]] = {}  # id() of a section: its questions' keys and types
        self.filters: dict[str, tuple[tuple[str, ...], int]] = {}  # list name: (its filter columns, first row)
        self.filter_fields: dict[str, tuple[str, ...]] = {}  # list name: the questions its filter columns match
        self.unfiltered: dict[str, list[tuple[int, dict]]] = {}  # list name: (row, question) offering it all
        self.read_columns: dict[str, set[str]] = {}  # list name: the columns its choice_filter expressions read
        self.narrowed: dict[str, tuple[str, tuple]] = {}  # a list narrowed by fixed values: (its list, the values)
        self.survey_rows()
        choice_lists = self.choice_lists()
        self.drop_what_names_the_skipped()
        if not any(q["type"] not in ("note", "calculate", "meta") and q.get("relevant") != "false()"
                   for s in self.sections for q in s["questions"]):  # nothing the chat would ever ask
            raise survey.fail(survey.header_row, "type", texts.XLSFORM_NO_QUESTIONS + (
                texts.XLSFORM_ALL_SKIPPED.format(count=len(self.skipped)) if self.skipped else ""))
        raw: dict[str, Any] = {"id": form_id, "title": self.title}
        if values.get("version"):
            raw["version"] = values["version"]
        used = {q.get("choices") for s in self.sections for q in s["questions"]}
        choice_lists = {name: entries for name, entries in choice_lists.items() if name in used}
        if choice_lists:
            raw["choice_lists"] = choice_lists
        taken: set[str] = set()
        for section in self.sections:  # a group named like another, or like the loose questions' `form`
            key, n = section["key"], 1
            while section["key"] in taken:
                n += 1
                section["key"] = f"{key[:36]}_{n}"
            taken.add(section["key"])
        raw["sections"] = self.sections
        try:
            form = parse_form(raw, self.path)
        except FormError as exc:
            raise self.placed(exc) from None
        return form, raw

    def expand_loops(self, rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, dict[str, str]]]:
        """`begin loop over LIST` … `end loop`: a group for each choice of LIST, as pyxform expands it, each
        named LOOP_CHOICE and titled with the choice's label in place of %(label)s."""
        out: list[tuple[int, dict[str, str]]] = []
        i = 0
        while i < len(rows):
            n, row = rows[i]
            words = row.get("type", "").split()
            if not words or words[0].lower() != "begin_loop" or len(words) != 2 or words[1] not in self.lists:
                out.append((n, row))
                i += 1
                continue
            depth, j = 1, i + 1
            while j < len(rows) and depth:
                kind = rows[j][1].get("type", "").split()[:1]
                depth += {"begin_loop": 1, "end_loop": -1}.get(kind[0].lower() if kind else "", 0)
                j += 1
            if depth:
                out.append((n, row))  # no end: said by the group check
                i += 1
                continue
            body = self.expand_loops(rows[i + 1:j - 1])
            for _, choice in self.lists[words[1]]:
                label = _in_language(choice, "label", self.language) or choice.get("name", "")

                def put(cells: dict[str, str]) -> dict[str, str]:
                    return {c: v.replace("%(label)s", label) if c.startswith(("label", "hint")) else v
                            for c, v in cells.items()}

                name = f"{row.get('name', '')}_{choice.get('name', '')}"
                out.append((n, {**put(row), "type": "begin_group", "name": name,
                                "label": put(row).get("label") or label}))
                out.extend((m, put(cells)) for m, cells in body)
                out.append((rows[j - 1][0], {"type": "end_group"}))
            i = j
        return out

    def _keys(self) -> dict[str, str]:
        """Every name of the survey: its storage key (deterministic; a clash gets _2, _3, …)."""
        keys: dict[str, str] = {}
        taken: set[str] = set()
        for _, row in self.survey.rows:
            name = row.get("name", "")
            if not name or name in keys:
                continue
            key = base = storage_key(name)
            n = 1
            while key in taken:
                n += 1
                key = f"{base[:36]}_{n}"
            keys[name] = key
            taken.add(key)
        return keys

    def rewrite(self, expression: str, condition: bool = False) -> str:
        """${Name} references as ${key}; typographic quotes (a spreadsheet's autocorrect) as straight ones; in a
        condition (relevant, constraint), a bare yes/no/TRUE/FALSE as true()/false(), as pyxform reads them."""
        expression = expression.translate(_QUOTES).strip()
        if condition and expression.lower() in (TRUE_WORDS | FALSE_WORDS) - {"", "0", "1"}:
            return "true()" if expression.lower() in TRUE_WORDS else "false()"
        return _REF.sub(lambda m: "${" + self.keys.get(m[1].strip(), m[1].strip()) + "}", expression)

    # --- choices ---

    def _choice_rows(self, sheet: _Sheet) -> dict[str, list[tuple[int, dict[str, str]]]]:
        lists: dict[str, list[tuple[int, dict[str, str]]]] = {}
        if not sheet.rows:
            return lists
        for column in ("list_name", "name"):
            if column not in sheet.columns:
                raise sheet.fail(sheet.header_row, column, texts.XLSFORM_COLUMN_MISSING.format(column=column))
        for n, row in sheet.rows:
            if not row.get("list_name") and not row.get("name"):
                continue  # a row of comments or media only
            lists.setdefault(row.get("list_name", ""), []).append((n, row))
        return lists

    def choice_lists(self) -> dict[str, list[dict]]:
        out = {}
        allow_duplicates = _flag(self.settings.rows[0][1] if self.settings.rows else {}, "allow_choice_duplicates")
        for list_name in self.used_lists:
            sheet = self.list_sheets.get(list_name, self.choices)
            columns = self.filters.get(list_name, ((), 0))[0]
            entries, seen = [], set()
            for n, row in self.lists[list_name]:
                value = row.get("name", "")
                if not value:
                    raise sheet.fail(n, "name", texts.XLSFORM_CHOICE_NO_NAME.format(list=list_name))
                if len(value.encode()) > 60:  # a button's data on Telegram is at most 64 bytes
                    raise sheet.fail(n, "name", texts.XLSFORM_CHOICE_TOO_LONG.format(value=value[:30]))
                if columns and not all(row.get(c) for c in columns):
                    continue  # offered after no answer, so never (as in ODK)
                when = [row[c] for c in columns]
                # a cascade's list may name a choice again under another filter (a county name in two states)
                if (value, *when) in seen:
                    if not allow_duplicates:  # refused; with skip_unsupported the first one is kept
                        self.unsupported(sheet, n, "name", texts.XLSFORM_CHOICE_DUPLICATE.format(value=value,
                                                                                               list=list_name))
                    continue
                seen.add((value, *when))
                entry = {"value": value, "label": _in_language(row, "label", self.language) or value}
                if when:
                    entry["when"] = when[0] if len(when) == 1 else when
                if list_name in self.read_columns:
                    entry["columns"] = {c: row.get(c, "") for c in sorted(self.read_columns[list_name])}
                entries.append(entry)
            if self.skip and columns:
                entries = self.offerable(list_name, entries, out)
            if entries and columns and list_name in self.unfiltered:
                self.offer_all(list_name, entries, out, allow_duplicates)
            if entries:
                out[list_name] = entries
                continue
            problem = texts.XLSFORM_LIST_EMPTY.format(list=list_name, column=", ".join(columns))
            self.unsupported(self.survey, self.used_lists[list_name], "choice_filter", problem)
            for section in self.sections:  # with skip_unsupported: the questions of a list with nothing to offer
                for q in [q for q in section["questions"] if q.get("choices") == list_name]:
                    if self.rows_of[id(q)][0] != self.used_lists[list_name]:
                        self.skipped.append(f"{self.survey.where(self.rows_of[id(q)][0], 'choice_filter')}: {problem}")
                    section["questions"].remove(q)
        self.sections = [s for s in self.sections if s["questions"]]
        return out

    def offer_all(self, list_name: str, entries: list[dict], out: dict[str, list[dict]], allow: bool) -> None:
        """A filtered list that a question also offers whole: that question gets it once per value (a county
        named in two states is one choice there), or, without allow_choice_duplicates, is refused as pyxform does."""
        whole, seen = [], set()
        for entry in entries:
            if entry["value"] in seen:
                if not allow:
                    row, _ = self.unfiltered[list_name][0]
                    self.unsupported(self.survey, row, "type", texts.XLSFORM_CHOICE_DUPLICATE.format(
                        value=entry["value"], list=list_name))
                continue
            seen.add(entry["value"])
            whole.append({k: v for k, v in entry.items() if k != "when"})
        out[list_name + WHOLE] = whole
        for _, question in self.unfiltered[list_name]:
            question["choices"] = list_name + WHOLE

    def offerable(self, list_name: str, entries: list[dict], out: dict[str, list[dict]]) -> list[dict]:
        """With skip_unsupported, a filtered list's choices that can be offered: those whose filter value is a
        choice of the question it names (ODK shows the others never; parse_form refuses them). One line says
        how many were left out."""
        fields = self.filter_fields[list_name]
        questions = {q["key"]: q for section in self.sections for q in section["questions"]}
        kept = entries
        for i, field in enumerate(fields):
            source = out.get(questions.get(field, {}).get("choices", ""))
            if source is None:
                continue  # not a list of this form read yet: parse_form judges
            values = {c["value"] for c in source}
            kept = [e for e in kept if (e["when"] if len(fields) == 1 else e["when"][i]) in values]
        if len(kept) < len(entries):
            self.skipped.append(f"{self.survey.where(self.filters[list_name][1], 'choice_filter')}: "
                                + texts.XLSFORM_FILTER_NEVER.format(count=len(entries) - len(kept), list=list_name))
        return kept

    # --- survey ---

    def survey_rows(self) -> None:
        survey = self.survey
        stack: list[dict] = []  # open groups and repeats, outermost first
        self.loose: dict | None = None
        self.loose_count = 0
        for n, row in survey.rows:
            kind = re.sub(r"\s+", " ", row.get("type", "")).strip()
            low = kind.lower()
            if not kind:
                if row.get("name") or _in_language(row, "label", self.language):  # else a comment row, as pyxform
                    raise survey.fail(n, "type", texts.XLSFORM_NO_TYPE)
                continue
            skipping = any(frame["skip"] for frame in stack)
            if low.startswith("begin_"):
                stack.append(self.begin(n, row, low.split()[0].removeprefix("begin_"), stack, skipping))
                continue
            if low.startswith("end_"):
                word = low.split()[0].removeprefix("end_")
                if not stack:
                    raise survey.fail(n, "type", texts.XLSFORM_END_WITHOUT_BEGIN.format(type=kind, word=word))
                frame = stack.pop()
                if frame["word"] != word and {frame["word"], word} != {"repeat", "loop"}:
                    raise survey.fail(n, "type", texts.XLSFORM_END_MISMATCH.format(
                        type=kind, word=frame["word"], row=frame["row"]))
                self.end(frame, stack)
                continue
            if skipping:
                continue
            try:
                self.question(n, row, kind, stack)
            except _Skip:
                continue
        if stack:
            frame = stack[-1]
            raise survey.fail(frame["row"], "type", texts.XLSFORM_NO_END.format(word=frame["word"], name=frame["name"]))
        self.close_loose()

    def close_loose(self) -> None:
        if self.loose is not None:
            self.loose = None

    def begin(self, n: int, row: Mapping[str, str], word: str, stack: list[dict], skipping: bool) -> dict:
        survey = self.survey
        name = row.get("name", "")
        label = _in_language(row, "label", self.language)
        parent = stack[-1] if stack else None
        repeat_of = next((f for f in reversed(stack) if f["word"] == "repeat"), None)
        frame = {"word": word, "row": n, "name": name, "label": label, "skip": skipping, "section": None,
                 "part": 0, "repeat_of": repeat_of, "intro": None,
                 "path": [*(parent["path"] if parent else []), *([label] if label else [])],
                 "relevant": _both(parent["relevant"] if parent else "", self.rewrite(row.get("relevant", ""), True))}
        if word == "repeat" and repeat_of is not None and not label and name:
            frame["path"].append(name)  # an unlabelled list inside a list: not titled as its parent
        if skipping:
            return frame
        if not name:  # pyxform refuses it; its name is only our section key, so one is made from the row
            name = frame["name"] = f"group_row_{n}"
        if parent is not None and parent["word"] == "group" and parent["repeat_of"] is None:
            self.flush_intro(parent)
            parent["section"] = None  # the parent's later questions make a section of their own
        self.close_loose()
        try:
            if word == "loop":
                raise self.unsupported(survey, n, "type", texts.XLSFORM_LOOP)
        except _Skip:
            frame["skip"] = True
            return frame
        if word == "repeat":
            frame["section"] = self.new_section(frame, n, row)
            if repeat_of is not None:
                self.link(frame["section"], repeat_of["section"], n, frame["relevant"], row)
        elif repeat_of is not None and label:  # a group inside a repeat: its label said first, as a note
            self.add(repeat_of["section"], n, {"key": self.keys.get(name, name), "label": label, "prompt": label,
                                              "type": "note", "required": False,
                                              **({"relevant": frame["relevant"]} if frame["relevant"] else {})})
        for column in HCC_GROUP:
            if row.get(column) and word != "repeat" and column != "hcc::compact":
                raise survey.fail(n, column, texts.XLSFORM_REPEAT_ONLY)
        frame["compact"] = [self.keys.get(k, k) for k in re.split(r"[,\s]+", row.get("hcc::compact", "")) if k]
        return frame

    def new_section(self, frame: dict, n: int, row: Mapping[str, str] | None = None) -> dict:
        frame["part"] += 1
        key = self.keys.get(frame["name"], storage_key(frame["name"]))
        title = PATH_SEPARATOR.join(frame["path"]) or frame["name"]
        section: dict[str, Any] = {"key": key if frame["part"] == 1 else f"{key[:36]}_{frame['part']}",
                                   "title": title, "questions": []}
        if frame.get("intro") and frame["part"] == 1:
            section["intro"] = frame["intro"]
        if frame.get("compact") and frame["part"] == 1:
            section["compact"] = frame["compact"]
        if row is not None and frame["word"] == "repeat":
            section["repeat"] = self.repeat(n, row, frame)
            if row.get("hcc::compact"):
                section["compact"] = [self.keys.get(k, k) for k in re.split(r"[,\s]+", row["hcc::compact"]) if k]
        self.sections.append(section)
        self.rows_of[id(section)] = (n, section)
        return section

    def link(self, section: dict, parent: dict, n: int, relevant: str, row: Mapping[str, str]) -> None:
        """A repeat inside a repeat: a list of its own after its parent's, each item first saying which of the
        parent's items it belongs to (form.Question.item_of); the repeat's `relevant` (and its groups') says which
        parent items have one. It is an open list: a repeat_count or hcc::min/max counts the items of one parent
        item, which a list of its own cannot check (said in `skipped`)."""
        taken = {*self.keys.values(), *(q["key"] for s in self.sections for q in s["questions"])}
        base = f"{parent['key'][:35]}_item"
        key = next(k for k in (base, *(f"{base[:37]}_{i}" for i in range(2, 100))) if k not in taken)
        word = parent["repeat"]["item"]
        if any(row.get(c) for c in ("repeat_count", "hcc::min", "hcc::max")):
            column = next(c for c in ("repeat_count", "hcc::min", "hcc::max") if row.get(c))
            self.skipped.append(f"{self.survey.where(n, column)}: " + texts.XLSFORM_INNER_COUNT)
        section["repeat"] = {"min": 0, "max": None, "item": section["repeat"]["item"]}
        question = {"key": key, "label": _first_upper(word), "type": "choice", "item_of": parent["key"],
                    "prompt": texts.ITEM_OF_PROMPT.format(item=_first_upper(section["repeat"]["item"]), parent=word)}
        if relevant:
            question["relevant"] = relevant
        self.add(section, n, question)

    def repeat(self, n: int, row: Mapping[str, str], frame: dict) -> dict:
        survey = self.survey
        count, lo, hi = row.get("repeat_count", ""), row.get("hcc::min", ""), row.get("hcc::max", "")
        for column, value in (("hcc::min", lo), ("hcc::max", hi)):
            if value and not value.isdigit():
                raise survey.fail(n, column, texts.XLSFORM_WHOLE_NUMBER.format(value=value))
        if count and (lo or hi):
            raise survey.fail(n, "repeat_count", texts.XLSFORM_COUNT_OR_MIN_MAX)
        label = frame["label"] or frame["name"]
        item = row.get("hcc::item") or label[:1].lower() + label[1:]
        if count.isdigit():
            return {"min": int(count), "max": int(count), "item": item}
        if count:
            return {"min": 0, "max": None, "item": item, "count": self.rewrite(count)}
        return {"min": int(lo or 0), "max": int(hi) if hi else None, "item": item}

    def end(self, frame: dict, stack: list[dict]) -> None:
        if frame["skip"]:
            return
        self.flush_intro(frame)
        section = frame["section"]
        if frame["word"] == "repeat" and section is not None and \
                all(q.get("item_of") or q["type"] == "note" for q in section["questions"]):  # nothing to ask
            self.sections.remove(section)  # an empty repeat (or one whose questions were all left out)
            above = next((q for q in section["questions"] if q.get("item_of")), None)
            for inner in self.sections:  # a repeat that only held a repeat: no parent of the inner list
                if inner["questions"] and inner["questions"][0].get("item_of") == section["key"]:
                    if above is None:  # the inner list stands on its own
                        del inner["questions"][0]
                    else:  # its items belong to the items of the list around the one removed
                        word = next(s for s in self.sections if s["key"] == above["item_of"])["repeat"]["item"]
                        inner["questions"][0].update(
                            item_of=above["item_of"], label=_first_upper(word),
                            prompt=texts.ITEM_OF_PROMPT.format(item=_first_upper(inner["repeat"]["item"]), parent=word))
        parent = stack[-1] if stack else None
        if parent is not None and parent["word"] == "group" and parent["repeat_of"] is None:
            parent["section"] = None

    def flush_intro(self, frame: dict) -> None:
        """A group's introduction with no question of its own after it: a note question of its own section."""
        if frame["intro"] and frame["part"] == 0:
            section = self.new_section(frame, frame["row"])
            intro = section.pop("intro")
            self.add(section, frame["row"], {"key": self.keys.get(frame["name"], frame["name"]), "label": intro,
                                            "prompt": intro, "type": "note", "required": False})
            frame["intro"] = None

    def target(self, stack: list[dict], n: int) -> dict:
        """The section a question on row n joins."""
        if not stack:
            if self.loose is None:
                self.loose_count += 1
                self.loose = {"key": "form" if self.loose_count == 1 else f"form_{self.loose_count}",
                              "title": self.title, "questions": []}
                self.sections.append(self.loose)
                self.rows_of[id(self.loose)] = (n, self.loose)
            return self.loose
        frame = stack[-1]
        if frame["repeat_of"] is not None and frame["word"] == "group":
            return frame["repeat_of"]["section"]
        if frame["section"] is None:
            frame["section"] = self.new_section(frame, frame["row"] if frame["part"] == 0 else n)
        return frame["section"]

    def add(self, section: dict, n: int, question: dict) -> None:
        section["questions"].append(question)
        self.rows_of[id(question)] = (n, question)
        self.types_of.setdefault(id(section), {})[question["key"]] = question["type"]

    def question(self, n: int, row: Mapping[str, str], kind: str, stack: list[dict]) -> None:
        survey = self.survey
        name = row.get("name", "")
        parts = kind.split(" ")
        base = parts[0].lower()
        label = _in_language(row, "label", self.language)
        group_relevant = stack[-1]["relevant"] if stack else ""
        if base == "note" and stack and not group_relevant and not row.get("relevant") and label:
            frame = stack[-1]
            if frame["word"] == "group" and frame["repeat_of"] is None and frame["section"] is None \
                    and frame["part"] == 0 and frame["intro"] is None:
                frame["intro"] = label  # the group's introduction, said before its first question
                return
            section = frame["section"]
            if frame["word"] == "repeat" and not section["questions"] and "intro" not in section:
                section["intro"] = label  # the list's introduction
                return
        if base not in KNOWN_TYPES:  # before the name: a stray row of an unknown type is that, not a nameless one
            raise self.unsupported(survey, n, "type", texts.XLSFORM_TYPE.format(type=kind))
        if not name and base != "note":
            raise survey.fail(n, "name", texts.XLSFORM_NO_NAME)
        key = self.keys[name] if name else f"note_row_{n}"  # a note is never referred to
        question: dict[str, Any] = {"key": key}
        appearance = row.get("appearance", "").strip().lower()
        list_name = None
        if base in ("select_one", "select_multiple", "select_one_external") and len(parts) >= 2:
            list_name = parts[1]
            if parts[2:] not in ([], ["or_other"]) or base == "select_one_external" and parts[2:]:
                raise self.unsupported(survey, n, "type", texts.XLSFORM_TYPE.format(type=kind))
            if base == "select_one_external":  # its list is on the external_choices sheet
                if list_name + EXTERNAL not in self.lists:
                    raise self.unsupported(survey, n, "type", texts.XLSFORM_EXTERNAL_MISSING.format(list=list_name))
                list_name += EXTERNAL
            question["type"] = "multi_choice" if base == "select_multiple" else "choice"
            if parts[2:] == ["or_other"]:
                question["or_other"] = True
        elif base in ("select_one", "select_multiple", "select_one_external"):
            raise survey.fail(n, "type", texts.XLSFORM_NO_LIST.format(type=kind))
        elif base == "text" and len(parts) == 1:
            question["type"] = {"multiline": "long_text", "numbers": "phone"}.get(appearance, "text")
        elif base == "range" and len(parts) == 1:
            question.update(self.range(n, row))
        elif base in SIMPLE_TYPES and len(parts) == 1:
            question["type"] = SIMPLE_TYPES[base]
        elif base in META_TYPES and len(parts) == 1:
            question.update(type="meta", meta=base)
        elif base in ("calculate", "hidden") and len(parts) == 1:
            # without a calculation, as pyxform: its default; a `hidden` field may have neither (it stays empty)
            calculation = row.get("calculation") or (_quoted(row["default"]) if row.get("default") else "")
            if not calculation and base == "calculate":
                raise self.unsupported(survey, n, "calculation", texts.XLSFORM_NO_CALCULATION)
            question.update(type="calculate", calculation=self.rewrite(calculation or "''"))
        elif base == "note" and len(parts) == 1:
            question["type"] = "note"
        else:
            raise self.unsupported(survey, n, "type", texts.XLSFORM_TYPE.format(type=kind))
        qtype = question["type"]
        if qtype not in ("meta", "calculate", "note") and _flag(row, "read_only"):
            if row.get("calculation"):
                question.update(type="calculate", calculation=self.rewrite(row["calculation"]))
            else:
                question["type"] = "note"  # shown, never answered
            question.pop("or_other", None)
            list_name, qtype = None, question["type"]
        if not label:
            label = (_in_language(row, "hint", self.language) or name) if qtype != "note" else ""
            if not label:
                return  # a note with nothing to say (media only)
        question.update(label=label, prompt=row.get("hcc::prompt") or label)
        if qtype in ("meta", "calculate", "note"):
            question["required"] = False
        else:
            required = _flag(row, "required")
            if required is None:
                raise self.unsupported(survey, n, "required", texts.XLSFORM_REQUIRED.format(value=row["required"]))
            question["required"] = required
        for column in ("hint", "required_message", "constraint_message"):
            if qtype not in ("meta", "calculate") and (value := _in_language(row, column, self.language)):
                if column != "hint" or value != label:
                    question[column] = value
        relevant = _both(group_relevant, self.rewrite(row.get("relevant", ""), True))
        expressions = {"relevant": relevant}
        if qtype == "calculate":
            expressions["calculation"] = question["calculation"]
        if qtype not in ("meta", "calculate", "note"):
            expressions["constraint"] = _both(question.pop("constraint", ""), self.rewrite(row.get("constraint", ""), True))
        for column, value in expressions.items():
            if not value:
                continue
            try:
                parse_expression(value)
            except XPathError as exc:
                raise self.unsupported(survey, n, column, texts.XLSFORM_EXPRESSION.format(
                    problem=in_vietnamese(str(exc), texts.XLSFORM_EXPRESSION_PROBLEMS))) from None
            question[column] = value
        if "constraint_message" in question and "constraint" not in question:
            del question["constraint_message"]
        if qtype not in ("meta", "calculate", "note"):
            for column in ("personal", "deferrable", "badge"):
                flag = _flag(row, f"hcc::{column}")
                if flag is None:
                    raise survey.fail(n, f"hcc::{column}", texts.XLSFORM_YES_NO.format(value=row[f"hcc::{column}"]))
                if flag:
                    question[column] = True
            for column in ("not_above", "not_before"):
                if value := row.get(f"hcc::{column}"):
                    question[column] = self.keys.get(value, value)
        for column in ("repeat_count", *HCC_GROUP):
            if row.get(column):
                raise survey.fail(n, column, texts.XLSFORM_GROUP_ONLY)
        if list_name is not None:
            if list_name not in self.lists:
                raise self.unsupported(survey, n, "type", texts.XLSFORM_LIST_MISSING.format(list=list_name))
            if value := row.get("choice_filter"):
                list_name = self.choice_filter(n, value, list_name, question)
            question["choices"] = list_name
            self.used_lists.setdefault(list_name, n)
            if "filter_by" not in question and "choice_filter" not in question:
                self.unfiltered.setdefault(list_name, []).append((n, question))
        section = self.target(stack, n)
        earlier = self.types_of.setdefault(id(section), {})  # grows with the section: linear
        if "choice_filter" in question:  # its answers are read in the question's own scope (Question.options)
            outside = sorted(parse_expression(question["choice_filter"], columns=True).fields - set(earlier))
            if outside:
                raise self.unsupported(survey, n, "choice_filter", texts.XLSFORM_FILTER_OUTSIDE.format(key=outside[0]))
        if "relevant" in question and (ask_if := _as_ask_if(question["relevant"], earlier)) is not None:
            question["ask_if"] = ask_if
            del question["relevant"]
        self.add(section, n, question)

    def range(self, n: int, row: Mapping[str, str]) -> dict:
        """A range question: a number between its start and end (XLSForm's defaults 1 and 10)."""
        params = dict(re.findall(r"(\w+)\s*=\s*([-\d.]+)", row.get("parameters", "")))
        start, end, step = params.get("start", "1"), params.get("end", "10"), params.get("step", "1")
        whole = all(re.fullmatch(r"-?\d+", v) for v in (start, end, step))
        low, high = (start, end) if float(start) <= float(end) else (end, start)
        return {"type": "integer" if whole else "decimal", "constraint": f". >= {low} and . <= {high}"}

    def choice_filter(self, n: int, value: str, list_name: str, question: dict) -> str:
        """The list the question offers: filtered by earlier answers (`COLUMN = ${field}`, either way round, or
        several joined by `and`, as a cascade's `state = ${state} and county = ${county}`: our filter_by), by fixed
        values (`COLUMN = 'v'`: the list narrowed once, here), or not at all (true())."""
        survey = self.survey
        sheet = self.list_sheets.get(list_name, self.choices)
        value = self.rewrite(value)
        if value.strip() == "true()":
            return list_name
        pairs: list[tuple[str, str]] = []  # (column, field)
        fixed: list[tuple[str, str]] = []  # (column, value)
        # `and` joins conditions where it stands outside quotes ('rock and roll' is one value)
        for part in re.split(r"\s+and\s+(?=(?:[^'\"]*(?:'[^']*'|\"[^\"]*\"))*[^'\"]*$)", value.strip()):
            m = re.fullmatch(r"\s*\(?\s*([A-Za-z_][\w\-]*)\s*=\s*\$\{([^}]+)\}\s*\)?\s*", part)
            m_rev = re.fullmatch(r"\s*\(?\s*\$\{([^}]+)\}\s*=\s*([A-Za-z_][\w\-]*)\s*\)?\s*", part)
            m_fixed = re.fullmatch(r"\s*([A-Za-z_][\w\-]*)\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|([\w\-]+))\s*", part)
            if m is not None:
                pairs.append((m[1].lower(), m[2].strip()))
            elif m_rev is not None:
                pairs.append((m_rev[2].lower(), m_rev[1].strip()))
            elif m_fixed is not None and m_fixed[1].lower() in sheet.columns:
                fixed.append((m_fixed[1].lower(), next(v for v in m_fixed.groups()[1:] if v is not None)))
            else:
                return self.general_filter(n, value, list_name, question)
        if fixed:
            narrowed = base = "__".join([list_name, *(f"{c}_{storage_key(v) or 'x'}" for c, v in fixed)])
            again = 1
            while self.narrowed.setdefault(narrowed, (list_name, tuple(fixed))) != (list_name, tuple(fixed)):
                again += 1  # 'Hà Nội' and 'Ha Noi' spell the same key: not the same list
                narrowed = f"{base}_{again}"
            self.lists[narrowed] = [(r, c) for r, c in self.lists[list_name] if all(c.get(k) == v for k, v in fixed)]
            if list_name in self.list_sheets:
                self.list_sheets[narrowed] = sheet
            if not self.lists[narrowed]:
                raise survey.fail(n, "choice_filter", texts.XLSFORM_FILTER_EMPTY.format(value=value))
            list_name = narrowed
        if not pairs:
            return list_name
        pairs.sort()  # the same columns whatever order a question names them in
        for column, field in pairs:
            if field not in self.keys.values():
                raise self.unsupported(survey, n, "choice_filter", texts.XLSFORM_FILTER.format(value=value))
            if column not in sheet.columns or column in ("list_name", "name", "label"):
                raise survey.fail(n, "choice_filter", texts.XLSFORM_FILTER_COLUMN.format(column=column,
                                                                                          sheet=sheet.name))
        columns = tuple(c for c, _ in pairs)
        if self.filters.get(list_name, (columns, n))[0] != columns:
            raise survey.fail(n, "choice_filter", texts.XLSFORM_FILTER_TWO.format(
                list=list_name, column=", ".join(self.filters[list_name][0]), row=self.filters[list_name][1]))
        self.filters[list_name] = (columns, n)
        self.filter_fields[list_name] = tuple(f for _, f in pairs)
        question["filter_by"] = pairs[0][1] if len(pairs) == 1 else [f for _, f in pairs]
        return list_name

    def general_filter(self, n: int, value: str, list_name: str, question: dict) -> str:
        """Any other choice_filter (`selected(${fruits}, name)`, `${size} >= min_size`, `label::English != ''`): an
        expression of earlier answers of the section and the choice's columns (its bare names), checked for each
        choice when the question is asked (Question.options). The list's choices carry the columns it reads."""
        sheet = self.list_sheets.get(list_name, self.choices)
        try:
            read = column_names(parse_expression(value, columns=True))
        except XPathError:
            raise self.unsupported(self.survey, n, "choice_filter", texts.XLSFORM_FILTER.format(value=value)) from None
        for column in sorted(read - {"name", "label"}):
            if column not in sheet.columns:
                raise self.survey.fail(n, "choice_filter", texts.XLSFORM_FILTER_COLUMN.format(column=column,
                                                                                               sheet=sheet.name))
        question["choice_filter"] = value
        self.read_columns.setdefault(list_name, set()).update(read - {"name", "label"})
        return list_name

    def drop_what_names_the_skipped(self) -> None:
        """What an expression reads of a row that is not a question here. A note, a group's introduction or a
        group reads as empty (pyxform allows reading a note; ODK gives it no value). With skip_unsupported, a
        question left out is never answered, so it reads as empty too, except where that could ask wrongly:
        a question whose `relevant` names it is never asked, so left out too (its condition cannot be known; not
        asking only leaves an answer blank, where asking could ask wrongly) — and what names that one reads it as
        empty, as ODK reads a question that is not relevant; a `constraint` naming it is dropped (it could never
        hold, and would block the chat); a calculation reads it as empty; a repeat count naming it leaves the
        list open. A choice filter naming it leaves its question out too (its list cannot be filtered), as
        hcc::not_above/not_before drop their check. A list left with nothing to ask goes. Each is said in
        `skipped`."""
        questions = [q for s in self.sections for q in s["questions"]]
        kept = {q["key"] for q in questions if q["type"] != "note"}
        notes = {q["key"] for q in questions if q["type"] == "note"}
        kinds: dict[str, str] = {}
        for _, row in self.survey.rows:
            if row.get("name") and row["name"] in self.keys:
                kinds.setdefault(self.keys[row["name"]], row.get("type", "").strip().lower().split(" ")[0])
        absent = {k for k in self.keys.values() if k not in kept}
        empty = {k for k in absent if not self.skip or k in notes or kinds.get(k) in ("note", "") or
                 kinds.get(k, "").startswith(("begin", "end"))}
        gone = absent - empty
        said = "\n".join([*(q.get(c, "") for q in questions for c in _READING),
                           *(str(s.get(c, "")) for s in self.sections for c in ("title", "intro")),
                           *(s["repeat"].get("count", "") for s in self.sections if "repeat" in s)])
        named = {m.strip() for m in _REF.findall(said)} | {q["ask_if"]["key"] for q in questions if "ask_if" in q}
        named |= {q[c] for q in questions for c in ("not_above", "not_before") if c in q}
        named |= {k for q in questions if "filter_by" in q for k in _keys_of(q["filter_by"])}
        hollow = self.skip and any("repeat" in s and all(q["type"] in ("note", "calculate", "meta")
                                                         for q in s["questions"]) for s in self.sections)
        # With skip_unsupported, a name that is no row of the form at all (a fragment meant to be included in
        # another form, a row deleted): read as a question left out, said once where it is first named.
        strangers = sorted(named - set(self.keys.values())) if self.skip else []
        for name in strangers:
            first = next((q for q in questions if name in _names_in(q)), None)
            line = texts.XLSFORM_NAME_UNKNOWN.format(name=name)
            self.skipped.append(f"{self.survey.where(self.rows_of[id(first)][0], 'name')}: {line}" if first is not None
                                else f"{self.survey.where(None)}: {line}")
        absent |= set(strangers)
        gone |= set(strangers)
        if not named & absent and not hollow:
            return  # nothing reads a name that is no question here: the usual case, one scan
        removed: set[int] = set()
        filtered: dict[str, list[dict]] = {}
        for q in questions:
            for k in _keys_of(q.get("filter_by")):
                filtered.setdefault(k, []).append(q)
        queue = sorted(gone)
        while queue:  # a filter naming a question left out: that question goes too (and so on)
            name = queue.pop(0)
            for q in filtered.get(name, ()):
                if id(q) not in removed:
                    removed.add(id(q))
                    gone.add(q["key"])
                    queue.append(q["key"])
                    self.said(q, texts.XLSFORM_NAMES_SKIPPED.format(key=q["key"], other=name))
        never: set[str] = set()
        # a condition naming a question left out: never asked (in form order, so that an ask_if, which never holds
        # on a missing answer, follows a question never asked before it)
        for q in questions if gone else ():
            named = sorted({m.strip() for m in _REF.findall(q.get("relevant", ""))} & gone)
            if "ask_if" in q and q["ask_if"]["key"] in gone | never:
                named.insert(0, q["ask_if"]["key"])
            if named and id(q) not in removed:
                removed.add(id(q))
                never.add(q["key"])
                self.said(q, texts.XLSFORM_RELEVANT_SKIPPED.format(key=q["key"], other=named[0]))
        empty |= never
        for section in self.sections:
            section["questions"] = [q for q in section["questions"] if id(q) not in removed]
            if self.skip and "repeat" in section and \
                    all(q["type"] in ("note", "calculate", "meta") for q in section["questions"]):
                empty.update(q["key"] for q in section["questions"])  # a list with nothing to ask: no items
                section["questions"] = []
        unknown = empty | gone
        for section in self.sections:
            repeat = section.get("repeat") or {}
            if "count" in repeat:  # naming a question left out: the number cannot be known, the list is open
                named = sorted({m.strip() for m in _REF.findall(repeat["count"])} & gone)
                if named:
                    del repeat["count"]
                    self.said(section, texts.XLSFORM_COUNT_SKIPPED.format(key=section["key"], other=named[0]))
                else:
                    repeat["count"] = _as_empty(repeat["count"], empty)
            for q in section["questions"]:
                self.read_as_empty(q, empty, gone)
            for part in [section, *section["questions"]]:  # `${x}` said in a text: nothing, when x has no answer
                for column in ("title", "intro", "label", "prompt", "hint", "required_message", "constraint_message"):
                    if "${" in part.get(column, ""):
                        part[column] = _REF.sub(lambda m: "" if m[1].strip() in unknown else m[0], part[column])
        self.sections = [s for s in self.sections if s["questions"]]

    def read_as_empty(self, q: dict, empty: set[str], gone: set[str]) -> None:
        """One question's expressions with the names of `empty` read as '' and those of `gone` handled as
        drop_what_names_the_skipped says (its relevant names none of them)."""
        for column in ("not_above", "not_before"):
            if q.get(column) in gone | empty:
                del q[column]
        for column in ("relevant", "constraint", "calculation"):
            value = q.get(column)
            if not value:
                continue
            names = {m.strip() for m in _REF.findall(value)}
            named = sorted(names & gone)
            if named and column == "constraint":
                del q["constraint"]
                q.pop("constraint_message", None)
                self.said(q, texts.XLSFORM_CONSTRAINT_SKIPPED.format(key=q["key"], other=named[0]))
            elif names & (empty | gone):
                q[column] = _as_empty(value, empty | gone)
                try:
                    parse_expression(q[column])
                except XPathError:  # jr:choice-name() of a question not here: no label to give
                    if column == "constraint":
                        del q[column]
                    else:
                        q[column] = "''" if column == "calculation" else "false()"
                if named:
                    self.said(q, texts.XLSFORM_CALCULATION_SKIPPED.format(key=q["key"], other=named[0]))

    def said(self, q: dict, line: str) -> None:
        self.skipped.append(f"{self.survey.where(self.rows_of[id(q)][0], 'name')}: {line}")

    # --- parse_form's errors, said as the sheet's row and column ---

    _COLUMN_OF = {"ask_if": "relevant", "ask_if.key": "relevant", "filter_by": "choice_filter", "choices": "type",
                  "compact": "hcc::compact", "repeat": "repeat_count", "not_above": "hcc::not_above",
                  "not_before": "hcc::not_before", "deferrable": "hcc::deferrable", "badge": "hcc::badge",
                  "personal": "hcc::personal", "prompt": "hcc::prompt", "key": "name", "count": "repeat_count"}
    _WHERE = re.compile(r"^sections\[(\d+)\](?: \([^)]*\))?(?:\.questions(?:\[(\d+)\](?: \([^)]*\))?)?)?"
                        r"(?:\.([\w.]+))?(?:\[\d+\])?: (.*)$")

    def placed(self, exc: FormError) -> FormError:
        """A parse_form error on an imported workbook, said as its sheet, row and column."""
        message = str(exc).removeprefix(f"{self.path}: ")
        m = self._WHERE.match(message)
        if m is None:
            return exc
        section = self.sections[int(m[1])]
        target = section["questions"][int(m[2])] if m[2] is not None else section
        row = self.rows_of.get(id(target), (None,))[0]
        column = self._COLUMN_OF.get(m[3] or "", m[3]) or ("name" if target is not section else "type")
        if exc.problem == texts.FORM_ERR_DUPLICATE_KEY and target is section:  # the second one's row
            dupe = exc.values["key"]
            row = next((self.rows_of[id(q)][0] for q in reversed(section["questions"]) if q["key"] == dupe), row)
            column = "name"
        said = texts.XLSFORM_FORM_PROBLEMS.get(exc.problem) if exc.problem else None
        return self.survey.fail(row, column, said.format(**exc.values) if said else m[4])
