"""A small evaluator for the XPath subset XLSForm uses in `relevant` and `constraint`.

Supported: comparisons (= != < <= > >=), `and`, `or`, `not(...)`, parentheses, string ('…' or "…") and number
literals, `.` (the answer being checked), `${field}` (another answer of the same section or repeat item),
and the functions string-length(x), regex(x, 'pattern'), selected(${f}, 'v'), count-selected(x), true(), false().
Anything else (arithmetic, other functions, paths) is refused when the form loads, never at answer time.

Values are read as XLSForm does: an unanswered field is the empty string, a yes/no answer is 'yes' or 'no', a
several-choice answer is its values separated by spaces (so `selected()` works on it), a date is 'YYYY-MM-DD'.
A comparison is numeric when one side is a number and the other reads as one, else it compares the strings.
"""

from __future__ import annotations

import re

import regex  # mrab-regex: Python's re syntax, with a time limit per search
from dataclasses import dataclass, field
from typing import Any, Mapping

REGEX_TIMEOUT = 0.2  # seconds one regex() may take on an answer
FUNCTIONS = {"not": 1, "string-length": 1, "regex": 2, "selected": 2, "count-selected": 1, "true": 0, "false": 0}
COMPARISONS = ("=", "!=", "<=", ">=", "<", ">")
_TOKEN = re.compile(r"""\s*(?:
    (?P<field>\$\{(?P<fname>[^}]*)\})
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_:\-]*)
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
    def __init__(self, source: str):
        self.source = source
        self.tokens = _tokens(source)
        self.pos = 0

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
        node = self.comparison()
        while self.peek() == ("name", "and"):
            self.take()
            node = ("and", node, self.comparison())
        return node

    def comparison(self) -> tuple:
        node = self.primary()
        tok = self.peek()
        if tok is not None and tok[0] == "op":
            self.take()
            node = ("cmp", tok[1], node, self.primary())
            if self.peek() is not None and self.peek()[0] == "op":
                raise XPathError(f"chained comparison in {self.source!r}: use and")
        return node

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind in ("number", "string"):
            return ("lit", value)
        if kind == "dot":
            return ("dot",)
        if kind == "field":
            return ("field", value)
        if kind == "(":
            node = self.or_expr()
            self.expect(")")
            return node
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
            if len(args) != FUNCTIONS[value]:
                raise XPathError(f"{value}() takes {FUNCTIONS[value]} argument(s), got {len(args)}")
            if value == "regex":
                if args[1][0] != "lit" or not isinstance(args[1][1], str):
                    raise XPathError("regex() needs a quoted pattern as its second argument")
                try:
                    regex.compile(args[1][1])
                except regex.error as exc:
                    raise XPathError(f"regex() pattern {args[1][1]!r} is not valid ({exc})") from None
            return ("call", value, tuple(args))
        raise XPathError(f"unexpected {value!r} in {self.source!r}")


def _fields(node: tuple) -> set[str]:
    if node[0] == "field":
        return {node[1]}
    found: set[str] = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            if part and isinstance(part[0], str):
                found |= _fields(part)
            else:
                for arg in part:
                    found |= _fields(arg)
    return found


def _uses_dot(node: tuple) -> bool:
    if node[0] == "dot":
        return True
    return any(isinstance(p, tuple) and (_uses_dot(p) if p and isinstance(p[0], str) else any(_uses_dot(a) for a in p))
               for p in node[1:])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
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


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
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
        if a is None or b is None:  # an empty or non-numeric answer: only "!=" holds
            return op == "!="
    else:
        a, b = _text(left), _text(right)
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


@dataclass(frozen=True)
class Expression:
    """One parsed expression; equal when their source text is equal."""

    source: str
    tree: tuple = field(compare=False, repr=False, default=())
    fields: frozenset[str] = field(compare=False, repr=False, default=frozenset())
    uses_dot: bool = field(compare=False, repr=False, default=False)

    def holds(self, values: Mapping[str, Any], value: Any = None) -> bool:
        """Whether the expression is true for the answers of one scope; `.` is `value`."""
        return _truth(self._eval(self.tree, values, value))

    def _eval(self, node: tuple, values: Mapping[str, Any], value: Any) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "dot":
            return value
        if kind == "field":
            return values.get(node[1])
        if kind == "or":
            return _truth(self._eval(node[1], values, value)) or _truth(self._eval(node[2], values, value))
        if kind == "and":
            return _truth(self._eval(node[1], values, value)) and _truth(self._eval(node[2], values, value))
        if kind == "cmp":
            return _compare(node[1], self._eval(node[2], values, value), self._eval(node[3], values, value))
        name, args = node[1], [self._eval(a, values, value) for a in node[2]]
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
        return name == "true"


def parse_expression(source: str) -> Expression:
    """Parse an expression once (at form load); XPathError says what is wrong in one line."""
    if not isinstance(source, str):
        raise XPathError("must be an expression in quotes")
    tree = _Parser(source).parse()
    return Expression(source.strip(), tree, frozenset(_fields(tree)), _uses_dot(tree))
