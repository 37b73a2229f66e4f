"""What the page shows, built from the form and the answers: sections, items, fields, notes, calculations, gaps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from conversations import fields, texts
from conversations.answers import (
    Missing, format_datetime, format_value, is_relevant, item_numbers, item_title, missing, scope,
)
from conversations.engine import ACCEPTED, RETURNED, SUBMITTED_LATE, ReportInfo, WebResult, is_locked, note_text
from conversations.form import Form, Question, Section
from conversations.xpath import AnswersLookup

CHOICE_KINDS = ("choice", "multi_choice", "yes_no")
TEXT_KINDS = {"text": "text", "name": "text", "times": "text", "geopoint": "text", "phone": "tel",
              "date": "date", "time": "time", "datetime": "datetime-local"}


def field_id(path: str) -> str:
    """The id of a field's input on the page ("leader[2].phone" -> "f-leader-2-phone")."""
    return "f-" + path.replace("[", "-").replace("]", "").replace(".", "-")


def gap_links(gaps: list[Missing]) -> list[dict]:
    """What is missing, one line each with the anchor of the field to fill (a list short of items: its section)."""
    out = []
    for gap in gaps:
        if gap.question is None:
            href = f"#s-{gap.section.key}"
        else:
            own = field_id(fields.field_path(gap.section.key, gap.item, gap.question.key))
            href = "#" + (own + "-other" if gap.other else own + "-0" if gap.question.type in CHOICE_KINDS else own)
        out.append({"text": gap.describe(), "href": href})
    return out


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _input_value(question: Question, value: Any) -> str:
    if value is None:
        return ""
    if question.type in ("date", "time", "datetime", "text", "name", "long_text", "times"):
        return str(value)
    return format_value(question, value)


def _field(form: Form, answers: Mapping[str, Any], section: Section, item: int | str | None, question: Question,
           values: Mapping[str, Any], lookup: AnswersLookup, typed: Mapping[str, Any],
           errors: Mapping[str, str], notes: Mapping[str, str], linked: dict[str, list]) -> dict | None:
    path = fields.field_path(section.key, item, question.key)
    shown = is_relevant(question, values, lookup)
    if question.type == "note":
        return {"kind": "note", "path": path, "text": note_text(form, answers, section, question, values),
                "hidden": not shown}
    if question.type == "calculate":
        value = values.get(question.key)
        return {"kind": "calc", "path": path, "label": question.label, "hidden": not shown,
                "text": "" if value is None else format_value(question, value)}
    if not question.asked:
        return None
    value = values.get(question.key)
    out = {"kind": question.type, "path": path, "id": field_id(path),
           "label": question.label, "hint": question.hint, "required": question.required, "hidden": not shown,
           "error": errors.get(path), "note": notes.get(path), "value": _input_value(question, value),
           "has_value": value is not None}
    if path in typed:  # a refused value is shown back as typed, with its error
        out["value"] = typed[path] if isinstance(typed[path], str) else ""
    if question.type in CHOICE_KINDS:
        chosen = value if isinstance(value, list) else [] if value is None else \
            [str(value.get("item")) if isinstance(value, dict) else  # a list inside a list: its parent item
             "yes" if value is True else "no" if value is False else value]
        if question.item_of:  # the parent's items: the same for every item of the list, read once a page
            if question.key not in linked:
                linked[question.key] = fields.choices(question, values, form, answers)
            options = linked[question.key]
        elif question.type != "yes_no":
            options = fields.choices(question, values, form, answers)
        else:
            options = [("yes", texts.YES), ("no", texts.NO)]
        out["options"] = [{"value": v, "label": label, "checked": v in chosen, "id": f"{out['id']}-{n}"}
                          for n, (v, label) in enumerate(options)]
        if question.or_other:
            other = fields.field_path(section.key, item, question.other_key)
            out["other"] = {"path": other, "id": out["id"] + "-other", "value": values.get(question.other_key) or "",
                            "error": errors.get(other)}
    elif question.type in ("integer", "decimal"):
        out["input"], out["inputmode"] = "text", "numeric" if question.type == "integer" else "decimal"
    elif question.type != "photo" and question.type != "long_text":
        out["input"] = TEXT_KINDS.get(question.type, "text")
    if question.type == "photo" and isinstance(value, int):
        out["photo_id"] = value
    return out


def _scope_fields(form, answers, section, item, values, lookup, typed, errors, notes, linked) -> list[dict]:
    built = (_field(form, answers, section, item, q, values, lookup, typed, errors, notes, linked)
             for q in section.questions)
    return [f for f in built if f is not None]


