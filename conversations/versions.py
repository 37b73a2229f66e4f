"""What changed between two versions of a unit's report, field by field, for a page showing added/removed/changed.

Both versions are flat answer mappings (see `answers`). Only what a person sees counts: a key whose section or
question is not in the form (an old question, a typo) and the internal markers (`section.__done__`,
`section.__last__`) are ignored, and so is an answer whose question is not asked (its `ask_if` does not hold in
that version). Values are compared as stored JSON, so 1, 1.0 and true differ. Repeat items are matched by their
number in the key: `main_staff[3]` in both versions is the same person, whatever the other items did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from conversations.answers import format_value, is_relevant, item_numbers, item_title, key, split_key
from conversations.form import Form, Question, Section
from conversations.xpath import AnswersLookup

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


def _is_photo(question: Question, values: Mapping[str, Any]) -> bool:
    return question.type == "photo" and isinstance(values.get(question.key), int)


@dataclass(frozen=True)
class FieldChange:
    """One answer added, removed or changed.

    `old` and `new` are the answer as a person reads it (`format_value`), None on the side where it is absent.
    For a photo question they are the photo id as text instead (e.g. "42"), so the page can show thumbnails; a
    photo answered as skipped (null) reads as `format_value` gives it.
    """

    kind: str  # ADDED | REMOVED | CHANGED
    label: str  # the question's label
    old: str | None
    new: str | None
    photo: bool = False  # old/new are photo ids
    key: str = field(default="", compare=False)  # the storage key (`section[3].question`): who changed it, when


@dataclass(frozen=True)
class ItemChange:
    """One item of a repeat section (a person, a plan item) added, removed or changed.

    `title` is `item_title` of the newer values (the older ones for a removed item). `fields`: for an added or
    removed item, every answered field of it; for a changed one, only the fields that changed.
    """

    kind: str  # ADDED | REMOVED | CHANGED
    title: str
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class SectionChanges:
    """The changes of one section: `fields` for a plain section, `items` for a repeat section."""

    section: Section
    fields: tuple[FieldChange, ...] = ()
    items: tuple[ItemChange, ...] = ()


def _visible(form: Form, answers: Mapping[str, Any]) -> dict[tuple[str, int | None], dict[str, Any]]:
    """The answers a person sees, by scope: {(section, item or None): {question key: value}}."""
    sections = {s.key: s for s in form.sections}
    found: dict[tuple[str, int | None], dict[str, Any]] = {}
    for k, v in answers.items():
        try:
            skey, item, qkey = split_key(k)
        except ValueError:
            continue
        section = sections.get(skey)
        if section is None or (item is None) != (section.repeat is None):
            continue
        if qkey not in {q.key for q in section.questions}:  # markers (__done__, __last__) and unknown questions
            continue
        found.setdefault((skey, item), {})[qkey] = v
    lookup = AnswersLookup(answers)  # a condition may read another section, or the item a list's item belongs to
    for (skey, _), values in found.items():
        section = sections[skey]
        for q in section.questions:
            if q.key in values and not is_relevant(q, values, lookup):
                del values[q.key]
    return {scope_key: values for scope_key, values in found.items() if values}


def _shown(question: Question, value: Any) -> str:
    """An answer as the page shows it: the photo id for a photo, else as a person reads it."""
    if question.type == "photo" and value is not None:
        return str(value)
    return format_value(question, value)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _field_changes(section: Section, old: Mapping[str, Any], new: Mapping[str, Any],
                   item: int | None = None) -> tuple[FieldChange, ...]:
    """The changed answers of one scope (`item` of a repeat section), in question order."""
    out = []
    for q in section.questions:
        if q.key not in old and q.key not in new:
            continue
        k = key(section.key, q.key, item)
        if q.key not in old:
            out.append(FieldChange(ADDED, q.label, None, _shown(q, new[q.key]), _is_photo(q, new), k))
        elif q.key not in new:
            out.append(FieldChange(REMOVED, q.label, _shown(q, old[q.key]), None, _is_photo(q, old), k))
        elif not _same(old[q.key], new[q.key]):
            out.append(FieldChange(CHANGED, q.label, _shown(q, old[q.key]), _shown(q, new[q.key]), _is_photo(q, new),
                                   k))
    return tuple(out)


def _item_changes(section: Section, old_answers: Mapping[str, Any], new_answers: Mapping[str, Any],
                  old: Mapping[tuple[str, int | None], dict[str, Any]],
                  new: Mapping[tuple[str, int | None], dict[str, Any]]) -> tuple[ItemChange, ...]:
    """The added, removed and changed items of a repeat section, in item number order."""
    # The ordinal of an untitled item ("nhân sự chính thứ 2") is its place in that version, as the review shows it.
    old_stt = {n: stt for stt, n in enumerate(item_numbers(old_answers, section.key), 1)}
    new_stt = {n: stt for stt, n in enumerate(item_numbers(new_answers, section.key), 1)}
    numbers = sorted({n for (s, n) in old if s == section.key} | {n for (s, n) in new if s == section.key})
    out = []
    for n in numbers:
        before, after = old.get((section.key, n)), new.get((section.key, n))
        if before is None:
            out.append(ItemChange(ADDED, item_title(section, after, new_stt[n]), _field_changes(section, {}, after, n)))
        elif after is None:
            out.append(ItemChange(REMOVED, item_title(section, before, old_stt[n]),
                                  _field_changes(section, before, {}, n)))
        elif fields := _field_changes(section, before, after, n):
            out.append(ItemChange(CHANGED, item_title(section, after, new_stt[n]), fields))
    return tuple(out)


def diff_versions(form: Form, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[SectionChanges]:
    """Only sections with at least one change, in form order; fields in question order; items in order."""
    old_scopes, new_scopes = _visible(form, old), _visible(form, new)
    out = []
    for section in form.sections:
        if section.repeat is None:
            fields = _field_changes(section, old_scopes.get((section.key, None), {}),
                                    new_scopes.get((section.key, None), {}))
            if fields:
                out.append(SectionChanges(section, fields=fields))
        elif items := _item_changes(section, old, new, old_scopes, new_scopes):
            out.append(SectionChanges(section, items=items))
    return out


def changed_count(changes: list[SectionChanges]) -> int:
    """How many changes in all: each field change, plus one per item added or removed (its fields not counted)."""
    total = 0
    for section in changes:
        total += len(section.fields)
        for item in section.items:
            total += len(item.fields) if item.kind == CHANGED else 1
    return total
