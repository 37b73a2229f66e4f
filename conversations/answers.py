"""A unit's answers as a flat mapping of keys to JSON values, and what can be read off them.

Keys: `section.question` for a plain section, `section[3].question` for item 3 of a repeat,
`section.__done__` once the person said a repeat has all its items, and `section.__last__`, the highest item
number ever given. Item numbers only grow (a deleted item's number is never given again), so two contacts
adding or deleting people at the same time never mix them up; the order shown (STT) is the order of the numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from conversations import texts
from conversations.form import OTHER, Form, Question, Section
from conversations.parsers import format_date, format_phone
from conversations.xpath import NO_LOOKUP, AnswersLookup, Lookup, item_numbers

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DONE = "__done__"
LAST = "__last__"  # the highest item number ever given in a repeat section
KEY_RE = re.compile(r"^(?P<s>[a-z][a-z0-9_]*)(?:\[(?P<i>\d+)\])?\.(?P<q>[a-z_][a-z0-9_]*)$")


def key(section: str, question: str, item: int | None = None) -> str:
    """The storage key of one answer."""
    return f"{section}.{question}" if item is None else f"{section}[{item}].{question}"


def split_key(k: str) -> tuple[str, int | None, str]:
    """(section, item or None, question) of a storage key."""
    m = KEY_RE.match(k)
    if not m:
        raise ValueError(f"not an answer key: {k!r}")
    return m["s"], (int(m["i"]) if m["i"] is not None else None), m["q"]


def scope(answers: Mapping[str, Any], section: str, item: int | None = None) -> dict[str, Any]:
    """The answers of one section (or one item of a repeat), by question key."""
    prefix = f"{section}." if item is None else f"{section}[{item}]."
    return {k[len(prefix):]: v for k, v in answers.items() if k.startswith(prefix)}


def scopes(answers: Mapping[str, Any]) -> dict[tuple[str, int | None], dict[str, Any]]:
    """Every scope's answers at once: {(section, item or None): {question key: value}} (see `scope`)."""
    out: dict[tuple[str, int | None], dict[str, Any]] = {}
    for k, v in answers.items():
        head, dot, question = k.partition(".")
        if not dot:
            continue
        item: int | None = None
        if head.endswith("]"):
            head, _, number = head[:-1].partition("[")
            if not number.isdigit():
                continue
            item = int(number)
        out.setdefault((head, item), {})[question] = v
    return out


def is_relevant(question: Question, values: Mapping[str, Any], lookup: Lookup = NO_LOOKUP) -> bool:
    """Whether the question applies, given the other answers of its scope; `lookup` (an AnswersLookup of the
    report's answers) reads what a `relevant` names in other sections. A filtered choice whose filter is answered
    and leaves nothing to choose (a county with no city in the list) does not apply: the chat would ask it with no
    option and, were it required, hold the person there."""
    if question.option_keys and all(values.get(k) is not None for k in question.option_keys) \
            and not question.options(values):
        return False
    return question.is_asked(values, lookup)


def recompute(form: Form, answers: dict[str, Any], today: date | None = None,
              changed_keys: set[str] | None = None) -> bool:
    """Store every `calculate` question's value with the answers (in form order, so a calculation may use an
    earlier one), dropping those that are not relevant or have no value; True when something changed.
    `changed_keys`: the question keys whose answers changed — only the calculations reading them are recomputed."""
    wanted: set[str] | None = None
    if changed_keys is not None:
        wanted = set().union(*(form.readers.get(k, ()) for k in {*changed_keys, ""}))
        if not wanted:
            return False
    changed = False
    groups = scopes(answers)
    for section in form.sections:
        calcs = [q for q in section.questions if q.type == "calculate" and (wanted is None or q.key in wanted)]
        if not calcs:
            continue
        items = [None] if section.repeat is None else item_numbers(answers, section.key)
        for item in items:
            values = dict(groups.get((section.key, item), {}))
            for q in calcs:
                lookup = AnswersLookup(answers, today, None if item is None else (section.key, item))
                value = q.calculation.evaluate(values, lookup=lookup) if is_relevant(q, values, lookup) else None
                k = key(section.key, q.key, item)
                if value is None:
                    if k in answers:
                        del answers[k]
                        values.pop(q.key, None)
                        changed = True
                elif answers.get(k) != value:
                    answers[k] = values[q.key] = value
                    changed = True
    return changed