def build(form: Form, answers: Mapping[str, Any], report: ReportInfo, now: datetime, *, adding: str | None = None,
          typed: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None,
          notes: Mapping[str, str] | None = None) -> dict:
    """The template's context for the whole report."""
    typed, errors, notes = typed or {}, errors or {}, notes or {}
    lookup = AnswersLookup(answers)
    linked: dict[str, list] = {}  # the options of each list inside a list, read once
    sections = []
    for n, section in enumerate(form.sections, 1):
        entry: dict[str, Any] = {"key": section.key, "n": n, "title": section.title, "intro": section.intro,
                                 "repeat": section.repeat is not None, "items": []}
        if section.repeat is None:
            entry["fields"] = _scope_fields(form, answers, section, None, scope(answers, section.key), lookup,
                                            typed, errors, notes, linked)
        else:
            numbers = item_numbers(answers, section.key)
            for stt, item in enumerate(numbers, 1):
                values = scope(answers, section.key, item)
                entry["items"].append({"n": item, "title": _first_upper(item_title(section, values, stt)),
                                       "fields": _scope_fields(form, answers, section, item, values, lookup, typed,
                                                               errors, notes, linked)})
            fewest, most = section.repeat.bounds(lookup=lookup)
            link = section.questions[0]  # a list inside a list: items to add once its parent has one it offers
            can_add = (most is None or len(numbers) < most) and \
                (link.item_of is None or bool(fields.choices(link, {}, form, answers)))
            blank = can_add and (adding == section.key or len(numbers) < max(fewest, 1) and not numbers)
            typed_new = any(parts[0] == section.key and parts[1] == fields.NEW_ITEM
                            for parts in map(fields.path_parts, typed) if parts)
            if blank or can_add and typed_new:
                title = _first_upper(texts.ITEM_ORDINAL.format(item=section.repeat.item, n=len(numbers) + 1))
                entry["items"].append({"n": fields.NEW_ITEM, "title": title, "new": True,
                                       "fields": _scope_fields(form, answers, section, fields.NEW_ITEM, {}, lookup,
                                                               typed, errors, notes, linked)})
            # "Thêm" under a new item not saved yet: there once the script has saved that item (if another fits)
            entry["add_later"] = blank
            entry["can_add"] = can_add and (not blank or most is None or len(numbers) + 1 < most)
            entry["item_word"] = section.repeat.item
        sections.append(entry)
    return {"sections": sections, "missing": gap_links(missing(form, answers)),
            "summary": _error_summary(sections, errors), "unit": report.unit_name, "title": report.title or form.title,
            "deadline": format_datetime(report.deadline_at), "locked": is_locked(report, now),
            "submitted": report.is_submitted and not report.changed_since_submit,
            "submitted_at": format_datetime(report.submitted_at) if report.submitted_at else None,
            "returned": texts.WEB_RETURNED_NOTE.format(comment=report.review_comment)
            if report.review == RETURNED and report.review_comment else None}


def outcome(form: Form, answers: Mapping[str, Any], report: ReportInfo, result: WebResult, now: datetime, *,
            submit: bool = False) -> tuple[str, dict | None]:
    """The page's own words for the outcome of a request (the engine's are the chat's, with its commands and its
    next question): the message to show, and a summary with links when "Nộp báo cáo" was refused for gaps."""
    if result.submitted:
        text = texts.SUBMITTED_LATE if report.status == SUBMITTED_LATE else texts.WEB_SUBMITTED
        return text.format(at=format_datetime(report.submitted_at), deadline=format_datetime(report.deadline_at)), None
    if result.message and is_locked(report, now):
        if report.review == ACCEPTED:
            return texts.WEB_LOCKED_ACCEPTED, None
        return texts.WEB_LOCKED.format(deadline=format_datetime(report.deadline_at)), None
    if submit:
        gaps = missing(form, answers)
        if gaps:
            return "", {"title": texts.WEB_CANNOT_SUBMIT.format(count=len(gaps)), "items": gap_links(gaps)}
        if report.is_submitted and not report.changed_since_submit and report.submitted_at is not None:
            return texts.ALREADY_SUBMITTED.format(at=format_datetime(report.submitted_at)), None
    return result.message, None


def _error_summary(sections: list[dict], errors: Mapping[str, str]) -> dict | None:
    """The refused values of a request, in page order, each linked to its field (shown at the top of the page
    after a save without the script)."""
    if not errors:
        return None
    places: dict[str, tuple[str, str]] = {}  # path -> (label, anchor) of every input on the page
    for section in sections:
        for scope_fields in [section.get("fields", [])] + [item["fields"] for item in section["items"]]:
            for f in scope_fields:
                if f["kind"] in ("note", "calc"):
                    continue
                places[f["path"]] = (f["label"], "#" + f["id"] + ("-0" if "options" in f else ""))
                if "other" in f:
                    places[f["other"]["path"]] = (f"{f['label']} – {texts.OTHER_CHOICE}", "#" + f["other"]["id"])
    items = [{"text": f"{label}: {errors[path]}", "href": href} for path, (label, href) in places.items()
             if path in errors]
    items += [{"text": error, "href": None} for path, error in errors.items() if path not in places]
    return {"title": texts.WEB_ERROR_SUMMARY.format(count=len(errors)), "items": items}


def live(form: Form, answers: Mapping[str, Any], saved: Mapping[str, str] = {}) -> dict:
    """After a save, what the script updates without a reload: hidden fields, calculations, what is missing; and
    whether the page must be reloaded (a choice whose answer filters another question's options was saved)."""
    lookup = AnswersLookup(answers)
    reload = False
    for path in saved.values():
        parts = fields.path_parts(path)
        if parts:
            section = next((s for s in form.sections if s.key == parts[0]), None)
            reload = reload or section is not None and any(parts[2] in q.option_keys for q in section.questions)
            # a parent list's item named or added: the choices of the list inside it change; an item of the list
            # inside it given its parent item: its notes read that item's answers
            reload = reload or any(parent.key == parts[0] or child.key == parts[0] and
                                   parts[2] == child.questions[0].key for child, parent in form.links)
    hidden, calc = [], {}
    for section in form.sections:
        items = [None] if section.repeat is None else item_numbers(answers, section.key)
        for item in items:
            values = scope(answers, section.key, item)
            for q in section.questions:
                path = fields.field_path(section.key, item, q.key)
                if not is_relevant(q, values, lookup):
                    hidden.append(path)
                if q.type == "calculate":
                    value = values.get(q.key)
                    calc[path] = "" if value is None else format_value(q, value)
    return {"hidden": hidden, "calc": calc, "missing": gap_links(missing(form, answers)),
            "reload": reload}
