"""One field's check, for the chat and the web page alike: a raw value in, the typed value out, or the chat's
Vietnamese error (ParseError).

The chat's engine calls `read_text`, `read_pick` and `check_constraint` for the question it asked; the web page calls
`check_field` with a field path ("reporter.phone", "main_staff[2].phone", "main_staff[new].name"), which resolves
the question and its scope and then runs the same three. There is no other validator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from conversations import texts
from conversations.answers import format_value, is_relevant, item_numbers, key, offered_items, scope
from conversations.form import OTHER, Form, Question, Section
from conversations.parsers import (
    ParseError, clean_text, fold, format_date, parse_choice, parse_date, parse_datetime, parse_geopoint, parse_integer,
    parse_long_text, parse_name, parse_phone, parse_text, parse_time, parse_times, parse_yes_no,
)
from conversations.xpath import NO_LOOKUP, AnswersLookup

NEW_ITEM = "new"  # the item part of a field path of an item not created yet: "main_staff[new].name"
_PATH = re.compile(r"(?P<s>[A-Za-z_][A-Za-z0-9_]{0,80})(?:\[(?P<i>[0-9]{1,6}|new)\])?\.(?P<q>[A-Za-z_][A-Za-z0-9_]{0,80})")
_EXAMPLE_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")
_DECIMAL = re.compile(r"[0-9]{1,12}(?:[.,][0-9]{1,6})?")


# --- Parsers the engine and the page share --------------------------------------------------------------


def date_example(question: Question, values: Mapping[str, Any]) -> date | None:
    """A date this question would accept, for its prompt and errors: after the start for an end date."""
    if question.type != "date" or not question.not_before or not values.get(question.not_before):
        return None
    start = date.fromisoformat(values[question.not_before])
    month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return month_end if (month_end - start).days >= 7 else start + timedelta(days=14)


def parse_decimal(raw: str, *, maximum: float = 1_000_000_000) -> float:
    """A non-negative number with `,` or `.` as the decimal separator ("12,5", "12.5", "3"), as a float."""
    text = clean_text(raw, multiline=False).replace(" ", "")
    if not text:
        raise ParseError(texts.EMPTY_ANSWER)
    if re.fullmatch(r"[-−–].*", text):
        raise ParseError(texts.DECIMAL_NEGATIVE)
    if not _DECIMAL.fullmatch(text):
        raise ParseError(texts.DECIMAL_INVALID)
    value = float(text.replace(",", "."))
    if value > maximum:
        raise ParseError(texts.DECIMAL_INVALID)
    return value


def parse_multi_choice(raw: str, options: list[tuple[str, str]]) -> list[str]:
    """Several choices typed as numbers ("1, 3", "1 3") or labels ("Nam; Nữ"): their values, in list order."""
    text = clean_text(raw, multiline=True)
    if not text.strip():
        raise ParseError(texts.EMPTY_ANSWER)
    parts = [p.strip() for p in re.split(r"[,;\n]+|\s+và\s+", text) if p.strip()]
    if len(parts) == 1 and re.fullmatch(r"[0-9]+(?:\s+[0-9]+)+", parts[0]):
        parts = parts[0].split()
    chosen: set[str] = set()
    for part in parts:
        try:
            chosen.add(parse_choice(part, options))
        except ParseError:
            raise ParseError(texts.MULTI_CHOICE_INVALID.format(raw=part[:40], count=len(options))) from None
    return [value for value, _ in options if value in chosen]


def choices(question: Question, values: Mapping[str, Any], form: Form | None = None,
            answers: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(value, label) of the options offered, "Khác (ghi rõ)" last for an `or_other` question; for the first
    question of a list inside a list (`item_of`), the parent list's items, read off the report's `answers`."""
    if question.item_of is not None:
        if form is None or answers is None:
            return []
        return [(str(n), name) for n, name in offered_items(form, answers, question)]
    out = [(c.value, c.label) for c in question.options(values)]
    if question.or_other:
        out.append((OTHER, texts.OTHER_CHOICE))
    return out


