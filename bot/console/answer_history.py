"""A unit's answers as they came, for the unit page: every change of an answer (from the audit log), newest first,
with the field as the review names it, the old and new value as a person reads them, who changed it and through
which channel (Zalo, Telegram: the contact's chat; the web page: `via="web"`).

The audit log holds one row per changed key (`set`, `delete`) and one per submission (`submit`). The rows are
replayed oldest first over an empty report, so each row knows whether the key was answered before (a first answer
shows no "old") and how the item it belongs to was named then ("Lê Thị Mai", or "nhân sự chính thứ 2"), even for an
item deleted since. Values are shown to signed-in officers only and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

import sqlalchemy as sa

from conversations import texts
from conversations.answers import LOCAL_TZ, format_value, item_title, scope, split_key
from conversations.form import OTHER_SUFFIX, Form, Question, Section
from conversations.xpath import item_numbers
from storage.models import AuditLog, Contact

ANSWER_ACTIONS = ("set", "delete")
PAGE = 50  # changes shown at first; "xem thêm" shows this many more


@dataclass(frozen=True)
class Value:
    text: str
    photo: int | None = None  # a photo id: the text ("ảnh") links to it


@dataclass(frozen=True)
class Entry:
    """One line of the history: an answer set, changed or removed, or a submission (`version` set)."""

    at: datetime
    who: str
    channel: str  # as words: "Zalo", "Telegram", "trang web"; "" when unknown (a submission, a CLI change)
    web: bool
    field: str = ""  # "section › item › question"
    old: Value | None = None  # None: not answered before
    new: Value | None = None  # None: removed (with `removed`)
    removed: bool = False
    version: int | None = None  # a submission: the version it made


@dataclass(frozen=True)
class Row:
    """An audit row as read for the history."""

    id: int
    at: datetime
    action: str
    key: str | None
    old: Any
    new: Any
    via: str | None
    name: str | None
    channel: str | None  # the contact's channel
    contact_id: int | None


async def load_rows(s, report_id: int) -> list[Row]:
    """The report's answer changes and submissions, oldest first, with the contact's name and channel."""
    query = (sa.select(AuditLog.id, AuditLog.at, AuditLog.action, AuditLog.key, AuditLog.old, AuditLog.new,
                       AuditLog.via, Contact.display_name, Contact.channel, AuditLog.contact_id)
             .outerjoin(Contact, Contact.id == AuditLog.contact_id)
             .where(AuditLog.report_id == report_id, AuditLog.action.in_((*ANSWER_ACTIONS, "submit")))
             .order_by(AuditLog.id))
    return [Row(*r) for r in await s.execute(query)]


def channel_words(via: str | None, channel: str | None) -> str:
    """The channel an answer came through, as words."""
    if via == "web":
        return texts.WEB_HISTORY_VIA_PAGE
    if channel is None:
        return ""
    return texts.CHANNEL_LABELS.get(channel, channel)


def format_time(at: datetime) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    return at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


class _Fields:
    """The form's questions by storage key, and how a field is named and a value shown."""

    def __init__(self, form: Form):
        self.sections = {s.key: s for s in form.sections}
        self.place = {s.key: n for n, s in enumerate(form.sections)}

    def order(self, found: tuple[Section, int | None, Question, bool]) -> tuple:
        """Where a field comes in the form (to list the fields of one save in the form's order)."""
        section, item, question, other = found
        return self.place[section.key], item or 0, section.questions.index(question), other

    def question(self, k: str) -> tuple[Section, int | None, Question, bool] | None:
        """(section, item, question, is the "Khác (ghi rõ)" text) of a key; None for a marker or an unknown key."""
        try:
            skey, item, qkey = split_key(k)
        except ValueError:
            return None
        section = self.sections.get(skey)
        if section is None or (item is None) != (section.repeat is None):
            return None
        by_key = {q.key: q for q in section.questions}
        if qkey in by_key and by_key[qkey].type != "note":
            return section, item, by_key[qkey], False
        base = by_key.get(qkey.removesuffix(OTHER_SUFFIX)) if qkey.endswith(OTHER_SUFFIX) else None
        if base is not None and base.or_other:
            return section, item, base, True
        return None

    @staticmethod
    def value(question: Question, other: bool, value: Any) -> Value:
        if other:
            return Value(str(value) if value is not None else texts.VALUE_SKIPPED)
        if question.type == "photo" and isinstance(value, int) and not isinstance(value, bool):
            return Value(texts.WEB_HISTORY_PHOTO, value)
        return Value(format_value(question, value))

    @staticmethod
    def name(section: Section, item: int | None, question: Question, other: bool,
             answers: Mapping[str, Any]) -> str:
        parts = [section.title]
        if item is not None:
            numbers = item_numbers(answers, section.key)
            stt = numbers.index(item) + 1 if item in numbers else len(numbers) + 1
            parts.append(item_title(section, scope(answers, section.key, item), stt))
        label = f"{question.label} – {texts.OTHER_CHOICE}" if other else question.label
        if parts[-1] != label and not parts[-1].endswith(" " + label):  # "IV. Khó khăn…" › "Khó khăn…": once
            parts.append(label)
        return texts.WEB_HISTORY_PATH_SEPARATOR.join(parts)


