"""An evaluator for the XPath 1.0 subset XLSForm uses in `relevant`, `constraint` and `calculation`.

Supported: `or`, `and`, comparisons (= != < <= > >=), arithmetic (+ - * div mod, unary -), parentheses, string
('…' or "…") and number literals, `.` (the answer being checked), `${field}` (another answer: of the same section
or repeat item first, else of any other section, earlier or later — bound when the form loads, see
`Expression.bind`), and the functions in FUNCTIONS (ODK's where they differ from XPath: substr() 0-based,
max()/min() and join() over a repeat's answers, once() the value itself, as a chat computes it when what it reads
is answered). Anything else (paths, other functions) is refused when the form loads, never at answer time.

Chosen over a general XPath library (elementpath): an XLSForm expression reads answers, not an XML tree, so a
library would need a document built from the answers at every step and `${x}` rewritten to variables; this
parser runs once per expression at load and evaluation is a walk of a small tuple tree (microseconds).

Values are read as XLSForm does: an unanswered field is the empty string, a yes/no answer is 'yes' or 'no', a
several-choice answer is its values separated by spaces (so `selected()` works on it), a date is 'YYYY-MM-DD'.
A comparison is numeric when one side is a number and the other reads as one, else it compares the strings.
Arithmetic on an empty or non-numeric value gives NaN, which a calculation stores as no value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Mapping

import regex  # mrab-regex: Python's re syntax, with a time limit per search

REGEX_TIMEOUT = 0.2  # seconds one regex() may take on an answer
# name: (fewest, most) arguments; None: any number
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "not": (1, 1), "string-length": (1, 1), "regex": (2, 2), "selected": (2, 2), "count-selected": (1, 1),
    "true": (0, 0), "false": (0, 0), "if": (3, 3), "coalesce": (2, 2), "concat": (1, None), "sum": (1, 1),
    "count": (1, 1), "round": (1, 2), "int": (1, 1), "number": (1, 1), "string": (1, 1), "today": (0, 0),
    "selected-at": (2, 2), "jr:choice-name": (2, 2), "boolean": (1, 1), "floor": (1, 1), "ceiling": (1, 1),
    "abs": (1, 1), "contains": (2, 2), "starts-with": (2, 2), "ends-with": (2, 2), "normalize-space": (1, 1),
    "substr": (2, 3), "substring-before": (2, 2), "substring-after": (2, 2), "translate": (3, 3), "sqrt": (1, 1),
    "pow": (2, 2), "exp": (1, 1), "log": (1, 1), "log10": (1, 1), "max": (1, None), "min": (1, None),
    "once": (1, 1), "join": (2, None), "pi": (0, 0), "sin": (1, 1), "cos": (1, 1), "tan": (1, 1), "asin": (1, 1),
    "acos": (1, 1), "atan": (1, 1), "atan2": (2, 2), "format-date": (2, 2), "format-date-time": (2, 2),
    "indexed-repeat": (3, 3),
}
_MATH = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log10": math.log10, "sin": math.sin, "cos": math.cos,
         "tan": math.tan, "asin": math.asin, "acos": math.acos, "atan": math.atan}
COMPARISONS = ("=", "!=", "<=", ">=", "<", ">")
_TOKEN = re.compile(r"""\s*(?:
    (?P<field>\$\{(?P<fname>[^}]*)\})
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_:\-]*[A-Za-z0-9_]|[A-Za-z_])
  | (?P<dot>\.(?![\w.]))
  | (?P<bad>\S)
)""", re.VERBOSE)


class XPathError(ValueError):
    """The expression is not in the supported subset; str() is one line."""


def _tokens(source: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = source.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # only trailing spaces are left
            break
        pos = m.end()
        if m["field"] is not None:
            out.append(("field", m["fname"].strip()))
        elif m["number"] is not None:
            out.append(("number", float(m["number"]) if "." in m["number"] else int(m["number"])))
        elif m["string"] is not None:
            out.append(("string", m["string"][1:-1]))
        elif m["op"] is not None:
            out.append(("op", m["op"]))
        elif m["punct"] is not None:
            out.append((m["punct"], m["punct"]))
        elif m["name"] is not None:
            out.append(("name", m["name"]))
        elif m["dot"] is not None:
            out.append(("dot", "."))
        else:
            raise XPathError(f"unexpected {m['bad']!r} in {source!r}")
    return out


class _Parser:
    def __init__(self, source: str, columns: bool = False):
        self.source = source
        self.tokens = _tokens(source)
        self.pos = 0
        self.columns = columns  # a choice_filter: a bare name is a column of the choice (name, label, state…)

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise XPathError(f"{self.source!r} ends too early")
        self.pos += 1
        return tok

    def expect(self, kind: str) -> None:
        tok = self.take()
        if tok[0] != kind:
            raise XPathError(f"expected {kind!r} but found {tok[1]!r} in {self.source!r}")

    def parse(self) -> tuple:
        if not self.tokens:
            raise XPathError("empty expression")
        node = self.or_expr()
        if self.peek() is not None:
            raise XPathError(f"unexpected {self.peek()[1]!r} in {self.source!r}")
        return node

    def or_expr(self) -> tuple:
        node = self.and_expr()
        while self.peek() == ("name", "or"):
            self.take()
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> tuple:
        node = self.equality()
        while self.peek() == ("name", "and"):
            self.take()
            node = ("and", node, self.equality())
        return node

    def equality(self) -> tuple:
        node = self.relational()
        if self.peek() in (("op", "="), ("op", "!=")):
            node = ("cmp", self.take()[1], node, self.relational())
            if self.peek() is not None and self.peek()[0] == "op" and self.peek()[1] in COMPARISONS:
                raise XPathError(f"chained comparison in {self.source!r}: use and")
        return node

    def relational(self) -> tuple:
        node = self.additive()
        if self.peek() in (("op", "<"), ("op", "<="), ("op", ">"), ("op", ">=")):
            node = ("cmp", self.take()[1], node, self.additive())
            if self.peek() in (("op", "<"), ("op", "<="), ("op", ">"), ("op", ">=")):
                raise XPathError(f"chained comparison in {self.source!r}: use and")
        return node

    def additive(self) -> tuple:
        node = self.multiplicative()
        while self.peek() in (("op", "+"), ("op", "-")):
            node = ("arith", self.take()[1], node, self.multiplicative())
        return node

    def multiplicative(self) -> tuple:
        node = self.unary()
        while self.peek() in (("op", "*"), ("name", "div"), ("name", "mod")):
            node = ("arith", self.take()[1], node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.peek() == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind in ("number", "string"):
            return ("lit", value)
        if kind == "dot":
            return ("dot",)
        if kind == "field":
            if not value:
                raise XPathError(f"empty ${{}} in {self.source!r}")
            return ("field", value)
        if kind == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if kind == "name" and self.columns and self.peek() != ("(", "(") and value not in ("and", "or", "div", "mod"):
            return ("col", value.lower())
        if kind == "name" and self.peek() == ("(", "("):
            if value not in FUNCTIONS:
                raise XPathError(f"function {value}() is not supported (supported: "
                                 f"{', '.join(f + '()' for f in FUNCTIONS)})")
            self.take()
            args: list[tuple] = []
            if self.peek() != (")", ")"):
                args.append(self.or_expr())
                while self.peek() == (",", ","):
                    self.take()
                    args.append(self.or_expr())
            self.expect(")")
            lo, hi = FUNCTIONS[value]
            if len(args) < lo or (hi is not None and len(args) > hi):
                wanted = str(lo) if lo == hi else f"{lo} to {hi}" if hi is not None else f"at least {lo}"
                raise XPathError(f"{value}() takes {wanted} argument(s), got {len(args)}")
            if value == "regex":
                if args[1][0] != "lit" or not isinstance(args[1][1], str):
                    raise XPathError("regex() needs a quoted pattern as its second argument")
                try:
                    regex.compile(args[1][1])
                except regex.error as exc:
                    raise XPathError(f"regex() pattern {args[1][1]!r} is not valid ({exc})") from None
            if value == "jr:choice-name":
                ref = args[1]
                name = ref[1] if ref[0] == "field" else None
                if ref[0] == "lit" and isinstance(ref[1], str):
                    m = re.fullmatch(r"\s*\$\{([^}]+)\}\s*", ref[1])
                    name = m[1].strip() if m else None
                if name is None:
                    raise XPathError("jr:choice-name() needs '${question}' as its second argument")
                return ("call", value, (args[0], ("choices", name)))
            return ("call", value, tuple(args))
        raise XPathError(f"unexpected {value!r} in {self.source!r}")


def _walk(node: tuple):
    yield node
    for part in node[1:]:
        if isinstance(part, tuple) and part:
            if isinstance(part[0], str):
                yield from _walk(part)
            else:
                for arg in part:
                    yield from _walk(arg)


def _fields(node: tuple) -> set[str]:
    return {n[1] for n in _walk(node) if n[0] in ("field", "choices")}


def _uses_dot(node: tuple) -> bool:
    return any(n[0] == "dot" for n in _walk(node))


def _replace_field(node: tuple, name: str, by: tuple) -> tuple:
    if node[0] == "field" and node[1] == name:
        return by
    out = [node[0]]
    for part in node[1:]:
        if isinstance(part, tuple) and part and isinstance(part[0], str):
            out.append(_replace_field(part, name, by))
        elif isinstance(part, tuple) and part and isinstance(part[0], tuple):
            out.append(tuple(_replace_field(a, name, by) for a in part))
        else:
            out.append(part)
    return tuple(out)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value)
    if isinstance(value, dict):  # a geopoint: "lat lon" as ODK writes it
        return " ".join(_text(value.get(k)) for k in ("lat", "lon"))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _num(value: Any) -> float:
    """XPath's number(): NaN for what does not read as one (and for an empty answer)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    n = _number(value) if not isinstance(value, (list, tuple)) else _number(value[0]) if value else None
    return math.nan if n is None else n


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (list, tuple)):
        return bool(value)
    return value is not None and value != ""


