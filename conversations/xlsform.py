"""Forms authored as XLSForm spreadsheets (.xlsx), read into our own form vocabulary.

`xlsform_to_raw(sheets, path)` maps a workbook's cell text to a dict in the vocabulary of forms/report.yaml
(see its header). Reading the file is I/O and stays out of this pure core: bot/form_files.py reads the .xlsx
with openpyxl (the library the exports already use) and calls this; its `load_form_file(path)` takes a
.yaml/.yml or an .xlsx file and returns `(Form, raw dict)`, the raw dict plain JSON (stored as the campaign's
snapshot) from which `parse_form(raw, path)` builds the same Form again.

Why not pyxform: it converts XLSForm to XForm XML for ODK, which has no place for our extensions (compact
entry, deferrable photos, personal data, badge photos, soft count checks); reading the sheets' cells with
openpyxl and mapping them here is simpler and keeps every extension.

Sheets
  survey    one row per question; `begin_group`/`end_group` rows make a section, `begin_repeat`/`end_repeat`
            a repeat section (groups and repeats do not nest). Questions outside any group: each run of them
            becomes a section titled with settings form_title, keyed `form` (then `form_2`, `form_3`, …).
  choices   list_name, name, label; any further column may be named by a choice_filter (see below)
  settings  form_title (our title), form_id (our id), version (kept as the form's version); default_language
            and style are accepted and mean nothing here

Survey columns
  type      text (appearance multiline: long_text; appearance numbers: a phone number), integer, decimal,
            date, image (a photo), select_one LIST (choice), select_multiple LIST (multi_choice), note (only
            as the first row of a group: the section's intro). hcc extensions of the type column: name (a
            person's full name), phone, times (times of day), yes_no. `text` + appearance `numbers` reads as
            phone because XLSForm has no phone type and that is how authors ask for a phone keypad.
  name      the question's key (lowercase letters, digits, _; at most 40)
  label / label::Vietnamese (vi)   the export header; the Vietnamese column wins when both exist
  hint / hint::Vietnamese (vi)     said after the prompt
  required  yes, true, TRUE(), 1 (or no, false, FALSE(), 0, empty: XLSForm's default is not required)
  required_message, constraint, constraint_message, relevant   (also in ::Vietnamese (vi) variants for text)
            expressions in the subset of conversations/xpath.py; a `relevant` of the simple shapes
            `${k} = 'v'`, `${k} > N` (k an integer question), `${k} != '' and ${k} != 'v'` becomes our ask_if
            (the same meaning, and exports read ask_if)
  choice_filter   `COLUMN = ${field}`: the choices offered are those whose COLUMN (a column of the choices
            sheet) equals the answer to `field` (our choice `when` + question `filter_by`)
  appearance      multiline and numbers on text; field-list on a group (no meaning in a chat)
  repeat_count    on begin_repeat: a fixed whole number of items (min = max)
  hcc::prompt     what the bot asks (default: the label)
  hcc::personal, hcc::deferrable, hcc::badge   yes/no flags of a question
  hcc::not_above, hcc::not_before              keys of earlier questions
  hcc::compact    on begin_group/begin_repeat: the keys a person may send in one message, separated by , or spaces
  hcc::min, hcc::max, hcc::item   on begin_repeat: the number of items (instead of repeat_count) and the word
            for one item (default: the repeat's label, lowercased)

Anything that cannot be honoured (another type, calculate, a nested group or repeat, an unknown column with
a value, a missing end_group, a function outside the subset) stops the import with one line:
`<file>: sheet survey, row 7: type 'geopoint' is not supported`. Labels in other languages are not read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from conversations.form import KEY_PATTERN, Form, FormError, parse_form
from conversations.xpath import XPathError, parse_expression

VI = "vietnamese (vi)"
TEXT_COLUMNS = ("label", "hint", "required_message", "constraint_message")
SURVEY_COLUMNS = ("type", "name", "required", "constraint", "relevant", "choice_filter", "appearance",
                  "repeat_count", *TEXT_COLUMNS)
HCC_QUESTION = ("hcc::prompt", "hcc::personal", "hcc::deferrable", "hcc::badge", "hcc::not_above", "hcc::not_before")
HCC_GROUP = ("hcc::compact", "hcc::min", "hcc::max", "hcc::item")
SETTINGS_COLUMNS = ("form_title", "form_id", "version", "default_language", "style")
SIMPLE_TYPES = {"integer": "integer", "decimal": "decimal", "date": "date", "image": "photo", "name": "name",
                "phone": "phone", "times": "times", "yes_no": "yes_no"}
TRUE_WORDS = {"yes", "true", "true()", "1"}
FALSE_WORDS = {"no", "false", "false()", "0", ""}


# --- XLSForm to our vocabulary ----------------------------------------------------------------------------


class _Sheet:
    """One sheet as rows of {column: text}, with the column names lowercased."""

    def __init__(self, path: Path, name: str, rows: list[tuple[int, list[str]]]):
        self.path, self.name = path, name
        if not rows:
            self.header_row, self.columns, self.rows = 0, [], []
            return
        self.header_row, header = rows[0]
        self.columns = [h.strip().lower() for h in header]
        self.rows = [(n, {c: (cells[i] if i < len(cells) else "") for i, c in enumerate(self.columns) if c})
                     for n, cells in rows[1:]]

    def fail(self, row: int | None, problem: str) -> FormError:
        where = f"sheet {self.name}, row {row}" if row else f"sheet {self.name}"
        return FormError(f"{self.path}: {where}: {problem}")


def _text_column(row: Mapping[str, str], name: str) -> str:
    """A text column, its Vietnamese translation first."""
    for column, value in row.items():
        if column.startswith(name + "::") and column.endswith("(vi)") and value:
            return value
    return row.get(name, "")


def _known_column(column: str) -> bool:
    if column in SURVEY_COLUMNS or column in HCC_QUESTION or column in HCC_GROUP:
        return True
    return any(column.startswith(name + "::") and not column.startswith("hcc::") for name in TEXT_COLUMNS)


def _flag(sheet: _Sheet, n: int, row: Mapping[str, str], column: str) -> bool:
    word = row.get(column, "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise sheet.fail(n, f"{column} {row[column]!r} is not yes or no")


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


def xlsform_to_raw(sheets: Mapping[str, list[tuple[int, list[str]]]], path: Path | str) -> dict:
    """An XLSForm workbook's sheets ({name: [(row number, [cell text, …]), …]}, as bot/form_files.py reads them)
    as a dict in our form vocabulary (plain JSON); FormError says what is wrong in one line, naming `path`, the
    sheet and the row."""
    return xlsform_to_form(sheets, path)[1]


def xlsform_to_form(sheets: Mapping[str, list[tuple[int, list[str]]]], path: Path | str) -> tuple[Form, dict]:
    """The Form and its raw dict (see xlsform_to_raw), the Form built once from the dict."""
    path = Path(path)
    found = {name.strip().lower(): rows for name, rows in sheets.items()}
    if "survey" not in found:
        raise FormError(f"{path}: sheet survey is missing")
    survey = _Sheet(path, "survey", found["survey"])
    choices_sheet = _Sheet(path, "choices", found.get("choices", []))
    settings = _Sheet(path, "settings", found.get("settings", []))

    # settings
    if not settings.rows:
        raise settings.fail(None, "missing (it needs form_title and form_id)")
    setting_row, values = settings.rows[0]
    for column, value in values.items():
        if value and column not in SETTINGS_COLUMNS:
            raise settings.fail(setting_row, f"column {column!r} is not supported")
    title, form_id = _text_column(values, "form_title"), values.get("form_id", "")
    if not title:
        raise settings.fail(setting_row, "form_title is missing")
    if not form_id:
        raise settings.fail(setting_row, "form_id is missing")

    # choices
    for column in ("list_name", "name", "label"):
        if choices_sheet.rows and column not in choices_sheet.columns and not (
                column == "label" and any(c.startswith("label::") for c in choices_sheet.columns)):
            raise choices_sheet.fail(choices_sheet.header_row, f"column {column!r} is missing")
    lists: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for n, row in choices_sheet.rows:
        if not row.get("list_name") or not row.get("name"):
            raise choices_sheet.fail(n, "a choice needs list_name and name")
        if not _text_column(row, "label"):
            raise choices_sheet.fail(n, f"choice {row['name']!r} has no label")
        lists.setdefault(row["list_name"], []).append((n, row))

    # survey
    if "type" not in survey.columns or "name" not in survey.columns:
        raise survey.fail(survey.header_row, "columns type and name are needed")
    for column in survey.columns:
        if column and not _known_column(column):
            used = next((n for n, row in survey.rows if row.get(column)), None)
            if used is not None:
                raise survey.fail(used, f"column {column!r} is not supported")
    sections: list[dict] = []
    filters: dict[str, tuple[str, int]] = {}  # list name: (choices column naming the parent value, row)
    used_lists: list[str] = []
    group: dict | None = None  # the open group or repeat: its section dict, and where it began
    loose: dict | None = None  # the section of a run of questions outside any group
    loose_count = 0
    earlier: dict[str, str] = {}  # the current section's question keys and types
    rows_of: dict[int, int] = {}  # id() of a section or question dict: its row, to place parse_form's errors

    def close_loose() -> None:
        nonlocal loose
        if loose is not None:
            sections.append(loose)
            loose = None

    def group_extras(n: int, row: Mapping[str, str], section: dict, repeat: bool) -> None:
        if row.get("relevant"):
            raise survey.fail(n, "relevant on a group is not supported (put it on its questions)")
        if row.get("appearance") and row["appearance"] != "field-list":
            raise survey.fail(n, f"appearance {row['appearance']!r} is not supported on a group")
        for column in ("required", "constraint", "choice_filter", "hint", *HCC_QUESTION):
            if row.get(column):
                raise survey.fail(n, f"column {column!r} is not supported on a group")
        if row.get("hcc::compact"):
            section["compact"] = [k for k in re.split(r"[,\s]+", row["hcc::compact"]) if k]
        if not repeat:
            for column in ("repeat_count", "hcc::min", "hcc::max", "hcc::item"):
                if row.get(column):
                    raise survey.fail(n, f"column {column!r} belongs on begin_repeat")
            return
        count, lo, hi = row.get("repeat_count", ""), row.get("hcc::min", ""), row.get("hcc::max", "")
        for column, value in (("repeat_count", count), ("hcc::min", lo), ("hcc::max", hi)):
            if value and not value.isdigit():
                raise survey.fail(n, f"{column} {value!r} must be a whole number (an expression is not supported)")
        if count and (lo or hi):
            raise survey.fail(n, "give repeat_count or hcc::min/hcc::max, not both")
        if not count and not hi:
            raise survey.fail(n, "a repeat needs repeat_count or hcc::max")
        item = row.get("hcc::item") or section["title"][:1].lower() + section["title"][1:]
        section["repeat"] = ({"min": int(count), "max": int(count), "item": item} if count else
                             {"min": int(lo or 0), "max": int(hi), "item": item})

    for n, row in survey.rows:
        raw_type = re.sub(r"\s+", " ", row.get("type", "").strip())
        kind = raw_type.lower()
        name = row.get("name", "")
        if not kind:
            if any(v for c, v in row.items()):
                raise survey.fail(n, "the row has no type")
            continue
        if kind in ("begin group", "begin_group", "begin repeat", "begin_repeat"):
            repeat = "repeat" in kind
            if group is not None:
                raise survey.fail(n, f"a nested {'repeat' if repeat else 'group'} is not supported "
                                     f"(groups and repeats do not nest)")
            close_loose()
            if not KEY_PATTERN.match(name):
                raise survey.fail(n, f"name {name!r} is not a valid key (lowercase letters, digits, _; at most 40)")
            label = _text_column(row, "label")
            if not label:
                raise survey.fail(n, f"group {name!r} has no label (the section's title)")
            section = {"key": name, "title": label, "questions": []}
            group_extras(n, row, section, repeat)
            group = {"section": section, "row": n, "repeat": repeat}
            rows_of[id(section)] = n
            earlier = {}
            continue
        if kind in ("end group", "end_group", "end repeat", "end_repeat"):
            repeat = "repeat" in kind
            if group is None:
                raise survey.fail(n, f"{raw_type} without a begin_{'repeat' if repeat else 'group'}")
            if group["repeat"] != repeat:
                raise survey.fail(n, f"{raw_type} closes the begin_{'repeat' if group['repeat'] else 'group'} "
                                     f"of row {group['row']}")
            if not group["section"]["questions"]:
                raise survey.fail(group["row"], f"group {group['section']['key']!r} has no questions")
            sections.append(group["section"])
            group, earlier = None, {}
            continue
        if kind == "note":
            target = group["section"] if group is not None else None
            if target is None or target["questions"] or "intro" in target:
                raise survey.fail(n, "notes are only supported at the start of a group (its introduction)")
            label = _text_column(row, "label")
            if not label:
                raise survey.fail(n, "the note has no label")
            target["intro"] = label
            continue
        # a question
        appearance = row.get("appearance", "").strip().lower()
        parts = raw_type.split(" ")
        base = parts[0].lower()
        list_name = parts[1] if len(parts) == 2 else None
        if base in ("select_one", "select_multiple"):
            if list_name is None:
                raise survey.fail(n, f"type {raw_type!r} needs a choice list name")
            qtype = "choice" if base == "select_one" else "multi_choice"
        elif len(parts) == 1 and base == "text":
            qtype = {"": "text", "multiline": "long_text", "numbers": "phone"}.get(appearance)
            if qtype is None:
                raise survey.fail(n, f"appearance {row['appearance']!r} is not supported on text "
                                     f"(supported: multiline, numbers)")
            appearance = ""
        elif len(parts) == 1 and base in SIMPLE_TYPES:
            qtype = SIMPLE_TYPES[base]
        else:
            raise survey.fail(n, f"type {raw_type!r} is not supported")
        if appearance:
            raise survey.fail(n, f"appearance {row['appearance']!r} is not supported on {base}")
        if not KEY_PATTERN.match(name):
            raise survey.fail(n, f"name {name!r} is not a valid key (lowercase letters, digits, _; at most 40)")
        label = _text_column(row, "label")
        if not label:
            raise survey.fail(n, f"question {name!r} has no label")
        for column in ("repeat_count", *HCC_GROUP):
            if row.get(column):
                raise survey.fail(n, f"column {column!r} belongs on begin_group or begin_repeat")
        question: dict[str, Any] = {"key": name, "label": label, "prompt": row.get("hcc::prompt") or label,
                                    "type": qtype, "required": _flag(survey, n, row, "required")}
        for column in ("hint", "required_message", "constraint_message"):
            if value := _text_column(row, column):
                question[column] = value
        for column in ("constraint", "relevant"):
            if value := row.get(column):
                try:
                    parse_expression(value)
                except XPathError as exc:
                    raise survey.fail(n, f"{column}: {exc}") from None
                question[column] = value
        if "relevant" in question:
            ask_if = _as_ask_if(question["relevant"], earlier)
            if ask_if is not None:
                question["ask_if"] = ask_if
                del question["relevant"]
        for column in ("personal", "deferrable", "badge"):
            if _flag(survey, n, row, f"hcc::{column}"):
                question[column] = True
        for column in ("not_above", "not_before"):
            if value := row.get(f"hcc::{column}"):
                question[column] = value
        if list_name is not None:
            if list_name not in lists:
                raise survey.fail(n, f"choice list {list_name!r} is not in sheet choices")
            question["choices"] = list_name
            used_lists.append(list_name)
        if value := row.get("choice_filter"):
            m = re.fullmatch(r"\s*([A-Za-z_][\w\-]*)\s*=\s*\$\{([a-z][a-z0-9_]*)\}\s*", value)
            if list_name is None:
                raise survey.fail(n, "choice_filter is only for select_one and select_multiple")
            if m is None:
                raise survey.fail(n, f"choice_filter {value!r} is not supported (supported: column=${{field}})")
            column = m[1].lower()
            if column not in choices_sheet.columns or column in ("list_name", "name", "label"):
                raise survey.fail(n, f"choice_filter names {m[1]!r}, not a filter column of sheet choices")
            if filters.get(list_name, (column, n))[0] != column:
                raise survey.fail(n, f"choice list {list_name!r} is filtered by two columns "
                                     f"({filters[list_name][0]!r} in row {filters[list_name][1]})")
            filters[list_name] = (column, n)
            question["filter_by"] = m[2]
        if group is not None:
            group["section"]["questions"].append(question)
            rows_of[id(question)] = n
        else:
            if loose is None:
                loose_count += 1
                loose = {"key": "form" if loose_count == 1 else f"form_{loose_count}", "title": title,
                         "questions": []}
                earlier = {}
            loose["questions"].append(question)
            rows_of.setdefault(id(loose), n)
            rows_of[id(question)] = n
        earlier[name] = qtype
    if group is not None:
        word = "repeat" if group["repeat"] else "group"
        raise survey.fail(group["row"], f"begin_{word} {group['section']['key']!r} has no end_{word}")
    close_loose()
    if not sections:
        raise survey.fail(None, "no questions")

    choice_lists: dict[str, list[dict]] = {}
    for list_name in dict.fromkeys(used_lists):
        column = filters.get(list_name, (None, 0))[0]
        entries = []
        for n, row in lists[list_name]:
            entry = {"value": row["name"], "label": _text_column(row, "label")}
            if column is not None:
                if not row.get(column):
                    raise choices_sheet.fail(n, f"choice {row['name']!r} of list {list_name!r} has no {column}")
                entry["when"] = row[column]
            entries.append(entry)
        choice_lists[list_name] = entries
    raw: dict[str, Any] = {"id": form_id, "title": title}
    if values.get("version"):
        raw["version"] = values["version"]
    if choice_lists:
        raw["choice_lists"] = choice_lists
    raw["sections"] = sections
    try:
        form = parse_form(raw, path)
    except FormError as exc:
        raise _placed(exc, path, survey, sections, rows_of) from None
    return form, raw


# Our field names as the survey sheet's columns, for errors found by parse_form.
_COLUMN_OF = {"ask_if": "relevant", "ask_if.key": "relevant", "filter_by": "choice_filter", "choices": "type",
              "compact": "hcc::compact", "repeat": "hcc::min/hcc::max", "not_above": "hcc::not_above",
              "not_before": "hcc::not_before", "deferrable": "hcc::deferrable", "badge": "hcc::badge",
              "personal": "hcc::personal", "prompt": "hcc::prompt", "key": "name"}
_WHERE = re.compile(r"^sections\[(\d+)\](?: \([^)]*\))?(?:\.questions(?:\[(\d+)\](?: \([^)]*\))?)?)?"
                    r"(?:\.([\w.]+))?(?:\[\d+\])?: (.*)$")


def _placed(exc: FormError, path: Path, survey: _Sheet, sections: list[dict], rows_of: dict[int, int]) -> FormError:
    """A parse_form error on an imported workbook, said as its sheet row and column."""
    message = str(exc).removeprefix(f"{path}: ")
    m = _WHERE.match(message)
    if m is None:
        return exc
    section = sections[int(m[1])]
    target = section["questions"][int(m[2])] if m[2] is not None else section
    row = rows_of.get(id(target))
    if (dupe := re.match(r"duplicate key '([^']*)'", m[4])) and target is section:  # the second one's row
        row = next((rows_of.get(id(q)) for q in reversed(section["questions"]) if q["key"] == dupe[1]), row)
    column = _COLUMN_OF.get(m[3] or "", m[3])
    return survey.fail(row, f"{column}: {m[4]}" if column else m[4])