def _groups(rows: Iterable[Row]) -> Iterable[list[Row]]:
    """Consecutive rows of one write (same time, contact and channel): an item deleted at once is named as it was."""
    group: list[Row] = []
    for row in rows:
        if group and (row.at, row.contact_id, row.via, row.action == "submit") != \
                (group[0].at, group[0].contact_id, group[0].via, group[0].action == "submit"):
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def build(form: Form, rows: list[Row], versions: Mapping[datetime, int] | None = None) -> list[Entry]:
    """Every change of an answer and every submission, newest first (the fields of one save in the form's order).

    `versions`: the version number made at each submission time (else counted from the submissions)."""
    fields = _Fields(form)
    answers: dict[str, Any] = {}
    out: list[list[Entry]] = []
    submitted = 0
    for group in _groups(rows):
        before = dict(answers)
        entries: list[tuple[tuple, Entry]] = []
        for row in group:
            if row.action == "delete":
                answers.pop(row.key, None)
            elif row.action == "set" and row.key is not None:
                answers[row.key] = row.new
        for row in group:
            who = row.name or (texts.CONTACT_NO_NAME if row.contact_id is not None else texts.WEB_HISTORY_NOBODY)
            channel = channel_words(row.via, row.channel)
            if row.action == "submit":
                submitted += 1
                number = (versions or {}).get(row.at, submitted)
                entries.append(((), Entry(row.at, who, channel, row.via == "web", version=number)))
                continue
            found = fields.question(row.key or "")
            if found is None:
                continue
            section, item, question, other = found
            removed = row.action == "delete"
            named = fields.name(section, item, question, other, before if removed else answers)
            old = fields.value(question, other, row.old) if row.key in before else None
            new = None if removed else fields.value(question, other, row.new)
            entries.append((fields.order(found),
                            Entry(row.at, who, channel, row.via == "web", named, old, new, removed)))
        out.append([entry for _, entry in sorted(entries, key=lambda pair: pair[0])])
    return [entry for entries in reversed(out) for entry in entries]  # one save's fields in the form's order


def last_change_by_key(rows: Iterable[Row], start: datetime, end: datetime) -> dict[str, str]:
    """The channel (as words) of the last change of each answer key made after `start` up to `end` (between two
    submissions: what made a version's differences)."""
    low, high = min(start, end), max(start, end)
    out: dict[str, str] = {}
    for row in rows:
        if row.action in ANSWER_ACTIONS and row.key is not None and low < row.at <= high:
            out[row.key] = channel_words(row.via, row.channel)
    return out