def offered(question: Question, values: Mapping[str, Any], form: Form | None = None,
            answers: Mapping[str, Any] | None = None) -> list[str]:
    """The values a button (chat) or a radio/checkbox (page) may carry for this question."""
    if question.type in ("choice", "multi_choice"):
        return [v for v, _ in choices(question, values, form, answers)]
    if question.type == "yes_no":
        return ["yes", "no"]
    return []


def _linked(question: Question, value: str, form: Form | None, answers: Mapping[str, Any] | None) -> Any:
    """A chosen option as it is stored: for a list inside a list, the parent item and its name."""
    if question.item_of is None:
        return value
    return {"item": int(value), "name": dict(choices(question, {}, form, answers))[value]}


def read_text(question: Question, values: Mapping[str, Any], raw: str, today: date, form: Form | None = None,
              answers: Mapping[str, Any] | None = None) -> Any:
    """A typed answer to `question` read by its type's parser (photo questions take no text); `form` and
    `answers` give the options of a list inside a list."""
    kind = question.type
    simple = {"text": parse_text, "name": parse_name, "times": parse_times, "long_text": parse_long_text,
              "phone": parse_phone, "integer": parse_integer, "decimal": parse_decimal, "yes_no": parse_yes_no,
              "time": parse_time, "geopoint": parse_geopoint}
    if kind == "photo":
        raise ParseError(texts.PHOTO_EXPECTED)
    if kind in simple:
        return simple[kind](raw)
    if kind == "datetime":
        return parse_datetime(raw, today=today)
    if question.or_other and fold(raw).rstrip(" .") in {fold(w) for w in texts.OTHER_WORDS}:
        return OTHER if kind == "choice" else [OTHER]  # "khác": the text is asked next
    if kind == "multi_choice":
        return parse_multi_choice(raw, choices(question, values))
    if kind == "choice":
        try:
            return _linked(question, parse_choice(raw, choices(question, values, form, answers)), form, answers)
        except ParseError as exc:
            if exc.message == texts.EMPTY_ANSWER:
                raise
            # The question and its options come right after: no need to list them twice.
            raise ParseError(texts.CHOICE_NOT_IN_LIST.format(raw=clean_text(raw, multiline=False)[:40])) from None
    example = date_example(question, values)
    value = parse_date(raw, today=today, example=example)
    if question.not_before and values.get(question.not_before):
        start = date.fromisoformat(values[question.not_before])
        if value < start:
            raise ParseError(texts.DATE_BEFORE.format(start=format_date(start), example=format_date(example)))
    return value.isoformat()


def read_pick(question: Question, values: Mapping[str, Any], value: str, form: Form | None = None,
              answers: Mapping[str, Any] | None = None) -> Any:
    """A pressed button's value (or a radio button's): refused when this question does not offer it now."""
    if question.type == "multi_choice" or value not in offered(question, values, form, answers):  # no such button
        raise ParseError(texts.STALE_BUTTON)
    return _linked(question, value, form, answers) if question.type == "choice" else value == "yes"


def check_constraint(question: Question, values: Mapping[str, Any], value: Any,
                     answers: Mapping[str, Any] | None = None) -> Any:
    """The value, when the question's constraint holds for it; else the form's message (ParseError). `answers`:
    the report's, for a constraint that reads another section (or the parent item of a list inside a list)."""
    lookup = AnswersLookup(answers) if answers is not None else NO_LOOKUP
    if question.constraint is not None and value is not None and \
            not question.constraint.holds(values, value, lookup):
        raise ParseError(question.constraint_message or texts.CONSTRAINT_FAILED.format(
            value=format_value(question, value)[:60], label=question.label))
    return value