def _compare(op: str, left: Any, right: Any) -> bool:
    numeric = (isinstance(left, (int, float)) and not isinstance(left, bool)) or \
              (isinstance(right, (int, float)) and not isinstance(right, bool))
    if numeric:
        a, b = _number(left), _number(right)
        if a is None or b is None or math.isnan(a) or math.isnan(b):  # empty or not a number: only "!=" holds
            return op == "!="
    else:
        a, b = _text(left), _text(right)
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _arith(op: str, left: Any, right: Any) -> float:
    a, b = _num(left), _num(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "div":
        return math.nan if b == 0 else a / b
    return math.nan if b == 0 else math.fmod(a, b)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _format_date(value: Any, pattern: str) -> str:
    """ODK's format-date() and format-date-time(): a date or date-time (ISO text, or days since 1970-01-01) written
    with %Y %y %m %n %b %d %e %a %H %h %M %S %3; '' when the value is no date."""
    number = _number(value) if not isinstance(value, str) or re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value) else None
    try:
        moment = (datetime(1970, 1, 1) + timedelta(days=number) if number is not None
                  else datetime.fromisoformat(_text(value).strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        return ""
    parts = {"Y": f"{moment.year:04d}", "y": f"{moment.year % 100:02d}", "m": f"{moment.month:02d}",
             "n": str(moment.month), "b": _MONTHS[moment.month - 1], "d": f"{moment.day:02d}", "e": str(moment.day),
             "a": _DAYS[moment.weekday()], "H": f"{moment.hour:02d}", "h": str(moment.hour),
             "M": f"{moment.minute:02d}", "S": f"{moment.second:02d}", "3": f"{moment.microsecond // 1000:03d}"}
    return re.sub(r"%(.)", lambda m: parts.get(m[1], m[1]), pattern)


def _round(x: float, digits: int = 0) -> float:
    """Half away from zero, as ODK's round(x, n)."""
    if math.isnan(x) or math.isinf(x):
        return x
    scale = 10 ** digits
    return math.copysign(math.floor(abs(x) * scale + 0.5) / scale, x)


def plain(value: Any) -> Any:
    """A computed value as stored with the answers: numbers whole when they are, NaN and '' as None."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "" or value == []:
        return None
    return value


class Lookup:
    """Where `${name}` is read when it is not a question of the expression's own scope: answers of other
    sections (a repeat's question gives the list of its items' answers), the choice labels, today's date."""

    def outer(self, section: str, question: str, repeat: bool) -> Any:
        return None

    def item_value(self, section: str, question: str, position: int) -> Any:
        """The answer to `question` of the position-th item (1 = the first) of a repeat section."""
        return None

    def linked(self, section: str, question: str, values: Mapping[str, Any], steps: tuple) -> Any:
        """In an item of a list inside a list, the answer to `question` of the item of `section` (a list it is
        inside) it belongs to: `steps` are the (link question, list) pairs from this item's up to `section`."""
        return None

    def children(self, section: str, question: str, link: str, parent: str) -> Any:
        """In an item of `parent`, the answers to `question` of the items of `section` (a list inside `parent`'s,
        linked by its question `link`) that belong to it; outside an item, those of all its items."""
        return self.outer(section, question, True)

    def today(self) -> date:
        from datetime import datetime
        from zoneinfo import ZoneInfo
        return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def item_numbers(answers: Mapping[str, Any], section: str) -> list[int]:
    """The item numbers of a repeat section, in display order (also imported from conversations.answers)."""
    prefix = section + "["
    found = {int(k[len(prefix):k.index("]")]) for k in answers if k.startswith(prefix)}
    return sorted(found)


_ABSENT = object()


class AnswersLookup(Lookup):
    """`Lookup` over a report's flat answers (`section.question`, `section[n].question`)."""

    def __init__(self, answers: Mapping[str, Any], today: date | None = None,
                 item: tuple[str, int] | None = None):
        self.answers = answers
        self._today = today
        self.item = item  # (section, item number) whose expression is evaluated, when the caller knows it
        self._lists: dict[tuple[str, str], list] = {}
        self._items: dict[str, list[int]] = {}  # a repeat section's item numbers, in order

    def outer(self, section: str, question: str, repeat: bool) -> Any:
        if not repeat:
            return self.answers.get(f"{section}.{question}")
        found = self._lists.get((section, question))
        if found is None:
            prefix, suffix = f"{section}[", f"].{question}"
            pairs = sorted((int(k[len(prefix):-len(suffix)]), v) for k, v in self.answers.items()
                           if k.startswith(prefix) and k.endswith(suffix) and k[len(prefix):-len(suffix)].isdigit())
            found = self._lists[(section, question)] = [v for _, v in pairs]
        return found

    def item_value(self, section: str, question: str, position: int) -> Any:
        numbers = self._items.get(section)
        if numbers is None:
            numbers = self._items[section] = item_numbers(self.answers, section)
        if not 1 <= position <= len(numbers):
            return None
        return self.answers.get(f"{section}[{numbers[position - 1]}].{question}")

    def linked(self, section: str, question: str, values: Mapping[str, Any], steps: tuple) -> Any:
        link = values.get(steps[0][0])
        item = link.get("item") if isinstance(link, Mapping) else None
        for (_, below), (key, _) in zip(steps, steps[1:]):  # up through each list in between
            if item is None:
                return None
            link = self.answers.get(f"{below}[{item}].{key}")
            item = link.get("item") if isinstance(link, Mapping) else None
        return None if item is None else self.answers.get(f"{section}[{item}].{question}")

    def children(self, section: str, question: str, link: str, parent: str) -> Any:
        if self.item is None or self.item[0] != parent:
            return self.outer(section, question, True)
        prefix, suffix = f"{section}[", f"].{link}"
        mine = sorted(int(k[len(prefix):-len(suffix)]) for k, v in self.answers.items()
                      if k.startswith(prefix) and k.endswith(suffix) and k[len(prefix):-len(suffix)].isdigit()
                      and isinstance(v, Mapping) and v.get("item") == self.item[1])
        found = (self.answers.get(f"{section}[{n}].{question}", _ABSENT) for n in mine)
        return [v for v in found if v is not _ABSENT]

    def today(self) -> date:
        return self._today or super().today()


NO_LOOKUP = Lookup()


@dataclass(frozen=True)
class Expression:
    """One parsed expression; equal when their source text is equal.

    `outer` names the `${…}` that are not questions of the expression's own scope: name -> (section key, whether
    that section is a repeat, or ("up", links) for a list the expression's list is inside, ("down", link, parent)
    for a list inside the expression's list); `choices` the choice labels of the questions jr:choice-name() reads. Both are set
    by `bind` when the form loads.
    """

    source: str
    tree: tuple = field(compare=False, repr=False, default=())
    fields: frozenset[str] = field(compare=False, repr=False, default=frozenset())
    uses_dot: bool = field(compare=False, repr=False, default=False)
    outer: Mapping[str, tuple[str, bool | tuple]] = field(compare=False, repr=False, default_factory=dict)
    choices: Mapping[str, Mapping[str, str]] = field(compare=False, repr=False, default_factory=dict)

    def bind(self, *, own: str | None = None, outer: Mapping[str, tuple[str, bool]] | None = None,
             choices: Mapping[str, Mapping[str, str]] | None = None) -> Expression:
        """This expression with `${own}` read as `.` (a question naming itself in its constraint), and where
        the other names are read."""
        tree = _replace_field(self.tree, own, ("dot",)) if own and own in self.fields else self.tree
        for call in (n for n in _walk(tree) if n[0] == "call" and n[1] == "indexed-repeat"):
            target = call[2][0]
            if target[0] == "field" and not (outer or {}).get(target[1], ("", False))[1]:
                raise XPathError("indexed-repeat() reads a question of a list from outside that list")
        return Expression(self.source, tree, frozenset(_fields(tree)), _uses_dot(tree), dict(outer or {}),
                          dict(choices or {}))

    def holds(self, values: Mapping[str, Any], value: Any = None, lookup: Lookup = NO_LOOKUP) -> bool:
        """Whether the expression is true for the answers of one scope; `.` is `value`."""
        return _truth(self._eval(self.tree, values, value, lookup))

    def evaluate(self, values: Mapping[str, Any], value: Any = None, lookup: Lookup = NO_LOOKUP) -> Any:
        """The expression's value, as stored with the answers (see `plain`)."""
        return plain(self._eval(self.tree, values, value, lookup))

    def _eval(self, node: tuple, values: Mapping[str, Any], value: Any, lookup: Lookup) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "dot":
            return value
        if kind == "col":  # a choice_filter's column: `value` is the choice's row (see Choice.row)
            return value.get(node[1], "") if isinstance(value, Mapping) else ""
        if kind == "field":
            name = node[1]
            where = self.outer.get(name)
            if where is None:
                return values.get(name)
            how = where[1]
            if isinstance(how, tuple):  # a list inside a list: up to the item it belongs to, or down to its own
                return lookup.linked(where[0], name, values, how[1]) if how[0] == "up" else \
                    lookup.children(where[0], name, how[1], how[2])
            return lookup.outer(where[0], name, how)
        ev = self._eval
        if kind == "or":
            return _truth(ev(node[1], values, value, lookup)) or _truth(ev(node[2], values, value, lookup))
        if kind == "and":
            return _truth(ev(node[1], values, value, lookup)) and _truth(ev(node[2], values, value, lookup))
        if kind == "cmp":
            return _compare(node[1], ev(node[2], values, value, lookup), ev(node[3], values, value, lookup))
        if kind == "arith":
            return _arith(node[1], ev(node[2], values, value, lookup), ev(node[3], values, value, lookup))
        if kind == "neg":
            return -_num(ev(node[1], values, value, lookup))
        name = node[1]
        if name == "if":
            chosen = node[2][1] if _truth(ev(node[2][0], values, value, lookup)) else node[2][2]
            return ev(chosen, values, value, lookup)
        if name == "jr:choice-name":
            labels = self.choices.get(node[2][1][1], {})
            return labels.get(_text(ev(node[2][0], values, value, lookup)), "")
        args = [ev(a, values, value, lookup) for a in node[2]]
        if name == "not":
            return not _truth(args[0])
        if name == "string-length":
            return len(_text(args[0]))
        if name == "regex":
            # A form author's pattern runs on what a person typed: bounded in time, so a pattern that
            # backtracks badly cannot hold the bot (and the report's lock); too slow counts as not matching.
            try:
                return regex.search(node[2][1][1], _text(args[0]), timeout=REGEX_TIMEOUT) is not None
            except TimeoutError:
                return False
        if name == "selected":
            chosen = args[0] if isinstance(args[0], (list, tuple)) else _text(args[0]).split()
            return _text(args[1]) in [_text(c) for c in chosen]
        if name == "count-selected":
            return len(args[0]) if isinstance(args[0], (list, tuple)) else len(_text(args[0]).split())
        if name == "selected-at":
            chosen = args[0] if isinstance(args[0], (list, tuple)) else _text(args[0]).split()
            n = _num(args[1])
            return _text(chosen[int(n)]) if not math.isnan(n) and 0 <= int(n) < len(chosen) else ""
        if name == "coalesce":
            return args[0] if _text(args[0]) != "" else args[1]
        if name == "concat":
            return "".join(_text(a) for a in args)
        if name == "sum":
            items = args[0] if isinstance(args[0], (list, tuple)) else [args[0]]
            return math.fsum(_num(v) for v in items)
        if name == "count":
            return len(args[0]) if isinstance(args[0], (list, tuple)) else int(_text(args[0]) != "")
        if name == "round":
            digits = _num(args[1]) if len(args) > 1 else 0.0
            return _round(_num(args[0]), 0 if math.isnan(digits) else int(digits))
        if name == "int":
            n = _num(args[0])
            return n if math.isnan(n) or math.isinf(n) else float(math.trunc(n))
        if name == "number":
            return _num(args[0])
        if name == "string":
            return _text(args[0])
        if name == "boolean":
            return _truth(args[0])
        if name in ("floor", "ceiling", "abs"):
            n = _num(args[0])
            if math.isnan(n) or math.isinf(n):
                return n
            return float({"floor": math.floor, "ceiling": math.ceil, "abs": abs}[name](n))
        if name == "contains":
            return _text(args[1]) in _text(args[0])
        if name == "starts-with":
            return _text(args[0]).startswith(_text(args[1]))
        if name == "today":
            return lookup.today().isoformat()
        if name == "once":  # ODK: computed once, kept after; a chat computes it when what it reads is answered
            return args[0]
        if name == "ends-with":
            return _text(args[0]).endswith(_text(args[1]))
        if name == "normalize-space":
            return " ".join(_text(args[0]).split())
        if name == "substr":  # ODK's: 0-based start, end excluded
            text, start = _text(args[0]), _num(args[1])
            end = _num(args[2]) if len(args) > 2 else float(len(text))
            if math.isnan(start) or math.isnan(end):
                return ""
            return text[max(int(start), 0):max(int(end), 0)]
        if name in ("substring-before", "substring-after"):
            text, sep = _text(args[0]), _text(args[1])
            if sep not in text:
                return ""
            before, _, after = text.partition(sep)
            return before if name == "substring-before" else after
        if name == "translate":
            src, dst = _text(args[1]), _text(args[2])
            table = {}
            for i, ch in enumerate(src):
                table.setdefault(ord(ch), dst[i] if i < len(dst) else None)
            return _text(args[0]).translate(table)
        if name in ("max", "min"):  # over numbers or a repeat's answers; NaN when one is empty or not a number
            numbers = [_num(v) for a in args for v in (a if isinstance(a, (list, tuple)) else [a])]
            if not numbers or any(math.isnan(n) for n in numbers):
                return math.nan
            return (max if name == "max" else min)(numbers)
        if name == "join":  # ODK's: the values (a repeat's answers, a several-choice's) between a separator
            values = [v for a in args[1:] for v in (a if isinstance(a, (list, tuple)) else [a])]
            return _text(args[0]).join(_text(v) for v in values if _text(v) != "")
        if name == "indexed-repeat":  # ODK's: the answer of the n-th item of a list (bind() checked the first)
            target, n = node[2][0], _num(args[2])
            if target[0] != "field" or math.isnan(n):
                return ""  # a name read as empty (a question left out), or no position
            section = self.outer[target[1]][0]
            return lookup.item_value(section, target[1], int(n))
        if name in ("format-date", "format-date-time"):
            return _format_date(args[0], _text(args[1]))
        if name == "pi":
            return math.pi
        if name in _MATH or name in ("pow", "atan2"):
            n = _num(args[0])
            try:
                if name in ("pow", "atan2"):
                    return (math.pow if name == "pow" else math.atan2)(n, _num(args[1]))
                return _MATH[name](n)
            except (ValueError, OverflowError):  # sqrt(-1), log(0): no value, as NaN
                return math.nan
        return name == "true"


def column_names(expression: Expression) -> frozenset[str]:
    """The choice columns a choice_filter expression reads (its bare names)."""
    return frozenset(n[1] for n in _walk(expression.tree) if n[0] == "col")


def parse_expression(source: str, *, columns: bool = False) -> Expression:
    """Parse an expression once (at form load); XPathError says what is wrong in one line. `columns`: a
    choice_filter, where a bare name is a column of the choice being filtered (`name`, `label`, any other)."""
    if isinstance(source, bool) or not isinstance(source, (str, int, float)):
        raise XPathError("must be an expression in quotes")
    source = str(source)
    tree = _Parser(source, columns).parse()
    return Expression(source.strip(), tree, frozenset(_fields(tree)), _uses_dot(tree))