def scope_items(by_scope: Mapping[tuple[str, int | None], Any]) -> dict[str, list[int]]:
    """The item numbers of every repeat section, in display order, from `scopes` (as `item_numbers` for each)."""
    out: dict[str, list[int]] = {}
    for section, item in by_scope:
        if item is not None:
            out.setdefault(section, []).append(item)
    for numbers in out.values():
        numbers.sort()
    return out


def format_decimal(value: float) -> str:
    """A decimal number as Vietnamese write it: 12,5 (no trailing zeros; 3.0 is 3)."""
    shown = f"{value:.6f}".rstrip("0").rstrip(".")
    return shown.replace(".", ",")


def format_datetime(dt: datetime) -> str:
    """An aware datetime as `16:30 ngày 28/03/2017`, in Asia/Ho_Chi_Minh."""
    local = dt.astimezone(LOCAL_TZ)
    return texts.DATETIME_FORMAT.format(time=local.strftime("%H:%M"), date=local.strftime("%d/%m/%Y"))


def format_value(question: Question, value: Any) -> str:
    """An answer as a person reads it."""
    if value is None:
        return texts.VALUE_SKIPPED
    if question.item_of is not None:  # the parent item it belongs to, named as it was when last saved
        return str(value.get("name", "")) if isinstance(value, Mapping) else str(value)
    if question.type == "phone":
        return format_phone(value)
    if question.type == "date":
        return format_date(date.fromisoformat(value))
    if question.type == "yes_no":
        return texts.YES if value else texts.NO
    if question.type == "choice":
        if question.or_other and value == OTHER:
            return texts.OTHER_CHOICE
        return next((c.label for c in question.choices if c.value == value), str(value))
    if question.type == "multi_choice":
        labels = {c.value: c.label for c in question.choices} | ({OTHER: texts.OTHER_CHOICE} if question.or_other else {})
        return ", ".join(labels.get(v, str(v)) for v in value) if isinstance(value, list) else str(value)
    if question.type == "decimal" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_decimal(value)
    if question.type == "photo":
        return texts.VALUE_PHOTO
    if question.type == "datetime" and isinstance(value, str) and "T" in value:
        day, _, clock = value.partition("T")
        return f"{format_date(date.fromisoformat(day))} {clock[:5]}"
    if question.type == "geopoint" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lon')}"
    if isinstance(value, float) and not isinstance(value, bool):
        return format_decimal(value)
    return str(value)


def format_answer(question: Question, values: Mapping[str, Any]) -> str:
    """The answer of `question` in its scope's `values`, with the text of "Khác (ghi rõ)" when chosen."""
    value = values.get(question.key)
    shown = format_value(question, value)
    chosen = value if isinstance(value, list) else [value]
    if question.or_other and OTHER in chosen and values.get(question.other_key):
        other = f"{texts.OTHER_CHOICE}: {values[question.other_key]}"
        shown = other if value == OTHER else shown.replace(texts.OTHER_CHOICE, other)
    return shown


def item_name(section: Section, values: Mapping[str, Any]) -> Any:
    """What names an item: the answer of its first asked question that has one (None: nothing yet); in a list
    inside a list, not the parent item it belongs to."""
    found = next((values[q.key] for q in section.asked if values.get(q.key) is not None and q.item_of is None), None)
    link = values.get(section.questions[0].key) if found is None and section.questions[0].item_of else None
    return link.get("name") if isinstance(link, Mapping) else found  # else the parent item it belongs to


def item_title(section: Section, values: Mapping[str, Any], stt: int) -> str:
    """How one item is named in menus and messages: its first answer, or its ordinal."""
    first = item_name(section, values)
    return str(first) if first else texts.ITEM_ORDINAL.format(item=section.repeat.item, n=stt)