# --- A field of the page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """Where a page field's value goes: section, item (None outside a repeat; NEW_ITEM for one to create),
    the question, and whether it is the text of "Khác (ghi rõ)"."""

    section: Section
    item: int | str | None
    question: Question
    other: bool = False

    @property
    def path(self) -> str:
        return field_path(self.section.key, self.item, self.question.other_key if self.other else self.question.key)


def field_path(section: str, item: int | str | None, question: str) -> str:
    return f"{section}.{question}" if item is None else f"{section}[{item}].{question}"


def path_parts(path: str) -> tuple[str, str | None, str] | None:
    """(section, item as written or None, question) of a well-formed field path, else None."""
    m = _PATH.fullmatch(path or "")
    return None if m is None else (m["s"], m["i"], m["q"])


def resolve(form: Form, answers: Mapping[str, Any], path: str) -> Field:
    """The field a path names, or ParseError(WEB_NO_SUCH_FIELD) when this form has no such (asked) field."""
    m = _PATH.fullmatch(path or "")
    if m is None:
        raise ParseError(texts.WEB_NO_SUCH_FIELD)
    try:
        section = form.section(m["s"])
    except KeyError:
        raise ParseError(texts.WEB_NO_SUCH_FIELD) from None
    item: int | str | None = m["i"]
    if (item is None) != (section.repeat is None):
        raise ParseError(texts.WEB_NO_SUCH_FIELD)
    if item is not None and item != NEW_ITEM:
        item = int(item)
        if item not in item_numbers(answers, section.key):
            raise ParseError(texts.WEB_ITEM_GONE)
    name, other = m["q"], False
    question = next((q for q in section.questions if q.key == name), None)
    if question is None:
        question = next((q for q in section.questions if q.or_other and q.other_key == name), None)
        other = question is not None
    if question is None or not question.asked:
        raise ParseError(texts.WEB_NO_SUCH_FIELD)
    return Field(section, item, question, other)


def check_field(form: Form, answers: Mapping[str, Any], path: str, raw: str | list[str], today: date
                ) -> tuple[Field, Any]:
    """The page's field check: (the field, its typed value; None when emptied), or ParseError with the chat's
    message. A field that does not apply given the other answers is refused, as the chat never asks it."""
    field = resolve(form, answers, path)
    item = None if field.item == NEW_ITEM else field.item
    values = scope(answers, field.section.key, item) if field.item != NEW_ITEM else {}
    question = field.question
    if isinstance(raw, list) and question.type != "multi_choice":
        raw = raw[0] if raw else ""
    if not raw if isinstance(raw, list) else not raw.strip():
        return field, None  # emptied (a hidden field of a section's form is posted empty too)
    if not is_relevant(question, values, AnswersLookup(answers)):
        raise ParseError(texts.WEB_NOT_ASKED)
    if question.type == "photo":
        raise ParseError(texts.PHOTO_EXPECTED)
    if field.other:
        chosen = values.get(question.key)
        if not (chosen == OTHER or isinstance(chosen, list) and OTHER in chosen):
            raise ParseError(texts.WEB_NOT_ASKED)
        return field, parse_text(raw)
    if question.type == "multi_choice":
        picked = raw if isinstance(raw, list) else [raw]
        allowed = offered(question, values)
        if any(v not in allowed for v in picked):
            raise ParseError(texts.STALE_BUTTON)
        value: Any = [v for v in allowed if v in picked]
    elif question.type in ("choice", "yes_no"):
        value = read_pick(question, values, raw, form, answers)
    else:
        value = read_text(question, values, _from_widget(question, raw), today, form, answers)
    return field, check_constraint(question, values, value, answers)


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ISO_DATETIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}:[0-9]{2})(?::[0-9]{2})?")


def _from_widget(question: Question, raw: str) -> str:
    """A phone's date or time picker sends ISO ("2026-12-07", "2026-12-07T14:30"): written as a person types it,
    so the chat's parser reads it (a typed "07/12/2026" passes unchanged)."""
    text = raw.strip()
    if question.type == "date" and (m := _ISO_DATE.fullmatch(text)):
        return f"{m[3]}/{m[2]}/{m[1]}"
    if question.type == "datetime" and (m := _ISO_DATETIME.fullmatch(text)):
        return f"{m[3]}/{m[2]}/{m[1]} {m[4]}"
    return raw


def answer_key(field: Field, item: int | None) -> str:
    """The storage key of a resolved field once its item number is known."""
    return key(field.section.key, field.question.other_key if field.other else field.question.key, item)
