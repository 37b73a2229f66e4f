"""The conversation engine: `step(form, state, event, now) -> (state, replies)`, a pure function.

The state is everything the engine needs and nothing else: the unit's answers (shared by all its
contacts), this contact's cursor (a JSON dict: where they are), and a few facts about the report.
The service in `bot/` loads it, calls `step`, stores the difference and only then sends the replies.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from conversations import fields, texts
from conversations.answers import (
    DONE, LAST, LOCAL_TZ, format_answer, format_datetime, format_value, is_relevant, item_name, item_numbers,
    item_title, key,
    missing, find_section, recompute, refresh_links, review_section, review_summary, scope, scopes,
)
from conversations.form import OTHER, Form, Question, Section
from conversations.parsers import (
    ParseError, check_geopoint, fold, format_date, format_options, looks_like_phone, normalize_line_breaks,
    parse_choice, parse_text, parse_yes_no, split_compact, split_trailing_phone, clean_text,
)
from conversations.fields import date_example
from conversations.xpath import AnswersLookup

# --- Events: what a person did --------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Pick:
    """A pressed button (the value of an Option)."""

    value: str


@dataclass(frozen=True)
class Photo:
    """A photo the pipeline accepted and stored, and what making the badge did to it (worth a warning)."""

    photo_id: int
    cropped: bool = False  # a landscape photo: its sides were cut away to make the 3:4 badge
    small: tuple[int, int] | None = None  # (width, height) of the region kept, when smaller than the badge
    no_face: bool = False  # no face, or several, found: the badge keeps the centre and may print without a face

    @property
    def needs_warning(self) -> bool:
        return self.cropped or self.small is not None or self.no_face


@dataclass(frozen=True)
class PhotoRefused:
    """A photo the pipeline refused; `message` says why, in Vietnamese."""

    message: str


@dataclass(frozen=True)
class Location:
    """A location shared from the phone (Telegram's location message)."""

    lat: float
    lon: float


@dataclass(frozen=True)
class Unsupported:
    """A sticker, voice note, file or anything else the bot cannot read."""

    kind: str = ""


@dataclass(frozen=True)
class Start:
    """The person (re)opened the chat, or was just bound to their unit."""


@dataclass(frozen=True)
class Resume:
    """A message that is not an answer (the service said why): repeat where the person is, nothing stored."""


Event = Text | Pick | Photo | PhotoRefused | Location | Unsupported | Start | Resume

# --- Replies: channel-neutral -----------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str  # short (Telegram callback data is at most 64 bytes)
    label: str


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    expects_photo: bool = False


def encode_replies(replies: list[Reply]) -> list[dict]:
    """Replies as JSON values, to keep them until they are sent (bot/service.py)."""
    return [{"text": r.text, "options": [[o.value, o.label] for o in r.options], "photo": r.expects_photo}
            for r in replies]


def decode_replies(stored: list[dict]) -> list[Reply]:
    return [Reply(r["text"], tuple(Option(v, label) for v, label in r["options"]), bool(r["photo"]))
            for r in stored]


def render_plain(reply: Reply) -> str:
    """A reply for a channel without buttons: the options numbered in the text."""
    if not reply.options:
        return reply.text
    if len(reply.options) <= 5 and sum(len(o.label) for o in reply.options) <= 40:
        numbered = format_options([(o.value, o.label) for o in reply.options])
        return f"{reply.text}\n{texts.TYPE_A_NUMBER.format(options=numbered)}"
    # A long menu reads better on a phone one option per line.
    lines = "\n".join(f"{n} – {o.label}" for n, o in enumerate(reply.options, 1))
    return f"{reply.text}\n{texts.TYPE_A_NUMBER_LIST.format(options=lines)}"


# --- State --------------------------------------------------------------------------------------------

NOT_STARTED, IN_PROGRESS, SUBMITTED, SUBMITTED_LATE = "not_started", "in_progress", "submitted", "submitted_late"
# The department's review of a submitted report (report.review): returned for correction, or accepted (locked).
RETURNED, ACCEPTED = "returned", "accepted"


@dataclass(frozen=True)
class ReportInfo:
    unit_name: str
    deadline_at: datetime
    status: str = NOT_STARTED
    submitted_at: datetime | None = None  # the latest submission
    first_submitted_at: datetime | None = None  # the first: it alone says whether the unit met its deadline
    reopened: bool = False
    changed_since_submit: bool = False
    review: str | None = None  # RETURNED | ACCEPTED | None
    review_comment: str | None = None  # what the department asked to add, while RETURNED
    title: str = ""  # the campaign's title (the welcome names it); "": the form's

    @property
    def is_submitted(self) -> bool:
        return self.status in (SUBMITTED, SUBMITTED_LATE)


@dataclass(frozen=True)
class State:
    answers: Mapping[str, Any]
    report: ReportInfo
    cursor: Mapping[str, Any] = field(default_factory=dict)
    # Who is writing, for the form's `meta` questions: {"channel": "telegram"|"zalo", "name": …, "phone": …}
    # (the service knows the contact; the engine only copies these into the answers).
    contact: Mapping[str, Any] = field(default_factory=dict)


COMMANDS = {name: {fold(w) for w in words} for name, words in texts.COMMAND_WORDS.items()}


def parse_command(raw: str) -> tuple[str, str] | None:
    """(command, argument) if the text is a command, typed with or without a slash or diacritics."""
    folded = fold(raw)
    if len(folded) > 40:
        return None
    if folded != "?":
        folded = folded.rstrip(" .,;:!?…")  # "Xong.", "Nộp!"
        folded = folded.removesuffix(" a").rstrip(" .,;:!?…")  # the polite "ạ": "xong ạ", "không ạ."
    first, _, rest = folded.removeprefix("/").partition(" ")
    first = first.partition("@")[0]  # Telegram appends @botname to commands in groups
    whole = f"{first} {rest}".strip()
    for name, words in COMMANDS.items():
        if whole in words:
            return name, ""
    for word in sorted(COMMANDS["review"], key=len, reverse=True):  # "xem lại 3", "xem lại I.2", "xem lại phần iv"
        ref = whole.removeprefix(word + " ").removeprefix("phan ").removeprefix("muc ")
        if whole.startswith(word + " ") and re.fullmatch(r"[0-9]{1,2}|[ivx]{1,4}(?:\.[0-9]{1,2})?", ref):
            return "review", ref
    for word in COMMANDS["edit"]:  # "sửa 3", "sửa mục 3", "chỉnh sửa 3"
        number = whole.removeprefix(word + " ").removeprefix("muc ").removeprefix("phan ").removeprefix("so ")
        if whole.startswith(word + " ") and number.isdigit():
            return "edit", number
    return None


def is_locked(report: ReportInfo, now: datetime) -> bool:
    """Accepted by the department, or after the deadline unless an admin reopened it: read-only."""
    return report.review == ACCEPTED or now > report.deadline_at and not report.reopened


# A greeting after this long away is a return ("Chào bạn quay lại!"); sooner, it just repeats the question.
ABSENCE = timedelta(hours=2)


# --- Examples that fit the person's own answers --------------------------------------------------------

_EXAMPLE_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


def prompt_for(question: Question, values: Mapping[str, Any]) -> str:
    """The question's prompt, its example date replaced by one that fits the answers so far."""
    example = date_example(question, values)
    if example is None:
        return question.prompt
    return _EXAMPLE_DATE.sub(format_date(example), question.prompt)


# --- Slots: the questions in the order they are asked ------------------------------------------------


@dataclass(frozen=True)
class Slot:
    section: str
    item: int | None
    question: str
    new: bool = False  # the first question of an item that does not exist yet

    def to_json(self) -> dict:
        return {"s": self.section, "i": self.item, "q": self.question, "new": self.new}

    @staticmethod
    def from_json(d: Mapping[str, Any] | None) -> Slot | None:
        return None if not d else Slot(d["s"], d.get("i"), d["q"], bool(d.get("new")))


def first_question(section: Section, answers: Mapping[str, Any], lookup: AnswersLookup | None = None) -> Question:
    """The question a new item of a repeat starts with: its first asked question that applies."""
    lookup = lookup or AnswersLookup(answers)
    return next((q for q in section.asked if is_relevant(q, {}, lookup)), section.lead)


def below_most(section: Section, count: int, lookup: AnswersLookup) -> bool:
    """Whether a repeat with `count` items may have one more."""
    most = section.repeat.bounds(lookup=lookup)[1]
    return most is None or count < most


def all_slots(form: Form, answers: Mapping[str, Any]) -> list[Slot]:
    """Every question that is asked given the answers so far, with one 'new item' slot per open repeat."""
    out: list[Slot] = []
    groups = scopes(answers)  # one pass over the answers, not one per section and item
    lookup = AnswersLookup(answers)
    for section in form.sections:
        if section.repeat is None:
            values = groups.get((section.key, None), {})
            out += [Slot(section.key, None, q.key) for q in section.asked if is_relevant(q, values, lookup)]
            continue
        numbers = sorted(n for s, n in groups if s == section.key and n is not None)
        for n in numbers:
            values = groups[(section.key, n)]
            out += [Slot(section.key, n, q.key) for q in section.asked if is_relevant(q, values, lookup)]
        closed = bool(answers.get(key(section.key, DONE)))
        fewest, most = section.repeat.bounds(lookup=lookup)
        if section.questions[0].item_of and not fields.choices(section.questions[0], {}, form, answers):
            continue  # a list inside a list: nothing to add to before its parent list has an item it offers
        if (most is None or len(numbers) < most) and (len(numbers) < fewest or not closed):
            out.append(Slot(section.key, None, first_question(section, answers, lookup).key, new=True))
    return out


def _order(form: Form, slot: Slot) -> tuple[int, int, int]:
    s_index, q_index = form.positions[(slot.section, slot.question)]
    return s_index, (10**9 if slot.new else slot.item or 0), q_index


class _Answers(dict):
    """The answers a turn works on: a dict that counts its changes, so that what is read off it (the slots, what
    is missing) is computed again only after a change, not at every look within one step."""

    version = 0

    def __setitem__(self, k, v):
        self.version += 1
        super().__setitem__(k, v)

    def __delitem__(self, k):
        self.version += 1
        super().__delitem__(k)

    def pop(self, *args):
        self.version += 1
        return super().pop(*args)

    def update(self, *args, **kwargs):
        self.version += 1
        super().update(*args, **kwargs)

    def setdefault(self, *args):
        self.version += 1
        return super().setdefault(*args)

    def popitem(self):
        self.version += 1
        return super().popitem()

    def clear(self):
        self.version += 1
        super().clear()


class _Turn:
    """One step's working copy of the state, and the reply being built."""

    def __init__(self, form: Form, state: State, now: datetime):
        self.form = form
        self.answers: _Answers = _Answers(state.answers)
        self._read: dict[str, tuple[int, Any]] = {}  # what was read off the answers, at which version
        self.report = state.report
        self.cursor: dict[str, Any] = dict(state.cursor)
        self.now = now
        self.notes: list[str] = []  # acknowledgements and errors, said before the question
        seen = state.cursor.get("seen")
        self.previous_seen = datetime.fromisoformat(seen) if isinstance(seen, str) else None
        self.changed = False
        self.contact = state.contact

    # -- answers ---------------------------------------------------------------------------------

    def set_answer(self, slot: Slot, value: Any) -> Slot:
        """Store one answer (creating the item for a new slot) and drop answers it made irrelevant."""
        section = self.form.section(slot.section)
        item = slot.item
        if slot.new:
            # Numbers are never reused, even after a delete: a contact still on a deleted item's question
            # must not answer for a person added since by someone else.
            last_key = key(section.key, LAST)
            item = max(max(item_numbers(self.answers, section.key), default=0), self.answers.get(last_key, 0)) + 1
            self.answers[last_key] = item
        k = key(section.key, slot.question, item)
        if k in self.answers and self.answers[k] == value:
            return Slot(section.key, item, slot.question)  # the same answer again changes nothing
        self.answers[k] = value
        self._prune(section, item, slot.question)
        self._touch()
        return Slot(section.key, item, slot.question)

    def _prune(self, section: Section | None = None, item: int | None = None, question: str | None = None) -> None:
        """Drop the answers that no longer apply (in every section when a `relevant` may name another section's
        answer, else in the scope that changed), then recompute the calculations that read what changed."""
        before = set(self.answers)
        if section is not None and not self.form.reaches_across:
            self._prune_scope(section, item, scope(self.answers, section.key, item))
        else:
            groups = scopes(self.answers)
            for each in self.form.sections:
                items = [None] if each.repeat is None else item_numbers(self.answers, each.key)
                for n in items:
                    self._prune_scope(each, n, dict(groups.get((each.key, n), {})))
        if self.form.links and refresh_links(self.form, self.answers):
            self.changed = True
        if not self.form.calculations:
            return
        if question is None or section is None:  # an item deleted: everything may change
            changed_keys = None
        else:  # the answer given, and those pruned because of it
            changed_keys = {question} | {k.rpartition(".")[2] for k in before - set(self.answers)}
        if recompute(self.form, self.answers, self.now.astimezone(LOCAL_TZ).date(), changed_keys):
            self.changed = True

    def _prune_scope(self, section: Section, item: int | None, values: dict[str, Any]) -> None:
        for q in section.questions:
            k = key(section.key, q.key, item)
            if q.or_other and q.other_key in values:
                chosen = values.get(q.key)
                if not (chosen == OTHER or isinstance(chosen, list) and OTHER in chosen):
                    del self.answers[key(section.key, q.other_key, item)]
                    values.pop(q.other_key)
            if k not in self.answers or q.type in ("calculate", "meta"):
                continue
            offered = {c.value for c in q.options(values)} if q.option_keys else set()
            chosen = values.get(q.key)
            stale_choice = q.option_keys and chosen is not None and \
                any(v not in offered for v in (chosen if isinstance(chosen, list) else [chosen]))
            # A start date moved past the end date: the end date is asked again.
            stale_date = q.not_before and values.get(q.key) and values.get(q.not_before) and \
                values[q.key] < values[q.not_before]
            if not is_relevant(q, values, AnswersLookup(self.answers)) or stale_choice or stale_date:
                del self.answers[k]
                values.pop(q.key, None)

    def delete_item(self, section: Section, item: int) -> None:
        prefix = f"{section.key}[{item}]."
        for k in [k for k in self.answers if k.startswith(prefix)]:
            del self.answers[k]
        self._prune()
        self._touch()

    def record_meta(self, *, submitting: bool = False) -> None:
        """What the form's `meta` questions record: the first answer's time and date, the submission's time,
        and the channel, name and phone of the contact who changed the report last."""
        local = self.now.astimezone(LOCAL_TZ)
        for section, q in self.form.metas:
            k = key(section.key, q.key)
            value = {"deviceid": self.contact.get("channel"), "username": self.contact.get("name"),
                     "phonenumber": self.contact.get("phone")}.get(q.meta)
            if q.meta in ("start", "today") and k not in self.answers:
                value = local.isoformat(timespec="seconds") if q.meta == "start" else local.date().isoformat()
            elif q.meta == "end" and submitting:
                value = local.isoformat(timespec="seconds")
            if value is not None and self.answers.get(k) != value:
                self.answers[k] = value

    def _touch(self) -> None:
        self.changed = True
        self.record_meta()
        if self.report.status == NOT_STARTED:
            self.report = dataclasses.replace(self.report, status=IN_PROGRESS)
        if self.report.is_submitted and not self.report.changed_since_submit:
            self.report = dataclasses.replace(self.report, changed_since_submit=True)
            self.notes.append(texts.CHANGED_AFTER_SUBMIT)

    # -- navigation ------------------------------------------------------------------------------

    def slots(self) -> list[Slot]:
        """all_slots of the answers as they are now (computed again only after they changed)."""
        return self._cached("slots", all_slots)

    def gaps(self) -> list:
        """missing() of the answers as they are now (computed again only after they changed)."""
        return self._cached("gaps", missing)

    def _cached(self, name: str, compute) -> Any:
        found = self._read.get(name)
        if found is None or found[0] != self.answers.version:
            found = self._read[name] = (self.answers.version, compute(self.form, self.answers))
        return list(found[1])

    def slot(self) -> Slot | None:
        return Slot.from_json(self.cursor.get("slot"))

    def absent(self, slot: Slot) -> bool:
        return slot.new or key(slot.section, slot.question, slot.item) not in self.answers

    def next_absent(self, after: Slot | None) -> Slot | None:
        """The first unanswered slot after `after`, wrapping round to the start."""
        slots = [s for s in self.slots() if self.absent(s)]
        if after is not None:
            mark = _order(self.form, after)
            later = [s for s in slots if _order(self.form, s) > mark]
            if later:
                return later[0]
        return slots[0] if slots else None

    def next_missing(self, after: Slot | None) -> Slot | None:
        """The first required slot still without a value, after `after` (no wrapping)."""
        gaps = self.gaps()
        slots = []
        for m in gaps:
            if m.question is None:
                slots.append(Slot(m.section.key, None, first_question(m.section, self.answers).key, new=True))
            else:
                slots.append(Slot(m.section.key, m.item, m.question.key))
        if after is not None:
            mark = _order(self.form, after)
            slots = [s for s in slots if _order(self.form, s) > mark]
        return slots[0] if slots else None

    def slot_is_current(self) -> bool:
        """Whether the question the person is at is still asked, given the answers as they are now."""
        slot = self.slot()
        try:
            section = self.form.section(slot.section)
            section.question(slot.question)
        except KeyError:
            return False
        if slot.new:  # adding one more is fine even if another contact said the list was complete
            return below_most(section, len(item_numbers(self.answers, section.key)), AnswersLookup(self.answers))
        return slot in self.slots()

    def relocate(self) -> None:
        """Move the cursor to the next question to ask after one that no longer applies."""
        slot = self.slot()
        try:
            nxt = self.next_absent(slot)
        except (KeyError, ValueError):  # the form no longer has that section or question
            nxt = self.next_absent(None)
        self.cursor = {"mode": "fill", "stage": "ask", "slot": nxt.to_json()} if nxt else {"stage": "end"}

    def advance(self, after: Slot | None) -> Reply:
        """Move to the next question for the current mode and ask it, or finish."""
        mode = self.cursor.get("mode", "fill")
        if mode == "edit" and after is not None:
            pending = self.edit_pending(after)
            if pending:
                return self.ask(pending[0])
            return self.show_menu({"level": "fields", "s": after.section, "i": after.item})
        nxt = self.following(after)
        if nxt is None:
            return self.finish()
        return self.ask(nxt)

    def edit_pending(self, after: Slot) -> list[Slot]:
        """In the edit mode: the item's questions still unanswered, asked before going back to its fields menu."""
        return [s for s in self.slots()
                if s.section == after.section and s.item == after.item and not s.new and self.absent(s)]

    def following(self, after: Slot | None) -> Slot | None:
        """The question `advance` asks after `after` outside the edit mode; None: the report's end."""
        return self.next_missing(after) if self.cursor.get("mode", "fill") == "missing" else self.next_absent(after)

    def back_target(self, at: Slot | None) -> Slot | None:
        """The question “quay lại” asks from `at` (None: from the end) outside the edit mode; None: nothing before."""
        slots = self.slots()
        if at is None:
            return slots[-1] if slots else None
        mark = _order(self.form, at)
        earlier = [s for s in slots if _order(self.form, s) < mark]
        return earlier[-1] if earlier else None

    def finish(self) -> Reply:
        """Nothing left to ask: say what is missing, or invite to submit."""
        if self.cursor.get("stage") == "ask" and self.cursor.get("mode", "fill") == "fill":
            self.notes += self.trailing_notes(self.form.sections[-1])  # arriving at the end: the form's last notes
        self.cursor = {"stage": "end"}
        gaps = self.gaps()
        if gaps:
            self.notes.append(texts.END_MISSING.format(items="\n".join(f"- {m.describe()}" for m in gaps)))
        elif self.report.is_submitted and not self.report.changed_since_submit:
            self.notes.append(texts.END_SUBMITTED.format(at=format_datetime(self.report.submitted_at)))
        else:
            self.notes.append(texts.END_READY)
        if self.report.review == RETURNED and self.report.review_comment:
            self.notes.append(texts.RETURNED_REMINDER.format(comment=self.report.review_comment))
        return self.reply()

    # -- asking ----------------------------------------------------------------------------------

    def ask(self, slot: Slot, *, header: bool = True) -> Reply:
        """Ask one question: header, prompt, current value, hints and options in one message."""
        mode = self.cursor.get("mode", "fill")
        previous = self.slot()
        adding = slot.new and self.cursor.get("adding") == slot.section
        self.cursor = {**{k: v for k, v in self.cursor.items() if k in ("mode", "resume")},
                       "stage": "ask", "slot": slot.to_json(), "mode": mode}
        section = self.form.section(slot.section)
        question = section.question(slot.question)
        if slot.new and question.item_of and not self.choices(question, {}):  # its parent list was emptied
            parent = self.form.section(question.item_of)
            self.notes.append(texts.ITEM_OF_NONE.format(item=section.repeat.item, parent=parent.repeat.item))
            if mode == "edit":
                return self.show_menu({"level": "items", "s": section.key})
            return self.close_repeat(section, slot)
        if slot.new and not adding and self.gated(section):
            self.cursor["stage"] = "more"
            return self.more_reply(header=header)
        if adding:
            self.cursor["adding"] = section.key  # "bỏ qua" now leaves an optional first answer empty
        values = scope(self.answers, section.key, slot.item)
        lines = []
        said = self.notes_before(section, slot, values) if header and mode != "edit" else ([], [])
        lines += said[0]
        if header:
            lines.append(self.header(section, slot))
            if mode == "fill" and self.entering(section, slot, previous):
                lines.append(section.intro)
        lines += said[1]
        lines.append(prompt_for(question, values))
        if question.hint:
            lines.append(question.hint)
        if question.type == "geopoint":
            lines.append(texts.GEOPOINT_HINT)
        if question.type == "multi_choice":  # no buttons: one press could only say one choice
            numbered = "\n".join(f"{n} – {label}" for n, (_, label) in enumerate(self.choices(question, values), 1))
            lines.append(texts.MULTI_CHOICE_HINT.format(options=numbered))
        current = values.get(question.key) if not slot.new else None
        if not slot.new and question.key in values and current is not None:
            lines.append(texts.CURRENT_VALUE.format(value=format_answer(question, values)))
        elif not question.required:
            lines.append(texts.HINT_OPTIONAL)
        elif question.deferrable:
            lines.append(texts.HINT_DEFERRABLE)
        count = len(item_numbers(self.answers, section.key)) if slot.new else 0
        if slot.new and count >= section.repeat.bounds(lookup=AnswersLookup(self.answers))[0]:
            lines.append((texts.HINT_NO_ITEMS if count == 0 else texts.HINT_DONE).format(item=section.repeat.item))
        options = self.options_for(question, values)
        if question.item_of:  # the list as shown: a number typed is read against it (see answer)
            self.cursor["offered"] = [o.value for o in options]
        return self.reply("\n".join(lines), options=options, expects_photo=question.type == "photo")

    def header(self, section: Section, slot: Slot) -> str:
        """Where the person is: the section, the item (for lists) and the question's place in it."""
        values = scope(self.answers, section.key, slot.item) if not slot.new else {}
        lookup = AnswersLookup(self.answers)
        asked = [q.key for q in section.asked if is_relevant(q, values, lookup)]
        place = texts.QUESTION_PLACE.format(n=asked.index(slot.question) + 1, total=len(asked)) \
            if len(asked) > 1 and slot.question in asked else ""
        if section.repeat is None:
            return f"【{section.title}】{place}"
        numbers = item_numbers(self.answers, section.key)
        stt = len(numbers) + 1 if slot.new else numbers.index(slot.item) + 1
        fewest, most = section.repeat.bounds(lookup=lookup)
        if section.repeat.count is not None:
            limit = texts.HEADER_COUNT.format(count=most, item=section.repeat.item)
        elif most is None:
            limit = ""
        else:
            limit = texts.HEADER_LIMIT.format(min=fewest, max=most) if most > 1 else ""
        title = f"【{section.title}{limit}】"
        if most == 1:
            return f"{title}{place}"
        return f"{title}\n{texts.ITEM_ORDINAL.format(item=section.repeat.item, n=stt).capitalize()}{place}"

    def entering(self, section: Section, slot: Slot, previous: Slot | None) -> bool:
        """Whether the person arrives at the very start of a section with an introduction."""
        first = slot.question == section.lead.key and (
            section.repeat is None or (slot.new and not item_numbers(self.answers, section.key)))
        return bool(section.intro) and first and (previous is None or previous.section != section.key)

    def gated(self, section: Section) -> bool:
        """Whether a new item of this repeat is asked for with "Thêm … nữa không?" first: an open list, or one
        whose first question may be left empty (skipping it could not mean "no more items" then)."""
        repeat = section.repeat
        if repeat.count is not None:
            return False
        first = first_question(section, self.answers)
        if not repeat.open and first.required and not first.conditional:
            return False
        count = len(item_numbers(self.answers, section.key))
        return count >= repeat.bounds(lookup=AnswersLookup(self.answers))[0]

    def more_reply(self, *, header: bool = True) -> Reply:
        """ "Thêm … nữa không?" (or "Có … nào không?" before the first item), with yes/no buttons."""
        slot = self.slot()
        section = self.form.section(slot.section)
        count = len(item_numbers(self.answers, section.key))
        lines = []
        if header:
            said = self.notes_before(section, slot, {}) if self.cursor.get("mode", "fill") != "edit" else ([], [])
            lines += said[0]
            lines.append(f"【{section.title}】")
            if count == 0 and section.intro:
                lines.append(section.intro)
            lines += said[1]
        lines.append((texts.ANY_ITEMS if count == 0 else texts.MORE_ITEMS).format(item=section.repeat.item))
        return self.reply("\n".join(lines), options=(Option("yes", texts.YES), Option("no", texts.NO)))

    def on_more(self, event: Event) -> Reply:
        """The answer to "Thêm … nữa không?": yes asks the new item's first question, no closes the list."""
        slot = self.slot()
        section = self.form.section(slot.section)
        try:
            if isinstance(event, Pick):
                if event.value not in ("yes", "no"):
                    raise ParseError(texts.STALE_BUTTON)
                more = event.value == "yes"
            elif isinstance(event, Text):
                more = parse_yes_no(event.text)
            else:
                raise ParseError(texts.YES_NO_INVALID)
        except ParseError as exc:
            self.notes.append(exc.message)
            return self.more_reply(header=False)
        if not more:
            return self.close_repeat(section, slot)
        self.cursor["adding"] = section.key
        return self.ask(slot, header=False)

    def notes_before(self, section: Section, slot: Slot, values: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """The notes that stand just before this question: ([those of the previous section's end], [those of
        its own section]); said with it, once, when the chat arrives at it."""
        lookup = AnswersLookup(self.answers)
        own: list[str] = []
        index = [q.key for q in section.questions].index(slot.question)
        for q in reversed(section.questions[:index]):
            if q.asked and is_relevant(q, values, lookup):
                return [], own
            if q.type == "note" and is_relevant(q, values, lookup):
                own.insert(0, self.note_text(section, q, values))
        where = self.form.sections.index(section)
        if where == 0 or section.repeat is not None and item_numbers(self.answers, section.key) and slot.new:
            return [], own
        return self.trailing_notes(self.form.sections[where - 1]), own

    def trailing_notes(self, section: Section) -> list[str]:
        """The notes after the last asked question of a plain section (said with whatever comes next)."""
        if section.repeat is not None:
            return []
        values = scope(self.answers, section.key)
        lookup = AnswersLookup(self.answers)
        out: list[str] = []
        for q in reversed(section.questions):
            if q.asked and is_relevant(q, values, lookup):
                break
            if q.type == "note" and is_relevant(q, values, lookup):
                out.insert(0, self.note_text(section, q, values))
        return out

    _OUTPUT = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}")

    def note_text(self, section: Section, note: Question, values: Mapping[str, Any]) -> str:
        return note_text(self.form, self.answers, section, note, values)

    def choices(self, question: Question, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        return fields.choices(question, values, self.form, self.answers)

    def options_for(self, question: Question, values: Mapping[str, Any]) -> tuple[Option, ...]:
        if question.type == "choice":
            return tuple(Option(v, label) for v, label in self.choices(question, values))
        if question.type == "yes_no":
            return (Option("yes", texts.YES), Option("no", texts.NO))
        return ()

    def reply(self, text: str = "", *, options: tuple[Option, ...] = (), expects_photo: bool = False) -> Reply:
        body = "\n\n".join([*self.notes, text] if text else self.notes)
        self.notes = []
        return Reply(body, options, expects_photo)

    def reask(self) -> Reply:
        """Say the notes, then repeat where the person is."""
        stage = self.cursor.get("stage")
        if stage == "ask":
            return self.ask(self.slot())
        if stage == "warn":
            return self.warn_reply()
        if stage == "other":
            return self.other_reply()
        if stage == "more":
            return self.more_reply()
        if stage == "menu":
            return self.show_menu(self.cursor["menu"])
        if stage == "end":
            return self.finish()
        return self.advance(None)

    def other_reply(self) -> Reply:
        slot = self.slot()
        question = self.form.section(slot.section).question(slot.question)
        return self.reply(texts.OTHER_PROMPT.format(label=question.label))

    def on_other(self, event: Event) -> Reply:
        """The text of "Khác (ghi rõ)", asked right after the choice."""
        if not isinstance(event, Text):
            self.notes.append(texts.UNSUPPORTED_MESSAGE if isinstance(event, Unsupported) else texts.STALE_BUTTON
                              if isinstance(event, Pick) else texts.PHOTO_NOT_EXPECTED)
            return self.other_reply()
        try:
            value = parse_text(event.text)
        except ParseError as exc:
            self.notes.append(exc.message)
            return self.other_reply()
        slot = self.slot()
        section = self.form.section(slot.section)
        question = section.question(slot.question)
        k = key(section.key, question.other_key, slot.item)
        if self.answers.get(k) != value:
            self.answers[k] = value
            self._touch()
        self.cursor = {**self.cursor, "stage": "ask"}
        return self.after_store(section, slot)

    # -- answering -------------------------------------------------------------------------------

    def answer(self, event: Event) -> Reply:
        slot = self.slot()
        section = self.form.section(slot.section)
        question = section.question(slot.question)
        values = scope(self.answers, section.key, slot.item) if not slot.new else {}
        if question.item_of and isinstance(event, Text) and event.text.strip().isdigit() and \
                self.cursor.get("offered") != [v for v, _ in self.choices(question, values)]:
            self.notes.append(texts.ITEM_OF_CHANGED)  # another contact changed the list since it was shown
            return self.ask(slot, header=False)
        if isinstance(event, Text) and section.compact and question.key == section.compact[0]:
            compact = self.try_compact(section, slot, event.text)
            if compact is not None:
                return compact
        try:
            value = self.parse(question, values, event)
        except ParseError as exc:
            self.notes.append(exc.message)
            return self.ask(slot, header=False)
        if question.not_above:
            limit = values.get(question.not_above)
            if isinstance(limit, int) and value > limit:
                self.cursor = {**self.cursor, "stage": "warn", "value": value}
                return self.warn_reply()
        return self.store(slot, value, photo=event if isinstance(event, Photo) else None)

    def store(self, slot: Slot, value: Any, *, photo: Photo | None = None) -> Reply:
        section = self.form.section(slot.section)
        real = self.set_answer(slot, value)
        self.cursor = {**self.cursor, "stage": "ask", "slot": real.to_json()}
        self.cursor.pop("value", None)
        question = section.question(real.question)
        if question.or_other and (value == OTHER or isinstance(value, list) and OTHER in value):
            self.cursor["stage"] = "other"
            return self.other_reply()
        return self.after_store(section, real, photo=photo)

    def after_store(self, section: Section, real: Slot, *, photo: Photo | None = None) -> Reply:
        if section.repeat is not None and self.cursor.get("mode", "fill") == "fill":
            item_slots = [s for s in self.slots()
                          if s.section == section.key and s.item == real.item]
            last = item_slots[-1].question == real.question if item_slots else False
            if last:
                numbers = item_numbers(self.answers, section.key)
                values = scope(self.answers, section.key, real.item)
                saved = texts.ITEM_SAVED_ONE if section.repeat.max == 1 else texts.ITEM_SAVED
                self.notes.append(saved.format(
                    item=section.repeat.item, n=numbers.index(real.item) + 1,
                    name=item_name(section, values) or ""))
        if photo is not None and photo.needs_warning:
            self.notes.append(self.photo_warning(photo, section, real))
        nxt_reply = self.advance(real)
        return nxt_reply

    def photo_warning(self, photo: Photo, section: Section, real: Slot) -> str:
        """The photo was kept but its badge may be poor: what happened, and how to send another one."""
        lines = [texts.PHOTO_WARN_NO_FACE] if photo.no_face else []
        if photo.cropped:
            lines.append(texts.PHOTO_WARN_LANDSCAPE)
        if photo.small is not None:
            lines.append(texts.PHOTO_WARN_SMALL.format(width=photo.small[0], height=photo.small[1]))
        label = section.question(real.question).label
        # The shortest way back to this photo from where `advance` goes next: the item's fields menu (the edit
        # mode), "quay lại" when the next question comes right after it, else the edit menu from the top.
        editing = self.cursor.get("mode", "fill") == "edit"
        if editing and not self.edit_pending(real):
            lines.append(texts.PHOTO_REDO_MENU.format(label=label))
        elif not editing and self.back_target(self.following(real)) == real:
            lines.append(texts.PHOTO_REDO_BACK)
        elif section.repeat is None:
            lines.append(texts.PHOTO_REDO_EDIT_FIELD.format(n=self.form.sections.index(section) + 1, label=label))
        else:
            numbers = item_numbers(self.answers, section.key)
            name = item_title(section, scope(self.answers, section.key, real.item), numbers.index(real.item) + 1)
            lines.append(texts.PHOTO_REDO_EDIT_ITEM.format(n=self.form.sections.index(section) + 1, name=name,
                                                           label=label))
        return "\n".join(lines)

    def parse(self, question: Question, values: Mapping[str, Any], event: Event) -> Any:
        """The answer read off the event, refused (ParseError) when the question's constraint does not hold."""
        return fields.check_constraint(question, values, self.read(question, values, event), self.answers)

    def read(self, question: Question, values: Mapping[str, Any], event: Event) -> Any:
        """The event turned into a value by the one field check the web page calls too (conversations/fields.py)."""
        if isinstance(event, Photo):
            if question.type != "photo":
                raise ParseError(texts.PHOTO_NOT_EXPECTED)
            return event.photo_id
        if isinstance(event, PhotoRefused):
            raise ParseError(event.message)
        if isinstance(event, Unsupported):
            raise ParseError(texts.UNSUPPORTED_MESSAGE)
        if isinstance(event, Location):
            if question.type != "geopoint":
                raise ParseError(texts.LOCATION_NOT_EXPECTED)
            return check_geopoint(event.lat, event.lon)
        if isinstance(event, Pick):
            return fields.read_pick(question, values, event.value, self.form, self.answers)
        return fields.read_text(question, values, event.text, self.now.astimezone(LOCAL_TZ).date(), self.form,
                                self.answers)

    def try_compact(self, section: Section, slot: Slot, raw: str) -> Reply | None:
        """Several answers of one item in one message; None when the message is a single answer.

        Every part that parses is stored under its own question and the rest is asked again; no part ever
        lands in another question's field. A name never holds a phone number or list separators.
        """
        questions = [section.question(k) for k in section.compact]
        first = questions[0]
        phone_q = next((q for q in questions if q.type == "phone"), None)
        parts = split_compact(raw)
        explicit = "\n" in raw.strip() or ";" in raw
        if len(parts) < 2:
            split = split_trailing_phone(raw) if first.type == "name" and phone_q is not None else None
            if split is None:
                return None  # one answer; a name parser refuses digits on its own
            if questions.index(phone_q) != 1:
                # "Nguyễn Văn An Chuyên viên 0912…": where the name ends is a guess, so nothing is stored.
                self.notes.append(texts.COMPACT_AMBIGUOUS)
                return self.ask(slot, header=False)
            parts = list(split)
        strict = explicit or first.type == "name"
        if not strict and len(parts) < sum(1 for q in questions if q.required):
            return None  # commas inside one free-text answer: "Rà soát, chuẩn hóa bộ TTHC"
        if len(parts) > len(questions):
            if questions[-1].type not in ("text", "long_text"):
                self.notes.append(texts.COMPACT_COUNT.format(
                    got=len(parts), expected=len(questions), labels=", ".join(q.label for q in questions)))
                return self.ask(slot, header=False)
            # The last answer is free text that may hold commas itself: "Sở Nội vụ, Sở Tài chính".
            tail = len(questions) - 1
            parts = [*parts[:tail], ", ".join(parts[tail:])]
        assigned = self.assign_parts(questions, phone_q, parts)
        if assigned is None:
            self.notes.append(texts.COMPACT_AMBIGUOUS)
            return self.ask(slot, header=False)
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for n, q, part in assigned:
            try:
                values[q.key] = self.parse_part(q, values, part)
            except ParseError as exc:
                if not strict:
                    return None  # a comma-separated line that does not read as parts is one answer
                errors[q.key] = texts.COMPACT_PART_ERROR.format(n=n, label=q.label, error=exc.message)
        real: Slot | None = None
        for q in questions:
            if q.key in values:
                target = real or slot
                real = self.set_answer(Slot(section.key, target.item, q.key, new=real is None and slot.new),
                                       values[q.key])
        if real is not None:
            summary = " · ".join(format_value(q, values[q.key]) for q in questions if q.key in values)
            self.notes.append(texts.COMPACT_ACK.format(summary=summary))
        self.notes += [errors[q.key] for q in questions if q.key in errors]
        if real is None:  # every part failed: their errors, and the same question again
            return self.ask(slot, header=False)
        item_values = scope(self.answers, section.key, real.item)
        gaps = [q for q in questions if (q.required or q.key in errors) and is_relevant(q, item_values, AnswersLookup(self.answers))
                and q.key not in item_values]
        untold = [q for q in gaps if q.key not in errors]
        if untold:
            self.notes.append(texts.COMPACT_MISSING.format(labels=", ".join(q.label for q in untold)))
        if gaps:
            return self.ask(Slot(section.key, real.item, gaps[0].key), header=False)
        self.cursor = {**self.cursor, "stage": "ask", "slot": real.to_json()}
        return self.after_store(section, real)

    @staticmethod
    def assign_parts(questions: list[Question], phone_q: Question | None,
                     parts: list[str]) -> list[tuple[int, Question, str]] | None:
        """(part number, question, part): a phone-like part goes to the phone question, the rest in order.

        None when the parts cannot be placed without a guess (two phone numbers for one phone question).
        """
        numbered = list(enumerate(parts, 1))
        phones = [(n, part) for n, part in numbered if looks_like_phone(part)] if phone_q is not None else []
        if not phones:
            return [(n, q, part) for q, (n, part) in zip(questions, numbered)]
        if len(phones) > 1:
            return None
        others = [q for q in questions if q is not phone_q]
        rest = [(n, part) for n, part in numbered if (n, part) not in phones]
        if len(rest) > len(others):
            return None
        out = [(n, q, part) for q, (n, part) in zip(others, rest)]
        out += [(n, phone_q, part) for n, part in phones]
        return sorted(out, key=lambda t: t[0])

    def parse_part(self, question: Question, values: Mapping[str, Any], part: str) -> Any:
        """One part of a compact message: a skip word leaves an optional question empty."""
        command = parse_command(part)
        if command is not None and command[0] in ("skip", "none"):
            if question.required:
                raise ParseError(question.required_message or texts.SKIP_REQUIRED)
            return None
        return self.parse(question, values, Text(part))

    # -- soft warnings ---------------------------------------------------------------------------

    def warn_reply(self) -> Reply:
        slot = self.slot()
        section = self.form.section(slot.section)
        question = section.question(slot.question)
        values = scope(self.answers, section.key, slot.item)
        limit_q = section.question(question.not_above)
        value = self.cursor["value"]
        text = texts.SOFT_WARNING.format(label=question.label, value=value, other=limit_q.label,
                                         limit=values.get(limit_q.key))
        return self.reply(text, options=(Option("keep", texts.KEEP_VALUE.format(value=value)),
                                         Option("redo", texts.REDO_VALUE)))

    def on_warning(self, event: Event) -> Reply:
        choice = None
        if isinstance(event, Pick):
            if event.value not in ("keep", "redo"):
                self.notes.append(texts.STALE_BUTTON)
                return self.warn_reply()
            choice = event.value
        elif isinstance(event, Text):
            choice = self.warning_choice(event.text)
        else:
            self.notes.append(texts.WARNING_NEEDS_CHOICE)
            return self.warn_reply()
        slot = self.slot()
        if choice == "keep":
            return self.store(slot, self.cursor["value"])
        self.cursor = {**self.cursor, "stage": "ask"}
        self.cursor.pop("value", None)
        if choice == "redo":
            return self.ask(slot, header=False)
        return self.answer(event)  # a corrected number typed straight away

    def warning_choice(self, raw: str) -> str | None:
        """“keep” or “redo” from what the person typed (a number, a label, “có”, “đúng”), else None."""
        try:
            return parse_choice(raw, [("keep", texts.KEEP_VALUE.format(value=self.cursor["value"])),
                                      ("redo", texts.REDO_VALUE)])
        except ParseError:
            pass
        if fold(raw).rstrip(" .!") in {fold(w) for w in texts.KEEP_WORDS}:
            return "keep"
        try:
            return "keep" if parse_yes_no(raw) else "redo"
        except ParseError:
            return None

    # -- the edit menu ---------------------------------------------------------------------------

    def current_menu(self, menu: Mapping[str, Any]) -> dict[str, Any]:
        """The menu, moved up a level when its section or item is gone (another contact deleted it)."""
        menu = dict(menu)
        if menu["level"] != "sections" and menu.get("s") not in {s.key for s in self.form.sections}:
            return {"level": "sections"}
        if menu["level"] in ("fields", "delete") and menu.get("i") is not None and \
                menu["i"] not in item_numbers(self.answers, menu["s"]):
            return {"level": "items", "s": menu["s"]}
        return menu

    def show_menu(self, menu: Mapping[str, Any]) -> Reply:
        menu = self.current_menu(menu)
        self.cursor = {**{k: v for k, v in self.cursor.items() if k == "resume"}, "stage": "menu", "menu": menu}
        level = menu["level"]
        if level == "sections":
            options = [Option(f"s:{s.key}", s.title) for s in self.form.sections]
            return self.reply(texts.MENU_SECTIONS, options=(*options, Option("x", texts.MENU_DONE)))
        section = self.form.section(menu["s"])
        if level == "items":
            numbers = item_numbers(self.answers, section.key)
            options = [Option(f"i:{n}", item_title(section, scope(self.answers, section.key, n), stt))
                       for stt, n in enumerate(numbers, 1)]
            link = section.questions[0]  # a list inside a list: an item to add needs a parent item offered
            if below_most(section, len(numbers), AnswersLookup(self.answers)) and \
                    (not link.item_of or self.choices(link, {})):
                options.append(Option("add", texts.MENU_ADD.format(item=section.repeat.item)))
            return self.reply(texts.MENU_ITEMS.format(section=section.title),
                              options=(*options, Option("x", texts.MENU_DONE)))
        item = menu.get("i")
        values = scope(self.answers, section.key, item)
        if level == "delete":
            name = item_title(section, values, item_numbers(self.answers, section.key).index(item) + 1)
            question = texts.MENU_CONFIRM_DELETE.format(name=name, section=section.title)
            for child, parent in self.form.links:  # the items of lists inside this one go with it: said
                link = child.questions[0].key
                mine = [n for n in item_numbers(self.answers, child.key)
                        if (self.answers.get(key(child.key, link, n)) or {}).get("item") == item]
                if parent.key == section.key and mine:
                    question += " " + texts.MENU_DELETE_WITH.format(count=len(mine), item=child.repeat.item,
                                                                             name=name)
            return self.reply(question,
                              options=(Option("yes", texts.DELETE_YES), Option("no", texts.DELETE_NO)))
        lookup = AnswersLookup(self.answers)
        options = [Option(f"f:{q.key}", f"{q.label}: {format_answer(q, values) if q.key in values else texts.VALUE_EMPTY}")
                   for q in section.asked if is_relevant(q, values, lookup)]
        if section.repeat is not None:
            options.append(Option("del", texts.MENU_DELETE.format(item=section.repeat.item)))
        title = section.title if item is None else \
            f"{section.title} – {item_title(section, values, item_numbers(self.answers, section.key).index(item) + 1)}"
        return self.reply(texts.MENU_FIELDS.format(title=title), options=(*options, Option("x", texts.MENU_DONE)))

    def menu_word(self, menu: Mapping[str, Any], raw: str) -> str | None:
        """A menu choice typed as words: a field's label (“giới tính”), a person's name, “có”/“không”."""
        if menu["level"] == "delete":
            try:
                return "yes" if parse_yes_no(raw) else "no"
            except ParseError:
                return None
        if menu["level"] == "sections":
            return None
        section = self.form.section(menu["s"])
        if menu["level"] == "items":
            names = [(f"i:{n}", str(item_name(section, scope(self.answers, section.key, n)) or ""))
                     for n in item_numbers(self.answers, section.key)]
        else:
            values = scope(self.answers, section.key, menu.get("i"))
            lookup = AnswersLookup(self.answers)
            names = [(f"f:{q.key}", q.label) for q in section.asked if is_relevant(q, values, lookup)]
        try:
            return parse_choice(raw, names)
        except ParseError:
            return None

    def on_menu(self, event: Event) -> Reply:
        menu = self.current_menu(self.cursor["menu"])
        saved_notes, self.notes = self.notes, []
        options = self.show_menu(menu).options
        self.notes = saved_notes
        self.cursor = {**self.cursor, "stage": "menu", "menu": menu}
        value = None
        if isinstance(event, Pick):
            value = event.value if event.value in {o.value for o in options} else None
            if value is None:
                self.notes.append(texts.STALE_BUTTON)
        elif isinstance(event, Text):
            try:
                value = parse_choice(event.text, [(o.value, o.label) for o in options])
            except ParseError:
                value = self.menu_word(menu, event.text)
                if value is None:  # the menu itself follows: no need to list the options twice
                    self.notes.append(texts.CHOICE_NOT_IN_LIST.format(raw=clean_text(event.text, multiline=False)[:40]))
        else:
            self.notes.append(texts.MENU_EXPECTS_CHOICE)
        if value is None:
            return self.show_menu(menu)
        if value == "x":
            return self.leave_menu()
        level = menu["level"]
        if level == "sections":
            section = self.form.section(value[2:])
            if section.repeat is None:
                return self.show_menu({"level": "fields", "s": section.key, "i": None})
            return self.show_menu({"level": "items", "s": section.key})
        section = self.form.section(menu["s"])
        if level == "items":
            if value == "add":
                self.answers.pop(key(section.key, DONE), None)
                self.cursor = {"resume": self.cursor.get("resume"), "mode": "fill", "adding": section.key}
                return self.ask(Slot(section.key, None, first_question(section, self.answers).key, new=True))
            return self.show_menu({"level": "fields", "s": section.key, "i": int(value[2:])})
        if level == "delete":
            if value == "yes":
                values = scope(self.answers, section.key, menu["i"])
                self.delete_item(section, menu["i"])
                self.notes.append(texts.ITEM_DELETED.format(name=item_name(section, values) or ""))
            return self.show_menu({"level": "items", "s": section.key})
        if value == "del":
            return self.show_menu({**menu, "level": "delete"})
        self.cursor = {"resume": self.cursor.get("resume"), "mode": "edit"}
        return self.ask(Slot(section.key, menu.get("i"), value[2:]))

    def leave_menu(self) -> Reply:
        resume = Slot.from_json(self.cursor.get("resume"))
        self.cursor = {"mode": "fill"}
        if resume is not None and not resume.new and not self.absent(resume):
            return self.advance(resume)
        nxt = self.next_absent(None if resume is None else resume)
        if resume is not None and self.absent(resume) and resume in self.slots():
            nxt = resume
        return self.ask(nxt) if nxt else self.finish()

    def enter_menu(self, arg: str) -> Reply:
        if self.cursor.get("stage") in ("ask", "more"):
            resume = self.cursor.get("slot")
        else:
            resume = self.cursor.get("resume")
        self.cursor = {"resume": resume}
        if arg:
            n = int(arg)
            if 1 <= n <= len(self.form.sections):
                section = self.form.sections[n - 1]
                if section.repeat is None:
                    return self.show_menu({"level": "fields", "s": section.key, "i": None})
                return self.show_menu({"level": "items", "s": section.key})
            self.notes.append(texts.MENU_NO_SUCH_SECTION.format(n=n, count=len(self.form.sections)))
        return self.show_menu({"level": "sections"})

    # -- commands --------------------------------------------------------------------------------

    def say_none(self, raw: str) -> Reply:
        """“không có”: closes a repeat, skips an optional question, answers no; otherwise it is an answer."""
        slot = self.slot() if self.cursor.get("stage") == "ask" else None
        if slot is None:
            return self.dispatch_answer(Text(raw))
        section = self.form.section(slot.section)
        question = section.question(slot.question)
        if slot.new and (self.cursor.get("adding") != section.key or question.item_of):
            return self.close_repeat(section, slot)  # says so when the list needs more items
        if question.type in ("yes_no", "choice"):
            return self.dispatch_answer(Text(raw))
        if question.type in ("integer", "decimal"):
            return self.dispatch_answer(Text("0"))  # "không có" thủ tục nào: a count of zero
        if not question.required:
            return self.store(slot, None)
        if question.deferrable:
            return self.command("skip", "")
        self.notes.append(question.required_message or texts.SKIP_REQUIRED)
        return self.ask(slot, header=False)

    def dispatch_answer(self, event: Event) -> Reply:
        if is_locked(self.report, self.now):
            return self.read_only()
        stage = self.cursor.get("stage")
        if stage == "menu":
            return self.on_menu(event)
        if stage == "warn":
            return self.on_warning(event)
        if stage == "other":
            return self.on_other(event)
        if stage == "more":
            return self.on_more(event)
        if stage == "end":
            self.notes.append(texts.END_HINT)
            return self.finish()
        return self.answer(event)

    def command(self, name: str, arg: str, raw: str = "", *, greeting: bool = False) -> Reply:
        stage = self.cursor.get("stage")
        if name in ("help", "review", "start"):
            if name == "help":
                self.notes.append(texts.HELP)
            elif name == "review" and arg:
                section = find_section(self.form, arg)
                self.notes.append(review_section(section, self.answers) if section else
                                  texts.REVIEW_NO_SUCH_SECTION.format(ref=arg.upper(), count=len(self.form.sections)))
            elif name == "review":
                self.notes.append(review_summary(self.form, self.answers))
            elif greeting and self.recently_seen():
                # "chào em" in the middle of the conversation: no welcome, just the question again, briefly.
                if self.cursor.get("stage") == "ask" and not is_locked(self.report, self.now):
                    return self.ask(self.slot(), header=False)
            else:
                self.notes.append(texts.WELCOME_BACK.format(unit=self.report.unit_name))
            # After the deadline no question is asked again: it could not be answered.
            return self.read_only() if is_locked(self.report, self.now) else self.reask()
        if name == "submit":
            return self.submit()
        if is_locked(self.report, self.now):
            return self.read_only()
        if name == "none":
            return self.say_none(raw)
        if name == "edit":
            return self.enter_menu(arg)
        if name == "missing":
            self.cursor = {"mode": "missing"}
            nxt = self.next_missing(None)
            return self.ask(nxt) if nxt else self.finish()
        if stage == "menu":
            if name in ("done", "skip"):
                return self.leave_menu()
            if name == "back":
                menu = self.cursor["menu"]
                if menu["level"] == "sections":
                    return self.leave_menu()
                if menu["level"] in ("fields", "delete") and menu.get("i") is not None:
                    return self.show_menu({"level": "items", "s": menu["s"]} if menu["level"] == "fields"
                                          else {**menu, "level": "fields"})
                return self.show_menu({"level": "sections"})
        if stage == "more":  # "Thêm … nữa không?": "xong"/"bỏ qua" say no; "quay lại" goes to the last answer
            slot = self.slot()
            if name == "back":
                return self.back(slot)
            if name in ("done", "skip"):
                return self.close_repeat(self.form.section(slot.section), slot)
            return self.more_reply()
        if stage == "other":  # the text of "Khác (ghi rõ)" is awaited: back to the choice, or the text again
            if name == "back":
                self.cursor = {**self.cursor, "stage": "ask"}
                return self.ask(self.slot(), header=False)
            return self.other_reply()
        if stage == "warn":
            if name == "back":
                self.cursor = {**self.cursor, "stage": "ask"}
                return self.ask(self.slot(), header=False)
            self.notes.append(texts.WARNING_NEEDS_CHOICE)
            return self.warn_reply()
        if stage != "ask":
            if name == "back" and stage == "end":
                last = self.back_target(None)
                if last is not None:
                    self.cursor = {"mode": "fill"}
                    return self.ask(last)
            self.notes.append(texts.NOTHING_TO_SKIP if name in ("skip", "done") else texts.NOTHING_BEFORE)
            return self.reask()
        slot = self.slot()
        section = self.form.section(slot.section)
        question = section.question(slot.question)
        if name == "back":
            return self.back(slot)
        if name == "done":
            return self.done(section, question, slot)
        # skip
        if slot.new and self.cursor.get("adding") != section.key:
            return self.close_repeat(section, slot)
        current = key(section.key, question.key, slot.item)
        if current in self.answers and self.answers[current] is not None:
            return self.advance(slot)
        if question.required and not question.deferrable:
            self.notes.append(question.required_message or texts.SKIP_REQUIRED)
            return self.ask(slot, header=False)
        if question.deferrable:
            self.notes.append(texts.DEFERRED)
        return self.store(slot, None)

    def done(self, section: Section, question: Question, slot: Slot) -> Reply:
        """“xong”: close the list being entered, leaving the rest of a finished item's optional questions."""
        if self.cursor.get("mode") == "edit":
            return self.show_menu({"level": "fields", "s": section.key, "i": slot.item})
        if slot.new:
            return self.close_repeat(section, slot)
        if section.repeat is None:
            if question.required and self.absent(slot):
                self.notes.append(texts.DONE_NO_LIST)
                return self.ask(slot, header=False)
            return self.command("skip", "")
        rest = [s for s in self.slots()
                if s.section == section.key and s.item == slot.item and self.absent(s)]
        if any(section.question(s.question).required and not section.question(s.question).deferrable for s in rest):
            self.notes.append(texts.DONE_NOT_HERE.format(item=section.repeat.item))
            return self.ask(slot, header=False)
        for s in rest:
            self.set_answer(s, None)
        if any(section.question(s.question).deferrable for s in rest):
            self.notes.append(texts.DEFERRED)
        return self.close_repeat(section, Slot(section.key, None, first_question(section, self.answers).key, new=True))

    def close_repeat(self, section: Section, slot: Slot) -> Reply:
        count = len(item_numbers(self.answers, section.key))
        fewest = section.repeat.bounds(lookup=AnswersLookup(self.answers))[0]
        if count < fewest:
            self.notes.append(texts.NEED_MIN_ITEMS.format(min=fewest, item=section.repeat.item))
            return self.ask(slot, header=False)
        self.answers[key(section.key, DONE)] = True
        self.changed = True
        return self.advance(slot)

    def back(self, slot: Slot) -> Reply:
        if self.cursor.get("mode") == "edit":  # back to the menu the field was chosen from
            return self.show_menu({"level": "fields", "s": slot.section, "i": slot.item})
        earlier = self.back_target(slot)
        if earlier is None:
            self.notes.append(texts.NOTHING_BEFORE)
            return self.ask(slot, header=False)
        return self.ask(earlier)

    def submit(self) -> Reply:
        if is_locked(self.report, self.now):
            return self.read_only()
        gaps = self.gaps()
        if gaps:
            self.notes.append(texts.CANNOT_SUBMIT.format(items="\n".join(f"- {m.describe()}" for m in gaps)))
            return self.reask()
        if self.report.is_submitted and not self.report.changed_since_submit:
            self.notes.append(texts.ALREADY_SUBMITTED.format(at=format_datetime(self.report.submitted_at)))
            return self.reask()
        # Whether the unit met its deadline is settled by its first submission: a correction sent later (asked
        # for by the department, or its own) does not make an on-time report late.
        self.record_meta(submitting=True)
        first = self.report.first_submitted_at or self.report.submitted_at or self.now
        late = first > self.report.deadline_at
        self.report = dataclasses.replace(self.report, status=SUBMITTED_LATE if late else SUBMITTED,
                                          submitted_at=self.now, first_submitted_at=first,
                                          changed_since_submit=False,
                                          review=None, review_comment=None)
        self.cursor = {"stage": "end"}
        text = texts.SUBMITTED_LATE if late else texts.SUBMITTED
        self.notes.append(text.format(at=format_datetime(self.now), deadline=format_datetime(self.report.deadline_at)))
        return self.reply()

    def back_from_web(self) -> Reply:
        """The first message after answers were saved on the web page: nothing is taken as an answer to a
        question the person has not seen; the chat goes on from the first question still missing."""
        self.notes.append(texts.WEB_BACK_IN_CHAT)
        if is_locked(self.report, self.now):
            return self.read_only()
        self.cursor = {"mode": "fill"}
        nxt = self.next_missing(None) or self.next_absent(None)
        return self.ask(nxt) if nxt else self.finish()

    def recently_seen(self) -> bool:
        """Whether the person's previous message came less than ABSENCE ago."""
        seen = self.previous_seen
        return seen is not None and self.now - seen < ABSENCE

    def read_only(self) -> Reply:
        if self.report.review == ACCEPTED:
            self.notes.append(texts.READ_ONLY_ACCEPTED)
        else:
            self.notes.append(texts.READ_ONLY.format(deadline=format_datetime(self.report.deadline_at)))
        return self.reply()


_OUTPUT = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}")


def note_text(form: Form, answers: Mapping[str, Any], section: Section, note: Question,
              values: Mapping[str, Any]) -> str:
    """A note's text, each `${name}` in it replaced by that answer (of its scope, else of a plain section); the chat
    says it, the page shows it."""
    above: dict[str, int | None] = {}  # the lists this item's list is inside: the item it belongs to in each
    inner, link = section, values.get(section.questions[0].key)
    while inner.questions[0].item_of and inner.questions[0].item_of not in above:
        item = link.get("item") if isinstance(link, dict) else None
        above[inner.questions[0].item_of] = item
        inner = form.section(inner.questions[0].item_of)
        link = answers.get(key(inner.key, inner.questions[0].key, item)) if item is not None else None

    def value_of(m: re.Match) -> str:
        name = m[1]
        for s in (section, *form.sections):
            if s is not section and s.repeat is not None and s.key not in above:
                continue
            found = next((q for q in s.questions if q.key == name), None)
            if found is not None:
                if s is not section and s.key in above and above[s.key] is None:
                    return "…"  # the item it belongs to is not chosen yet
                where = values if s is section else scope(answers, s.key, above.get(s.key))
                return format_answer(found, where) if where.get(name) is not None else "…"
        return m[0]
    return _OUTPUT.sub(value_of, note.prompt)


def step(form: Form, state: State, event: Event, now: datetime) -> tuple[State, list[Reply]]:
    """Apply one event: the new state (answers, report, cursor) and the replies to send, in order."""
    turn = _Turn(form, state, now)
    if isinstance(event, Text):
        # Line and paragraph separators (U+2028, U+2029, NEL...) split a compact answer as a newline does.
        event = Text(normalize_line_breaks(event.text))
    reply = _dispatch(turn, event)
    cursor = {**turn.cursor, "seen": now.isoformat()} if turn.cursor else turn.cursor
    new_state = State(answers=turn.answers, report=turn.report, cursor=cursor, contact=state.contact)
    return new_state, [reply]


def _dispatch(turn: _Turn, event: Event) -> Reply:
    stage = turn.cursor.get("stage")
    if not stage:
        turn.notes.append(texts.WELCOME.format(unit=turn.report.unit_name, title=turn.report.title or turn.form.title,
                                               deadline=format_datetime(turn.report.deadline_at)))
        if is_locked(turn.report, turn.now):
            # Welcomed once; later messages get the read-only answer only. Marked: no question was ever asked.
            turn.cursor = {"stage": "end", "locked": True}
            return turn.read_only()
        turn.cursor = {"mode": "fill"}
        nxt = turn.next_absent(None)
        if nxt is None:
            return turn.finish()
        return turn.ask(nxt)
    if stage == "end" and turn.cursor.get("locked") and not is_locked(turn.report, turn.now):
        # Issue 22: welcomed while the report was locked, reopened since (`hcc-bot reopen`): the questions start now,
        # at the first unanswered one, instead of "you answered every question" over an empty report.
        turn.cursor = {"mode": "fill"}
        nxt = turn.next_absent(None)
        return turn.ask(nxt) if nxt is not None else turn.finish()
    if turn.cursor.pop("web", None) and stage != "end":
        command = parse_command(event.text) if isinstance(event, Text) else None
        if command is None or command[0] == "start":  # a greeting too; "xem lại", "nộp"… work as usual
            return turn.back_from_web()
    if stage in ("ask", "warn", "other", "more") and not turn.slot_is_current():
        # Another contact of the unit deleted this item or changed an answer it depended on (or the form
        # changed): the event is not stored under a question that no longer applies.
        turn.relocate()
        is_command = isinstance(event, (Start, Resume)) or isinstance(event, Text) and parse_command(event.text)
        if not is_command:
            turn.notes.append(texts.QUESTION_GONE)
            return turn.read_only() if is_locked(turn.report, turn.now) else turn.reask()
        stage = turn.cursor.get("stage")
    if isinstance(event, Resume):
        return turn.read_only() if is_locked(turn.report, turn.now) else turn.reask()
    if isinstance(event, Start):
        return turn.command("start", "")
    if isinstance(event, Text):
        command = parse_command(event.text)
        if command is not None:
            # A typed "chào em" is a greeting; "/start" or "bắt đầu" asks to (re)start explicitly.
            greeting = command[0] == "start" and not fold(event.text).lstrip("/").startswith(("start", "bat dau"))
            return turn.command(*command, raw=event.text, greeting=greeting)
    if is_locked(turn.report, turn.now):
        return turn.read_only()
    if stage == "menu":
        return turn.on_menu(event)
    if stage == "warn":
        return turn.on_warning(event)
    if stage == "other":
        return turn.on_other(event)
    if stage == "more":
        return turn.on_more(event)
    if stage == "end":
        if isinstance(event, (Photo, PhotoRefused, Unsupported)):
            turn.notes.append(texts.UNSUPPORTED_MESSAGE if isinstance(event, Unsupported) else texts.PHOTO_NOT_EXPECTED)
        elif isinstance(event, Pick):
            turn.notes.append(texts.STALE_BUTTON)
        else:
            turn.notes.append(texts.END_HINT)
        return turn.finish()
    return turn.answer(event)


# --- The web page: another channel on the same state (design.md, "The web form is another channel") --------


@dataclass(frozen=True)
class WebSave:
    """Fields saved on the page: (field path, raw value) pairs, each checked by conversations/fields.py."""

    fields: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class WebPhoto:
    """A photo chosen on the page for one field: the stored photo, or why the photo pipeline refused it."""

    path: str
    photo: Photo | PhotoRefused


@dataclass(frozen=True)
class WebDeleteItem:
    section: str
    item: int


@dataclass(frozen=True)
class WebSubmit:
    pass


WebEvent = WebSave | WebPhoto | WebDeleteItem | WebSubmit


@dataclass
class WebResult:
    """What the page shows after a web event: an error or a note next to each field, where new items went."""

    errors: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # kept, with a warning (a count above another, a photo)
    saved: dict[str, str] = field(default_factory=dict)  # path sent -> the answer's real path (a new item's number)
    message: str = ""  # the report-wide outcome (read-only, submitted, cannot submit)
    submitted: bool = False


def web_step(form: Form, state: State, event: WebEvent, now: datetime) -> tuple[State, WebResult]:
    """Apply one web event to the same state the chat uses. A refused field stores nothing; after any change the
    chat, when the person returns to it, goes on from the first question still missing (never taking their next
    message as the answer to a question they have not seen)."""
    turn = _Turn(form, state, now)
    result = WebResult()
    if is_locked(turn.report, now):
        result.message = turn.read_only().text
        return state, result
    today = now.astimezone(LOCAL_TZ).date()
    if isinstance(event, WebSave):
        new_items: dict[str, int] = {}
        for path, raw in event.fields:
            _web_field(turn, path, raw, today, new_items, result)
    elif isinstance(event, WebPhoto):
        _web_photo(turn, event, today, result)
    elif isinstance(event, WebDeleteItem):
        try:
            section = form.section(event.section)
        except KeyError:
            section = None
        if section is None or section.repeat is None or event.item not in item_numbers(turn.answers, section.key):
            result.message = texts.WEB_ITEM_GONE
        else:
            turn.delete_item(section, event.item)
    elif isinstance(event, WebSubmit):
        before = turn.report.submitted_at
        if not missing(form, turn.answers) and not is_locked(turn.report, now):
            # Left empty on a page that showed it: said "none", as "bỏ qua" says it in the chat.
            for slot in all_slots(form, turn.answers):
                k = key(slot.section, slot.question, slot.item)
                if not slot.new and k not in turn.answers:
                    turn.answers[k] = None
                    turn.changed = True
        result.message = turn.submit().text
        result.submitted = turn.report.submitted_at != before
    cursor = dict(turn.cursor)
    if turn.changed and cursor.get("stage") not in (None, "end"):
        cursor["web"] = True
    return State(answers=turn.answers, report=turn.report, cursor=cursor, contact=state.contact), result


def _web_field(turn: _Turn, path: str, raw: Any, today: date, new_items: dict[str, int], result: WebResult) -> None:
    try:
        place, value = fields.check_field(turn.form, turn.answers, path, raw, today)
    except ParseError as exc:
        result.errors[path] = exc.message
        return
    section, question = place.section, place.question
    item = place.item
    if item == fields.NEW_ITEM:
        item = new_items.get(section.key)
        if item is None and value is None:
            return  # an empty field of an item not created yet
    if item is None and section.repeat is not None:  # the first value of a new item creates it
        most = section.repeat.bounds(lookup=AnswersLookup(turn.answers))[1]
        if most is not None and len(item_numbers(turn.answers, section.key)) >= most:
            result.errors[path] = texts.WEB_TOO_MANY_ITEMS.format(max=most, item=section.repeat.item)
            return
        real = turn.set_answer(Slot(section.key, None, question.key, new=True), value)
        new_items[section.key] = real.item
        result.saved[path] = fields.field_path(section.key, real.item, question.key)
        return
    k = fields.answer_key(place, item)
    if value is None and turn.answers.get(k) is None:
        return  # emptied and empty: nothing to do
    if place.other:
        if turn.answers.get(k) != value:
            turn.answers[k] = value
            turn._touch()
    else:
        turn.set_answer(Slot(section.key, item, question.key), value)
        values = scope(turn.answers, section.key, item)
        limit = values.get(question.not_above) if question.not_above else None
        if isinstance(limit, int) and isinstance(value, (int, float)) and value > limit:
            result.notes[path] = texts.WEB_ABOVE.format(
                label=question.label, value=value, other=section.question(question.not_above).label, limit=limit)
    result.saved[path] = fields.field_path(section.key, item, k.rpartition(".")[2])


def _web_photo(turn: _Turn, event: WebPhoto, today: date, result: WebResult) -> None:
    path = event.path
    try:
        place = fields.resolve(turn.form, turn.answers, path)
        if place.question.type != "photo" or place.other:
            raise ParseError(texts.PHOTO_NOT_EXPECTED)
        item = None if place.item == fields.NEW_ITEM else place.item
        values = scope(turn.answers, place.section.key, item) if item is not None or place.section.repeat is None \
            else {}
        if not is_relevant(place.question, values, AnswersLookup(turn.answers)):
            raise ParseError(texts.WEB_NOT_ASKED)
        if isinstance(event.photo, PhotoRefused):
            raise ParseError(event.photo.message)
        if place.item == fields.NEW_ITEM:
            raise ParseError(texts.WEB_PHOTO_NEW_ITEM)
        value = fields.check_constraint(place.question, values, event.photo.photo_id, turn.answers)
    except ParseError as exc:
        result.errors[path] = exc.message
        return
    turn.set_answer(Slot(place.section.key, item, place.question.key), value)
    result.saved[path] = path
    photo = event.photo
    lines = []
    if photo.cropped:
        lines.append(texts.PHOTO_WARN_LANDSCAPE)
    if photo.small is not None:
        lines.append(texts.PHOTO_WARN_SMALL.format(width=photo.small[0], height=photo.small[1]))
    if lines:
        result.notes[path] = "\n".join(lines)