def linked_items(section: Section, answers: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(item number, how the item is named) of each item of the repeat section `section`, in order: the choices
    of a list inside it (see form.Question.item_of). One pass over the answers, however many items."""
    items = {n: values for (s, n), values in scopes(answers).items() if s == section.key and n is not None}
    out = []
    for stt, n in enumerate(sorted(items), 1):
        values = items[n]
        first = next((q for q in section.asked if values.get(q.key) is not None and q.item_of is None), None)
        shown = format_value(first, values[first.key]) if first is not None and first.type != "photo" else ""
        out.append((n, shown or texts.ITEM_ORDINAL.format(item=section.repeat.item, n=stt)))
    return out


def offered_items(form: Form, answers: Mapping[str, Any], question: Question) -> list[tuple[int, str]]:
    """The parent items a list inside a list offers to its items (`question` is its item_of question): all of
    them, or those for which its `relevant` (the inner list's condition, read in each parent item) holds."""
    found = linked_items(form.section(question.item_of), answers)
    if question.relevant is None:
        return found
    lookup = AnswersLookup(answers)
    return [(n, name) for n, name in found if question.relevant.holds({question.key: {"item": n}}, lookup=lookup)]


def refresh_links(form: Form, answers: dict[str, Any]) -> bool:
    """Keep each list inside a list with its parent: an item whose parent item was deleted (or no longer offers
    it: the inner list's condition) is deleted with it, and the parent's name stored with an item follows the
    parent's answers. True when something changed."""
    changed = False
    for child, _ in form.links:
        link = child.questions[0]
        names = dict(offered_items(form, answers, link))
        for n in item_numbers(answers, child.key):
            k = key(child.key, link.key, n)
            value = answers.get(k)
            item = value.get("item") if isinstance(value, Mapping) else None
            if item is not None and item not in names:
                prefix = f"{child.key}[{n}]."
                for gone in [g for g in answers if g.startswith(prefix)]:
                    del answers[gone]
                changed = True
            elif item is not None and value.get("name") != names[item]:
                answers[k] = {"item": item, "name": names[item]}
                changed = True
    return changed


@dataclass(frozen=True)
class Missing:
    """One thing a report still needs before it can be submitted."""

    section: Section
    question: Question | None = None  # None: the repeat has fewer items than its minimum
    item: int | None = None
    stt: int | None = None
    item_name: str | None = None
    other: bool = False  # the text of "Khác (ghi rõ)" is missing
    fewest: int | None = None  # the items the repeat needs (its count, when an answer gives it)

    def describe(self) -> str:
        """One line for a person."""
        if self.question is None:
            fewest = self.section.repeat.min if self.fewest is None else self.fewest
            return texts.MISSING_ITEMS.format(section=self.section.title, min=fewest, item=self.section.repeat.item)
        if self.other:
            return texts.MISSING_OTHER_TEXT.format(section=self.section.title, label=self.question.label)
        if self.item is None:
            if self.question.label == self.section.title:  # "Người điền báo cáo: Người điền báo cáo"
                return self.section.title
            return texts.MISSING_FIELD.format(section=self.section.title, label=self.question.label)
        who = self.item_name or texts.ITEM_ORDINAL.format(item=self.section.repeat.item, n=self.stt)
        return texts.MISSING_ITEM_FIELD.format(section=self.section.title, who=who, label=self.question.label)


def missing(form: Form, answers: Mapping[str, Any]) -> list[Missing]:
    """Everything required that is not answered yet, in form order."""
    out: list[Missing] = []
    lookup = AnswersLookup(answers)
    by_scope = scopes(answers)  # one pass over the answers, not one per section and item
    items = scope_items(by_scope)
    for section in form.sections:
        if section.repeat is None:
            values = by_scope.get((section.key, None), {})
            out += [Missing(section, q) for q in section.questions
                    if q.required and is_relevant(q, values, lookup) and values.get(q.key) is None]
            out += [Missing(section, q, other=True) for q in section.questions if _other_missing(q, values)]
            continue
        numbers = items.get(section.key, [])
        for stt, n in enumerate(numbers, 1):
            values = by_scope.get((section.key, n), {})
            name = item_name(section, values)
            out += [Missing(section, q, n, stt, name) for q in section.questions
                    if q.required and is_relevant(q, values, lookup) and values.get(q.key) is None]
            out += [Missing(section, q, n, stt, name, other=True) for q in section.questions
                    if _other_missing(q, values)]
        fewest = section.repeat.bounds(lookup=lookup)[0]
        if len(numbers) < fewest:
            out.append(Missing(section, fewest=fewest))
    return out


def _other_missing(question: Question, values: Mapping[str, Any]) -> bool:
    """"Khác (ghi rõ)" chosen without its text (another contact changed the choice in between)."""
    if not question.or_other:
        return False
    value = values.get(question.key)
    return (value == OTHER or isinstance(value, list) and OTHER in value) and not values.get(question.other_key)


def review_section(section: Section, answers: Mapping[str, Any]) -> str:
    """One section in full: every answer, item by item."""
    lines = [section.title]
    lookup = AnswersLookup(answers)
    shown = [q for q in section.questions if q.type not in ("note", "meta")]
    if section.repeat is None:
        values = scope(answers, section.key)
        lines += [f"- {q.label}: {format_answer(q, values)}" for q in shown
                  if q.key in values and is_relevant(q, values, lookup)]
    else:
        for stt, n in enumerate(item_numbers(answers, section.key), 1):
            values = scope(answers, section.key, n)
            parts = [f"{q.label}: {format_answer(q, values)}" for q in shown
                     if q.key in values and is_relevant(q, values, lookup)]
            lines.append(f"{stt}. " + "; ".join(parts))
    if len(lines) == 1:
        closed = section.repeat is not None and answers.get(key(section.key, DONE))
        lines.append(texts.REVIEW_NONE if closed else texts.REVIEW_EMPTY_SECTION)
    return "\n".join(lines)


def review_text(form: Form, answers: Mapping[str, Any]) -> str:
    """Everything entered, by section, then what is still missing."""
    blocks = [review_section(section, answers) for section in form.sections]
    gaps = missing(form, answers)
    if gaps:
        blocks.append(texts.REVIEW_MISSING_HEADER + "\n" + "\n".join(f"- {m.describe()}" for m in gaps))
    else:
        blocks.append(texts.REVIEW_COMPLETE)
    return "\n\n".join(blocks)


def review_summary(form: Form, answers: Mapping[str, Any]) -> str:
    """The review in one short message: what is done, what is missing, one line per section.

    "xem lại N" shows section N in full (review_section); the whole text stays within a Zalo message.
    """
    gaps = missing(form, answers)
    done = sum(1 for s in form.sections if (section_started(s, answers) or not s.asked)  # notes only: nothing to do
               and not any(m.section.key == s.key for m in gaps))
    lines = [texts.REVIEW_PROGRESS.format(done=done, total=len(form.sections))]
    if gaps:
        shown = []  # one line per section: its one gap, or how many it has
        for section in form.sections:
            own = [m for m in gaps if m.section.key == section.key]
            if len(own) == 1:
                shown.append(f"- {own[0].describe()}")
            elif own:
                shown.append(texts.REVIEW_SECTION_GAPS.format(section=section.title, count=len(own)))
        lines.append(texts.REVIEW_MISSING_HEADER + "\n" + "\n".join(shown))
    else:
        lines.append(texts.REVIEW_COMPLETE)
    rows = []
    lookup = AnswersLookup(answers)
    for n, section in enumerate(form.sections, 1):
        if section.repeat is None:
            values = scope(answers, section.key)
            asked = [q for q in section.asked if is_relevant(q, values, lookup)]
            answered = sum(1 for q in asked if q.key in values)
            what = texts.REVIEW_ANSWERED.format(done=answered, total=len(asked))
            calcs = [f"{q.label}: {format_value(q, values[q.key])}" for q in section.questions
                     if q.type == "calculate" and q.key in values]
            if calcs:
                what += " · " + "; ".join(calcs)
        else:
            numbers = item_numbers(answers, section.key)
            names = [str(item_name(section, scope(answers, section.key, i)) or "…") for i in numbers]
            closed = answers.get(key(section.key, DONE))
            what = (texts.REVIEW_ITEMS.format(count=len(numbers), item=section.repeat.item, names="; ".join(names))
                    if numbers else texts.REVIEW_NONE if closed else texts.REVIEW_EMPTY_SECTION)
        rows.append(f"{n}. {section.title}: {what}")
    lines.append("\n".join(rows))
    lines.append(texts.REVIEW_DETAIL_HINT)
    return "\n\n".join(lines)


def section_started(section: Section, answers: Mapping[str, Any]) -> bool:
    """Whether anything of this section was answered (or its list was closed as empty)."""
    prefixes = (f"{section.key}.", f"{section.key}[")
    return any(k.startswith(prefixes) for k in answers)


def find_section(form: Form, ref: str) -> Section | None:
    """A section named by its number in the review ("3") or its code in the template ("I.2", "iv")."""
    ref = ref.strip().rstrip(".").upper()
    if ref.isdigit():
        n = int(ref)
        return form.sections[n - 1] if 1 <= n <= len(form.sections) else None
    matches = [s for s in form.sections if s.title.upper().startswith(ref + ".")]
    return matches[0] if len(matches) == 1 else None


_SECTION_NUMBER = re.compile(r"^([IVXLC]+(?:\.\d+)*)\.?\s")


def section_refs(form: Form) -> dict[str, str]:
    """How a message names each section: "mục III" by its numbering, or by its title when that is ambiguous."""
    numbers = {s.key: m[1] for s in form.sections if (m := _SECTION_NUMBER.match(s.title))}
    counts: dict[str, int] = {}
    for number in numbers.values():
        counts[number] = counts.get(number, 0) + 1
    return {s.key: texts.SECTION_NUMBERED.format(number=numbers[s.key])
            if s.key in numbers and counts[numbers[s.key]] == 1 else texts.SECTION_NAMED.format(title=s.title)
            for s in form.sections}


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


def missing_parts(form: Form, answers: Mapping[str, Any], gaps: list[Missing] | None = None) -> list[str]:
    """What `missing()` finds (`gaps`, when the caller has it already), summed up per section: "ảnh của 2 nhân sự
    chính", "mục III chưa có nội dung"."""
    gaps = missing(form, answers) if gaps is None else gaps
    refs = section_refs(form)
    parts: list[str] = []
    for section in form.sections:
        mine = [m for m in gaps if m.section.key == section.key]
        if not mine:
            continue
        ref = refs[section.key]
        if section.repeat is None:
            if not scope(answers, section.key):
                parts.append(texts.MISSING_SECTION_EMPTY.format(section=ref))
            else:
                labels = ", ".join(_lower_first(m.question.label) for m in mine)
                parts.append(texts.MISSING_SECTION_FIELDS.format(section=ref, labels=labels))
            continue
        if not item_numbers(answers, section.key):
            parts.append(texts.MISSING_SECTION_EMPTY.format(section=ref))
            continue
        counts: dict[str, int] = {}
        for m in mine:
            if m.question is not None:
                counts[m.question.key] = counts.get(m.question.key, 0) + 1
        for key, n in counts.items():
            question = section.question(key)
            template = texts.MISSING_PHOTOS if question.type == "photo" else texts.MISSING_ITEM_FIELD_COUNT
            parts.append(template.format(label=_lower_first(question.label), n=n, item=section.repeat.item))
        if any(m.question is None for m in mine):
            parts.append(texts.MISSING_SECTION_FEW.format(section=ref, min=section.repeat.min,
                                                          item=section.repeat.item))
    return parts


def completion(form: Form, answers: Mapping[str, Any], gaps: list[Missing] | None = None) -> int:
    """Percent of the required answers given (a repeat short of its minimum counts its missing items' fields);
    `gaps`: what `missing()` found, when the caller has it already."""
    gaps = missing(form, answers) if gaps is None else gaps
    absent = 0
    for gap in gaps:
        if gap.question is None:
            per_item = sum(1 for q in gap.section.questions if q.required and not q.conditional) or 1
            fewest = gap.section.repeat.bounds(lookup=AnswersLookup(answers))[0]
            absent += per_item * (fewest - len(item_numbers(answers, gap.section.key)))
        else:
            absent += 1
    given = 0
    lookup = AnswersLookup(answers)
    by_scope = scopes(answers)
    items = scope_items(by_scope)
    for section in form.sections:
        numbers = items.get(section.key, []) if section.repeat is not None else [None]
        for n in numbers:
            values = by_scope.get((section.key, n), {})
            given += sum(1 for q in section.questions
                         if q.required and is_relevant(q, values, lookup) and values.get(q.key) is not None)
    total = given + absent
    return 100 if total == 0 else min(100, int(100 * given / total)) if absent else 100
