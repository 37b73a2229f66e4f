"""The report form as data: dataclasses, and a loader that validates the YAML file when it loads.

A form may also be authored as an XLSForm workbook: conversations/xlsform.py reads it into the same vocabulary
(`load_form_file` takes either kind of file). `relevant`, `constraint`, `calculation` and a repeat's
`count` are expressions of the XPath subset in conversations/xpath.py, parsed here once, when the form loads, and
bound to where each `${name}` is read: the question's own section (or repeat item) first, else another section —
earlier or later, as XLSForm allows (a question not answered yet reads as empty, as in ODK); a question's own name
in its relevant or calculation reads its own answer. A name that is no question of the form is refused.

Questions that are never asked: `note` (a text said in the chat before the next question, never stored),
`calculate` (its `calculation` stored with the answers, recomputed as they change) and `meta` (what the bot
records itself: `meta: start|end|today|deviceid|username|phonenumber`, see META_KINDS).

A list inside a list (XLSForm's repeat in a repeat: people of a unit, each with their trainings) is a repeat
section of its own after its parent's, whose first question is `item_of: <the parent section>`: a choice among
the parent's items, stored as {"item": n, "name": "…"} (the name kept up to date with the parent's item, and
the item deleted with its parent: see answers.refresh_links). A `${name}` of the parent's questions read in
it is the linked item's answer.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from conversations import texts
from conversations.xpath import NO_LOOKUP, Expression, Lookup, XPathError, parse_expression

QUESTION_TYPES = ("text", "name", "long_text", "phone", "times", "integer", "decimal", "date", "choice",
                  "multi_choice", "yes_no", "photo", "note", "calculate", "meta", "time", "datetime", "geopoint")
NOT_ASKED = ("note", "calculate", "meta")  # never asked in the chat, never a required answer
# meta kinds the bot records (start: the first answer, end: the submission, today: the date of the first answer,
# deviceid: the channel, username/phonenumber: the contact's); other XLSForm kinds are accepted and store nothing.
META_KINDS = ("start", "end", "today", "deviceid", "username", "phonenumber")
OTHER = "other"  # the value of the "Khác (ghi rõ)" option of an `or_other` question
OTHER_SUFFIX = "_other"  # its text is stored under `<key>_other`, as XLSForm does
CHOICE_TYPES = ("choice", "multi_choice")
CONDITION_OPS = ("equals", "not_equals", "gt")
# The fields each part of the file may have: a misspelt one ("requird") would otherwise be ignored silently.
FORM_FIELDS = ("id", "title", "version", "choice_lists", "sections")
SECTION_FIELDS = ("key", "title", "intro", "repeat", "compact", "questions")
QUESTION_FIELDS = ("key", "label", "prompt", "type", "required", "ask_if", "choices", "filter_by", "choice_filter",
                   "not_above", "not_before", "deferrable", "personal", "hint", "required_message", "constraint",
                   "constraint_message", "relevant", "badge", "calculation", "meta", "or_other", "item_of")
REPEAT_FIELDS = ("min", "max", "item", "count")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
BADGE_SECTIONS = ("main_staff", "backup_staff")  # badge photos of a form that marks none (the shipped form's)
FORMS_DIR = Path(__file__).parent / "forms"
# Limits a form file cannot pass (issue 22): the largest real XLSForms have a few hundred rows and labels of a few
# hundred characters; a chat message is at most 4,096 characters. bot/form_files.py adds the file's own limits.
MAX_QUESTIONS = 10_000
MAX_LABEL = 2_000
DEFAULT_FORM = FORMS_DIR / "report.yaml"


class FormError(ValueError):
    """The form file is broken; str() is one line naming the file, the field and the problem.

    A mistake parse_form finds also carries its problem's template (a texts.FORM_ERR_* constant) and the values
    put in it: conversations/xlsform.py says the same mistake in a workbook's words (texts.XLSFORM_FORM_PROBLEMS).
    """

    def __init__(self, message: str, problem: str | None = None, values: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.problem = problem
        self.values = dict(values or {})


def in_vietnamese(problem: str, said: Mapping[str, str]) -> str:
    """An English problem (of PyYAML, of the evaluator) as the author reads it: the first of `said`'s regular
    expressions that matches the whole problem, its groups put in its text; unchanged when none does."""
    for english, vietnamese in said.items():
        if m := re.fullmatch(english, problem):
            return vietnamese.format(*m.groups())
    return problem


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    when: str | tuple[str, ...] | None = None  # offered when the filter's answer is this (each, for several)
    columns: tuple[tuple[str, str], ...] = ()  # its other columns, for a choice_filter expression that reads them

    def row(self) -> dict[str, str]:
        """The choice as a choice_filter reads it: `name`, `label` and its other columns."""
        return {**dict(self.columns), "name": self.value, "label": self.label}


@dataclass(frozen=True)
class Condition:
    key: str
    op: str
    value: Any

    def holds(self, answers: Mapping[str, Any]) -> bool:
        """Whether the condition is true for the answers of one scope (a section or one item)."""
        actual = answers.get(self.key)
        if self.op == "equals":
            return actual == self.value
        if self.op == "not_equals":
            return actual is not None and actual != self.value
        return isinstance(actual, int) and not isinstance(actual, bool) and actual > self.value


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    prompt: str
    type: str
    required: bool = True
    ask_if: Condition | None = None
    choices: tuple[Choice, ...] = ()
    filter_by: str | tuple[str, ...] | None = None  # an earlier question (or several) whose answers filter
    not_above: str | None = None
    not_before: str | None = None
    deferrable: bool = False
    personal: bool = False  # personal data (Decree 13/2023): removed by `hcc-bot purge` after the campaign
    hint: str | None = None  # said after the prompt
    required_message: str | None = None  # said instead of the generic text when a required answer is skipped
    constraint: Expression | None = None  # must hold for a new answer (`.`), else constraint_message
    constraint_message: str | None = None
    relevant: Expression | None = None  # an alternative to ask_if (XLSForm's `relevant`)
    badge: bool = False  # a photo printed on the staff badges
    calculation: Expression | None = None  # type calculate: the value stored with the answers
    meta: str | None = None  # type meta: what the bot records (META_KINDS; another kind records nothing)
    or_other: bool = False  # choice / multi_choice: a last option "Khác (ghi rõ)" that asks for the text
    choice_filter: Expression | None = None  # XLSForm's, any other shape: which choices are offered (see options)
    item_of: str | None = None  # a choice among the items of this (earlier) repeat section: the parent's item

    def is_asked(self, values: Mapping[str, Any], lookup: Lookup = NO_LOOKUP) -> bool:
        """Whether the question applies, given the other answers of its scope (ask_if or relevant); `lookup`
        reads the answers of other sections a `relevant` names."""
        if self.item_of is not None:  # always asked first; its relevant says which parent items are offered
            return True
        if self.relevant is not None:
            return self.relevant.holds(values, lookup=lookup)
        return self.ask_if is None or self.ask_if.holds(values)

    @property
    def asked(self) -> bool:
        """Whether the chat asks it (a note, a calculation or metadata never is)."""
        return self.type not in NOT_ASKED

    @property
    def other_key(self) -> str:
        """Where the text of "Khác (ghi rõ)" is stored (an `or_other` question)."""
        return self.key + OTHER_SUFFIX

    @property
    def conditional(self) -> bool:
        return self.ask_if is not None or self.relevant is not None

    @property
    def filter_keys(self) -> tuple[str, ...]:
        """The questions whose answers filter the choices (none, one, or several: a cascade's)."""
        if self.filter_by is None:
            return ()
        return (self.filter_by,) if isinstance(self.filter_by, str) else self.filter_by

    @functools.cached_property  # read for every question at every step (is_relevant): worked out once
    def option_keys(self) -> tuple[str, ...]:
        """Every question whose answer changes the choices offered (filter_by's, and those a choice_filter reads)."""
        return self.filter_keys + tuple(sorted(self.choice_filter.fields)) if self.choice_filter else self.filter_keys

    def options(self, scope: Mapping[str, Any]) -> tuple[Choice, ...]:
        """The choices offered, filtered by other answers of the same scope when `filter_by` is set: a choice whose
        `when` is the filter's answer (one value per question, for several); and with a choice_filter, those for
        which it holds (`selected(${fruits}, name)`, `${age} >= min_age`: its bare names are the choice's columns)."""
        offered = self.choices
        if isinstance(self.filter_by, str):
            chosen = _filter_value(scope.get(self.filter_by))
            offered = tuple(c for c in offered if c.when == chosen)
        elif self.filter_by is not None:
            wanted = tuple(_filter_value(scope.get(k)) for k in self.filter_by)
            offered = tuple(c for c in offered if c.when == wanted)
        if self.choice_filter is not None:
            offered = tuple(c for c in offered if self.choice_filter.holds(scope, value=c.row()))
        return offered


def _filter_value(answer: Any) -> Any:
    """An answer as a choice's `when` spells it: a choice's value as it is, a number as typed in a sheet (3, 2.5)."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return answer
    return str(int(answer)) if float(answer).is_integer() else str(answer)


@dataclass(frozen=True)
class Repeat:
    min: int
    max: int | None  # None: open, "Thêm … nữa không?" after each item
    item: str
    count: Expression | None = None  # the number of items, from earlier answers (min and max both)

    def bounds(self, values: Mapping[str, Any] | None = None, lookup: Lookup = NO_LOOKUP) -> tuple[int, int | None]:
        """(fewest, most) items, `count` evaluated on the answers (`lookup`); most None: no limit."""
        if self.count is None:
            return self.min, self.max
        n = self.count.evaluate(values or {}, lookup=lookup)
        try:
            n = max(0, min(int(float(n)), MAX_COUNT))
        except (TypeError, ValueError):
            n = 0
        return n, n

    @property
    def open(self) -> bool:
        """No count nor maximum: after each item the chat asks whether there is another."""
        return self.count is None and self.max is None


MAX_COUNT = 200  # a repeat count from an answer is capped: a typo of 10000 must not ask 10000 items


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    questions: tuple[Question, ...]
    intro: str | None = None
    repeat: Repeat | None = None
    compact: tuple[str, ...] = ()

    def question(self, key: str) -> Question:
        """The question with this key."""
        for q in self.questions:
            if q.key == key:
                return q
        raise KeyError(key)

    @property
    def lead(self) -> Question:
        """The first question the chat asks (an item of a repeat is named by its answer)."""
        return next((q for q in self.questions if q.asked), self.questions[0])

    @functools.cached_property  # read at every step for every section: worked out once
    def asked(self) -> tuple[Question, ...]:
        """The questions the chat asks, in order."""
        return tuple(q for q in self.questions if q.asked)


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    sections: tuple[Section, ...]
    path: Path = field(default=DEFAULT_FORM, compare=False)
    version: str | None = None

    def section(self, key: str) -> Section:
        """The section with this key."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @functools.cached_property
    def calculations(self) -> bool:
        """Whether any question is a calculation (else nothing is recomputed)."""
        return any(q.type == "calculate" for s in self.sections for q in s.questions)

    @functools.cached_property
    def links(self) -> tuple[tuple[Section, Section], ...]:
        """(list inside a list, its parent list) for every section whose first question is an `item_of`."""
        return tuple((s, self.section(s.questions[0].item_of)) for s in self.sections if s.questions[0].item_of)

    @functools.cached_property
    def positions(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(section index, question index) of every question, by (section key, question key)."""
        return {(s.key, q.key): (si, qi) for si, s in enumerate(self.sections) for qi, q in enumerate(s.questions)}

    @functools.cached_property
    def readers(self) -> dict[str, frozenset[str]]:
        """The calculations to recompute when an answer changes: by question key, every calculation that reads it,
        directly or through another calculation (or through its `relevant`); one that reads a question of a list
        it is inside, or of a list inside its own, reads the links between them too."""
        direct: dict[str, set[str]] = {}
        for s in self.sections:
            for q in s.questions:
                if q.type == "calculate":
                    names = q.calculation.fields | (q.relevant.fields if q.relevant else frozenset())
                    for expr in (q.calculation, q.relevant):
                        for _, how in (expr.outer.values() if expr is not None else ()):
                            if isinstance(how, tuple):
                                names |= {k for k, _ in how[1]} if how[0] == "up" else {how[1]}
                    for name in names or {""}:  # "": reads no answer (a constant, today()): recomputed always
                        direct.setdefault(name, set()).add(q.key)
        out: dict[str, frozenset[str]] = {}
        for name in direct:
            seen: set[str] = set()
            todo = [name]
            while todo:
                for reader in direct.get(todo.pop(), ()):
                    if reader not in seen:
                        seen.add(reader)
                        todo.append(reader)
            out[name] = frozenset(seen)
        return out

    @functools.cached_property
    def metas(self) -> tuple[tuple[Section, Question], ...]:
        """The meta questions of plain sections (a meta in a repeat records nothing)."""
        return tuple((s, q) for s in self.sections if s.repeat is None for q in s.questions if q.type == "meta")

    @functools.cached_property
    def reaches_across(self) -> bool:
        """Whether an answer's relevance may depend on another section's answers (a `relevant` naming one)."""
        return any(q.relevant is not None and q.relevant.outer for s in self.sections for q in s.questions)

    def badge_questions(self) -> list[tuple[Section, Question]]:
        """The photo questions whose photos are printed on badges (cropped to 3x4): those marked `badge: true`;
        when the form marks none, the first photo of the template's main and backup staff (before that field
        existed, the shipped form's main and backup staff got badges)."""
        marked = [(s, q) for s in self.sections for q in s.questions if q.type == "photo" and q.badge]
        if marked:
            return marked
        return [(s, q) for s in self.sections if s.key in BADGE_SECTIONS and s.repeat is not None
                for q in [q for q in s.questions if q.type == "photo"][:1]]

    def is_badge(self, section_key: str, question_key: str) -> bool:
        """False for a photo question that is not a badge's (its photos keep their own shape); True otherwise."""
        try:
            question = self.section(section_key).question(question_key)
        except KeyError:
            return True
        return question.type != "photo" or any(s.key == section_key and q.key == question_key
                                                for s, q in self.badge_questions())


def load_form(path: Path | str = DEFAULT_FORM) -> Form:
    """Read and validate a form file; any mistake raises FormError naming the file, field and problem."""
    path = Path(path)
    return parse_form(read_yaml(path), path)


def read_yaml(path: Path) -> Any:
    """The parsed YAML document of a form file (FormError when it cannot be read)."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FormError(f"{path}: {texts.FORM_CANNOT_READ.format(reason=exc.strerror)}") from exc
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise FormError(f"{path}: {texts.FORM_ERR_NOT_UTF8.format(line=line)}") from None
    try:
        return yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise FormError(f"{path}: {_yaml_problem(exc, source)}") from None


_UNCLOSED = "found unexpected end of stream"


def _yaml_problem(exc: yaml.YAMLError, source: str) -> str:
    """A YAML syntax error in one Vietnamese line: its line and column, and what is wrong there."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if problem == _UNCLOSED and getattr(exc, "context_mark", None) is not None:
        mark = exc.context_mark  # a quote not closed: where it opens, not the end of the file
    line = column = None
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    elif isinstance(exc, yaml.reader.ReaderError):  # a control character: where, from its position in the text
        problem = f"unacceptable character #x{exc.character:04x}" if isinstance(exc.character, int) else str(exc)
        line = source.count("\n", 0, exc.position) + 1
        column = exc.position - (source.rfind("\n", 0, exc.position) + 1) + 1
    english = (problem or str(exc).splitlines()[0]).strip()
    said = in_vietnamese(english, texts.FORM_ERR_YAML_PROBLEMS)
    if said == english:
        said = texts.FORM_ERR_YAML_OTHER.format(problem=english)
    if line is None:
        return texts.FORM_ERR_YAML_NO_PLACE.format(problem=said)
    return texts.FORM_ERR_YAML.format(line=line, column=column, problem=said)


def _shown(value: Any) -> str:
    """A value of the file as its author typed it (null, true, 3, text)."""
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def parse_form(raw: Any, path: Path) -> Form:
    """Build a Form from the parsed YAML document."""

    def fail(where: str, problem: str, **values: Any) -> FormError:
        """`problem` a texts.FORM_ERR_* template, `values` its fields."""
        return FormError(f"{path}: {where}: {problem.format(**values)}", problem, values)

    def expression_fail(where: str, exc: XPathError) -> FormError:
        """An expression the evaluator refuses: its problem in Vietnamese where texts has it."""
        said = in_vietnamese(str(exc), texts.XLSFORM_EXPRESSION_PROBLEMS)
        return FormError(f"{path}: {where}: {said}")

    def text(obj: Mapping, name: str, where: str, *, optional: bool = False) -> str | None:
        value = obj.get(name)
        if value is None and optional:
            return None
        if value is not None and not isinstance(value, str):
            raise fail(f"{where}.{name}", texts.FORM_ERR_NOT_TEXT)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{where}.{name}", texts.FORM_ERR_EMPTY_TEXT)
        if len(value) > MAX_LABEL:
            raise fail(f"{where}.{name}", texts.FORM_LIMIT_LABEL, limit=f"{MAX_LABEL:,}".replace(",", "."))
        return value.strip()

    def key_of(obj: Mapping, where: str) -> str:
        key = obj.get("key")
        if key is None or key == "":
            raise fail(f"{where}.key", texts.FORM_ERR_KEY_MISSING)
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise fail(f"{where}.key", texts.FORM_ERR_KEY, key=key)
        return key

    def known_fields(obj: Mapping, allowed: tuple[str, ...], where: str) -> None:
        unknown = [name for name in obj if name not in allowed]
        if unknown:
            raise fail(f"{where}.{unknown[0]}", texts.FORM_ERR_UNKNOWN_FIELD, name=unknown[0],
                       allowed=", ".join(allowed))

    if not isinstance(raw, dict):
        raise fail("(top)", texts.FORM_ERR_TOP)
    known_fields(raw, FORM_FIELDS, "(top)")
    lists = raw.get("choice_lists") or {}
    if not isinstance(lists, dict):
        raise fail("choice_lists", texts.FORM_ERR_CHOICE_LISTS)

    def choices_of(spec: Any, where: str) -> tuple[Choice, ...]:
        if isinstance(spec, str):
            if spec not in lists:
                raise fail(where, texts.FORM_ERR_UNKNOWN_LIST, name=spec,
                           known=", ".join(lists) or texts.FORM_ERR_NO_LISTS)
            spec, where = lists[spec], f"choice_lists.{spec}"
        if not isinstance(spec, list) or not spec:
            raise fail(where, texts.FORM_ERR_CHOICES)
        out = []
        for n, item in enumerate(spec):
            if isinstance(item, (str, int)):
                item = {"value": str(item), "label": str(item)}
            if not isinstance(item, dict) or "value" not in item or "label" not in item:
                raise fail(f"{where}[{n}]", texts.FORM_ERR_CHOICE_PARTS)
            when = item.get("when")
            if len(str(item["value"]).encode()) > 60:  # a button's data on Telegram is at most 64 bytes
                raise fail(f"{where}[{n}].value", texts.FORM_ERR_CHOICE_VALUE_LONG)
            if isinstance(when, list):  # filtered by several questions: a value for each
                if not when or not all(isinstance(w, (str, int)) for w in when):
                    raise fail(f"{where}[{n}].when", texts.FORM_ERR_WHEN)
                when = tuple(str(w) for w in when) if len(when) > 1 else str(when[0])  # one filter: its value
            columns = item.get("columns") or {}
            if not isinstance(columns, dict):
                raise fail(f"{where}[{n}].columns", texts.FORM_ERR_COLUMNS)
            out.append(Choice(str(item["value"]), str(item["label"]),
                              None if when is None else when if isinstance(when, tuple) else str(when),
                              tuple(sorted((str(k).lower(), str(v)) for k, v in columns.items()))))
        # One value per choice; a filtered list may repeat one under another filter (a county name in two states).
        values = [(c.value, c.when) for c in out]
        if len(set(values)) != len(values):
            raise fail(where, texts.FORM_ERR_CHOICE_TWICE)
        return tuple(out)

    def filter_of(rq: Mapping, where: str) -> str | tuple[str, ...] | None:
        """filter_by: a question's key, or a list of them (a cascade: the county of the state chosen)."""
        value = rq.get("filter_by")
        if value is None or isinstance(value, str):
            return value
        if not isinstance(value, list) or not value or not all(isinstance(k, str) for k in value):
            raise fail(f"{where}.filter_by", texts.FORM_ERR_FILTER_BY)
        return value[0] if len(value) == 1 else tuple(value)

    def later_labels(rq: Mapping) -> dict[str, str]:
        """The choice labels of a question not read yet (its mistakes are reported when it is)."""
        if rq.get("type") not in CHOICE_TYPES:
            return {}
        try:
            out = {c.value: c.label for c in choices_of(rq.get("choices"), "")}
        except FormError:
            return {}
        if rq.get("or_other") is True:
            out[OTHER] = texts.OTHER_CHOICE
        return out

    for name in lists:  # a mistake in a list is reported even before a question uses it
        choices_of(name, f"choice_lists.{name}")
    sections: list[Section] = []
    form_keys: dict[str, tuple[str, bool, Question]] = {}  # every question of earlier sections, first of a key
    question_count = 0
    raw_sections = raw.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise fail("sections", texts.FORM_ERR_EMPTY_LIST)
    # Every question of the form, first of a key: `${x}` may name a later question (XLSForm allows it; not yet
    # answered, it reads as empty, as in ODK). Only what a reference needs: where it is, its type, its choices.
    later_keys: dict[str, tuple[str, bool, Any]] = {}
    for rs in raw_sections:
        if isinstance(rs, dict) and isinstance(rs.get("key"), str) and isinstance(rs.get("questions"), list):
            for rq in rs["questions"]:
                if isinstance(rq, dict) and isinstance(rq.get("key"), str):
                    later_keys.setdefault(rq["key"], (rs["key"], "repeat" in rs, rq))
    children: dict[str, tuple[str, str]] = {}  # a list inside a list: its link question's key and its parent
    for rs in raw_sections:
        first = rs.get("questions") if isinstance(rs, dict) else None
        if isinstance(first, list) and first and isinstance(first[0], dict) and isinstance(rs.get("key"), str) \
                and isinstance(first[0].get("item_of"), str):
            children[rs["key"]] = (first[0].get("key"), first[0]["item_of"])
    for si, rs in enumerate(raw_sections):
        swhere = f"sections[{si}]"
        if not isinstance(rs, dict):
            raise fail(swhere, texts.FORM_ERR_MAPPING)
        skey = key_of(rs, swhere)
        swhere = f"sections[{si}] ({skey})"
        known_fields(rs, SECTION_FIELDS, swhere)
        questions: list[Question] = []
        raw_qs = rs.get("questions")
        if not isinstance(raw_qs, list) or not raw_qs:
            raise fail(f"{swhere}.questions", texts.FORM_ERR_EMPTY_LIST)
        question_count += len(raw_qs)
        if question_count > MAX_QUESTIONS:
            raise fail(f"{swhere}.questions", texts.FORM_LIMIT_QUESTIONS, limit=f"{MAX_QUESTIONS:,}".replace(",", "."))
        link = raw_qs[0] if isinstance(raw_qs[0], dict) and "item_of" in raw_qs[0] else None
        # a list inside a list: the links up to each list it is inside, (link key, list) from the nearest
        up: list[tuple[str, str]] = []
        while link is not None and isinstance(link.get("key"), str) and isinstance(link.get("item_of"), str):
            above = link.get("item_of")
            up.append((link["key"], above))
            parent = next((s for s in sections if s.key == above), None)
            link = None if parent is None or not parent.questions[0].item_of else \
                {"key": parent.questions[0].key, "item_of": parent.questions[0].item_of}
        ancestors = {sec: tuple(up[:i + 1]) for i, (_, sec) in enumerate(up)}
        for qi, rq in enumerate(raw_qs):
            qwhere = f"{swhere}.questions[{qi}]"
            if not isinstance(rq, dict):
                raise fail(qwhere, texts.FORM_ERR_MAPPING)
            qkey = key_of(rq, qwhere)
            qwhere = f"{swhere}.questions[{qi}] ({qkey})"
            known_fields(rq, QUESTION_FIELDS, qwhere)
            qtype = rq.get("type")
            if qtype is None:
                raise fail(f"{qwhere}.type", texts.FORM_ERR_TYPE_MISSING, types=", ".join(QUESTION_TYPES))
            if qtype not in QUESTION_TYPES:
                raise fail(f"{qwhere}.type", texts.FORM_ERR_TYPE, type=qtype, types=", ".join(QUESTION_TYPES))
            for flag in ("required", "deferrable", "personal", "badge", "or_other"):
                if not isinstance(rq.get(flag, False), bool):
                    raise fail(f"{qwhere}.{flag}", texts.FORM_ERR_FLAG)
            required = rq.get("required", True) and qtype not in NOT_ASKED
            if "filter_by" in rq and qtype not in CHOICE_TYPES:
                raise fail(f"{qwhere}.filter_by", texts.FORM_ERR_TYPE_ONLY, types=texts.FORM_ERR_CHOICE_TYPES,
                           name="filter_by")
            if rq.get("or_other") and qtype not in CHOICE_TYPES:
                raise fail(f"{qwhere}.or_other", texts.FORM_ERR_TYPE_ONLY, types=texts.FORM_ERR_CHOICE_TYPES,
                           name="or_other")
            if rq.get("badge") and qtype != "photo":
                raise fail(f"{qwhere}.badge", texts.FORM_ERR_BADGE)
            if "ask_if" in rq and "relevant" in rq:
                raise fail(f"{qwhere}.relevant", texts.FORM_ERR_ASK_IF_AND_RELEVANT)
            if "or_other" in rq and (qtype not in CHOICE_TYPES or not isinstance(rq["or_other"], bool)):
                raise fail(f"{qwhere}.or_other", texts.FORM_ERR_TYPE_ONLY, types=texts.FORM_ERR_CHOICE_TYPES,
                           name="or_other")
            if "constraint_message" in rq and "constraint" not in rq:
                raise fail(f"{qwhere}.constraint_message", texts.FORM_ERR_NO_CONSTRAINT)
            if (qtype == "calculate") != ("calculation" in rq):
                if qtype == "calculate":
                    raise fail(f"{qwhere}.calculation", texts.FORM_ERR_CALCULATION_MISSING)
                raise fail(f"{qwhere}.calculation", texts.FORM_ERR_TYPE_ONLY, types="calculate", name="calculation")
            if (qtype == "meta") != ("meta" in rq):
                if qtype == "meta":
                    raise fail(f"{qwhere}.meta", texts.FORM_ERR_META_MISSING, kinds=", ".join(META_KINDS))
                raise fail(f"{qwhere}.meta", texts.FORM_ERR_TYPE_ONLY, types="meta", name="meta")
            meta_kind = text(rq, "meta", qwhere, optional=True) if qtype == "meta" else None
            expressions: dict[str, Expression] = {}
            for name in ("constraint", "relevant", "calculation"):
                if name in rq:
                    try:
                        expressions[name] = parse_expression(rq[name])
                    except XPathError as exc:
                        raise expression_fail(f"{qwhere}.{name}", exc) from None
            if "choice_filter" in rq:
                if qtype not in CHOICE_TYPES:
                    raise fail(f"{qwhere}.choice_filter", texts.FORM_ERR_TYPE_ONLY, types=texts.FORM_ERR_CHOICE_TYPES,
                               name="choice_filter")
                try:
                    expressions["choice_filter"] = parse_expression(rq["choice_filter"], columns=True)
                except XPathError as exc:
                    raise expression_fail(f"{qwhere}.choice_filter", exc) from None
            for name in ("relevant", "calculation"):
                if name in expressions and expressions[name].uses_dot:
                    raise fail(f"{qwhere}.{name}", texts.FORM_ERR_DOT, name=name)
            condition = None
            if "ask_if" in rq:
                cond = rq["ask_if"]
                ops = [op for op in CONDITION_OPS if isinstance(cond, dict) and op in cond]
                if not isinstance(cond, dict) or "key" not in cond or len(ops) != 1 or len(cond) != 2:
                    raise fail(f"{qwhere}.ask_if", texts.FORM_ERR_ASK_IF, ops=", ".join(CONDITION_OPS))
                condition = Condition(str(cond["key"]), ops[0], cond[ops[0]])
            choices: tuple[Choice, ...] = ()
            if "item_of" in rq:
                parent = next((s for s in sections if s.key == rq["item_of"]), None) \
                    if isinstance(rq["item_of"], str) else None
                if qi != 0 or "repeat" not in rs or qtype != "choice" or parent is None or parent.repeat is None:
                    raise fail(f"{qwhere}.item_of", texts.FORM_ERR_ITEM_OF)
                naming = next((q for q in parent.asked if not q.item_of), None)  # what the stored name copies
                rq = {**rq, "personal": bool(rq.get("personal")) or bool(naming and naming.personal)}
                if {"choices", "filter_by", "choice_filter", "ask_if", "or_other"} & set(rq) or not required:
                    raise fail(f"{qwhere}.item_of", texts.FORM_ERR_ITEM_OF_REQUIRED)
            elif qtype in CHOICE_TYPES:
                choices = choices_of(rq.get("choices"), f"{qwhere}.choices")
                if rq.get("or_other") and any(c.value == OTHER for c in choices):
                    raise fail(f"{qwhere}.or_other", texts.FORM_ERR_OTHER_TAKEN, value=OTHER)
                if "filter_by" not in rq and len({c.value for c in choices}) != len(choices):
                    raise fail(f"{qwhere}.choices", texts.FORM_ERR_CHOICE_TWICE)  # only a filter tells them apart
            elif "choices" in rq:
                raise fail(f"{qwhere}.choices", texts.FORM_ERR_TYPE_ONLY, types=texts.FORM_ERR_CHOICE_TYPES,
                           name="choices")
            # XLSForm's calculate and metadata rows usually have no label: their key names them then.
            label = text(rq, "label", qwhere, optional=qtype in ("calculate", "meta")) or qkey
            questions.append(
                Question(
                    key=qkey,
                    label=label,
                    prompt=text(rq, "prompt", qwhere, optional=qtype in NOT_ASKED) or label,
                    type=qtype,
                    required=required,
                    ask_if=condition,
                    choices=choices,
                    filter_by=filter_of(rq, qwhere),
                    not_above=rq.get("not_above"),
                    not_before=rq.get("not_before"),
                    deferrable=bool(rq.get("deferrable", False)),
                    personal=bool(rq.get("personal", False)),
                    hint=text(rq, "hint", qwhere, optional=True),
                    required_message=text(rq, "required_message", qwhere, optional=True),
                    constraint=expressions.get("constraint"),
                    constraint_message=text(rq, "constraint_message", qwhere, optional=True),
                    relevant=expressions.get("relevant"),
                    badge=bool(rq.get("badge", False)),
                    calculation=expressions.get("calculation"),
                    meta=meta_kind,
                    or_other=bool(rq.get("or_other", False)),
                    choice_filter=expressions.get("choice_filter"),
                    item_of=rq.get("item_of"),
                )
            )
        is_repeat = "repeat" in rs
        earlier: dict[str, Question] = {}  # built as the loop goes: the check is linear in the questions
        own_section: dict[str, Question] = {}
        for q in questions:
            own_section.setdefault(q.key, q)

        def bind(expr: Expression | None, name: str, qwhere: str, own: str | None = None,
                 in_scope: Mapping[str, Question] | None = None) -> Expression | None:
            """The expression with each ${…} found: a question of this section (or repeat item), else of another
            section — earlier or later; a name that is no question of the form is refused. A note reads as empty."""
            if expr is None:
                return None
            scope_qs = own_section if in_scope is None else in_scope
            outer: dict[str, tuple[str, bool]] = {}
            labels: dict[str, dict[str, str]] = {}
            for ref in sorted(expr.fields - {own} if own else expr.fields):
                target: Question | None = scope_qs.get(ref)
                if target is None and ref in form_keys:
                    where_s, repeat_s, target = form_keys[ref]
                    # a question of a list this one is inside, read in one of its items: the linked item's
                    outer[ref] = (where_s, ("up", ancestors[where_s]) if where_s in ancestors else repeat_s)
                elif target is None and ref in later_keys:
                    where_s, repeat_s, rq = later_keys[ref]
                    # a question of a list inside this one: in an item, the answers of the items linked to it
                    down = children.get(where_s)
                    outer[ref] = (where_s, ("down", down[0], skey) if down and down[1] == skey else repeat_s)
                    labels[ref] = later_labels(rq)
                    continue
                if target is None:
                    raise fail(f"{qwhere}.{name}", texts.FORM_ERR_NOT_IN_FORM, name=ref)
                labels[ref] = {c.value: c.label for c in target.choices}
                if target.or_other:
                    labels[ref][OTHER] = texts.OTHER_CHOICE
            try:
                return expr.bind(own=own, outer=outer, choices=labels)
            except XPathError as exc:
                raise expression_fail(f"{qwhere}.{name}", exc) from None

        for qi, q in enumerate(questions):
            qwhere = f"{swhere}.questions[{qi}] ({q.key})"
            if q.key in earlier:
                raise fail(f"{swhere}.questions", texts.FORM_ERR_DUPLICATE_KEY, key=q.key)
            refs = [("ask_if.key", q.ask_if.key if q.ask_if else None), *(("filter_by", k) for k in q.filter_keys),
                    *(("choice_filter", k) for k in sorted(q.choice_filter.fields if q.choice_filter else ())),
                    ("not_above", q.not_above), ("not_before", q.not_before)]
            for name, ref in refs:
                if ref is not None and ref not in earlier:
                    raise fail(f"{qwhere}.{name}", texts.FORM_ERR_NOT_EARLIER, name=ref)
            bound = {"choice_filter": bind(q.choice_filter, "choice_filter", qwhere),
                     "relevant": bind(q.relevant, "relevant", qwhere),
                     "constraint": bind(q.constraint, "constraint", qwhere, own=q.key),
                     "calculation": bind(q.calculation, "calculation", qwhere)}
            if any(bound[n] is not getattr(q, n) for n in bound):
                q = questions[qi] = dataclasses.replace(q, **bound)
            if q.not_above and (q.type != "integer" or earlier[q.not_above].type != "integer"):
                raise fail(f"{qwhere}.not_above", texts.FORM_ERR_COMPARE_INTEGERS)
            if q.not_before and (q.type != "date" or earlier[q.not_before].type != "date"):
                raise fail(f"{qwhere}.not_before", texts.FORM_ERR_COMPARE_DATES)
            if q.filter_by:
                keys = q.filter_keys
                for c in q.choices:
                    whens = c.when if isinstance(c.when, tuple) else (c.when,)
                    if len(whens) != len(keys):
                        raise fail(f"{qwhere}.choices", texts.FORM_ERR_WHEN_COUNT, value=c.value, count=len(keys),
                                   keys=", ".join(keys))
                    for key, when in zip(keys, whens):  # a typed answer (a code, a number) is not checked here
                        if earlier[key].choices and when not in {o.value for o in earlier[key].choices}:
                            raise fail(f"{qwhere}.choices", texts.FORM_ERR_WHEN_UNKNOWN, value=c.value, when=when,
                                       key=key)
            if q.deferrable and (not q.required or q.type != "photo"):
                raise fail(f"{qwhere}.deferrable", texts.FORM_ERR_DEFERRABLE)
            earlier[q.key] = q
        keys = [q.key for q in questions]
        repeat = None
        if is_repeat:
            rr = rs["repeat"]
            if not isinstance(rr, dict):
                raise fail(f"{swhere}.repeat", texts.FORM_ERR_REPEAT)
            known_fields(rr, REPEAT_FIELDS, f"{swhere}.repeat")
            lo, hi = rr.get("min", 0), rr.get("max")
            if not isinstance(lo, int) or isinstance(lo, bool) or not (hi is None or isinstance(hi, int)) \
                    or isinstance(hi, bool) or lo < 0 or (hi is not None and (hi < 1 or lo > hi)):
                raise fail(f"{swhere}.repeat", texts.FORM_ERR_REPEAT_BOUNDS, min=_shown(lo), max=_shown(hi))
            count = None
            if "count" in rr:
                try:
                    count = parse_expression(rr["count"])
                except XPathError as exc:
                    raise expression_fail(f"{swhere}.repeat.count", exc) from None
                # the count is read before any item exists: other sections only
                count = bind(count, "count", f"{swhere}.repeat", in_scope={})
            repeat = Repeat(lo, hi, text(rr, "item", f"{swhere}.repeat"), count)
            if questions and questions[0].item_of and (lo > 0 or count is not None):
                raise fail(f"{swhere}.repeat", texts.FORM_ERR_NESTED_OPEN)
            asked = [q for q in questions if q.asked]
            if not asked or asked[0].type == "photo":
                raise fail(f"{swhere}.questions[{questions.index(asked[0]) if asked else 0}]",
                           texts.FORM_ERR_REPEAT_FIRST_PHOTO)
        for q in questions:
            form_keys.setdefault(q.key, (skey, is_repeat, q))
        compact = rs.get("compact") or []
        if not isinstance(compact, list) or any(not isinstance(k, str) or k not in earlier for k in compact):
            raise fail(f"{swhere}.compact", texts.FORM_ERR_COMPACT_KEYS, keys=", ".join(keys))
        if compact and (compact != keys[:len(compact)] or len(compact) < 2 or any(
                earlier[k].conditional or earlier[k].type in ("photo", "multi_choice")
                for k in compact)):
            raise fail(f"{swhere}.compact", texts.FORM_ERR_COMPACT_SHAPE)
        sections.append(
            Section(
                key=skey,
                title=text(rs, "title", swhere),
                intro=text(rs, "intro", swhere, optional=True),
                questions=tuple(questions),
                repeat=repeat,
                compact=tuple(compact),
            )
        )
    skeys = [s.key for s in sections]
    dupes = sorted(k for k, n in Counter(skeys).items() if n > 1)
    if dupes:
        raise fail("sections", texts.FORM_ERR_DUPLICATE_KEY, key=dupes[0])
    form_id = raw.get("id")
    if not isinstance(form_id, str) or not form_id:
        raise fail("id", texts.FORM_ERR_ID)
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail("title", texts.FORM_ERR_TITLE)
    version = raw.get("version")
    if version is not None and (not isinstance(version, (str, int)) or isinstance(version, bool) or not str(version)):
        raise fail("version", texts.FORM_ERR_VERSION)
    return Form(id=form_id, title=title.strip(), sections=tuple(sections), path=path,
                version=None if version is None else str(version))
