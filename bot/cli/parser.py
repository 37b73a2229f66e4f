"""argparse in Vietnamese: its own strings translated, and a mistake as one line pointing at --help."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import NoReturn

from conversations import texts

# argparse's own strings (Python 3.11's, looked up through its module-level gettext `_`).
_CATALOG = {
    "usage: ": texts.ARG_USAGE,
    "positional arguments": texts.ARG_POSITIONALS,
    "options": texts.ARG_OPTIONS,
    "show this help message and exit": texts.ARG_HELP,
    "show program's version number and exit": texts.ARG_VERSION,
    "the following arguments are required: %s": texts.ARG_REQUIRED,
    "invalid choice: %(value)r (choose from %(choices)s)": texts.ARG_INVALID_CHOICE,
    "unrecognized arguments: %s": texts.ARG_UNRECOGNIZED,
    "expected one argument": texts.ARG_EXPECTED_ONE,
    "invalid %(type)s value: %(value)r": texts.ARG_INVALID_VALUE,
    "not allowed with argument %s": texts.ARG_NOT_ALLOWED,
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
}


@contextlib.contextmanager
def _vietnamese():
    original = argparse._
    argparse._ = lambda message: _CATALOG.get(message, original(message))
    try:
        yield
    finally:
        argparse._ = original


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors are Vietnamese; an error is one line on stderr, exit status 2."""

    def __init__(self, *args, **kwargs):
        with _vietnamese():
            super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("title", texts.ARG_COMMANDS)
        kwargs.setdefault("metavar", texts.ARG_COMMAND_METAVAR)  # named so in "thiếu tham số bắt buộc: LỆNH"
        return super().add_subparsers(**kwargs)

    def parse_args(self, args=None, namespace=None):
        with _vietnamese():
            return super().parse_args(args, namespace)

    def parse_known_args(self, args=None, namespace=None):
        with _vietnamese():
            return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        with _vietnamese():
            return super().format_help()

    def format_usage(self) -> str:
        with _vietnamese():
            return super().format_usage()

    def error(self, message: str) -> NoReturn:
        print(texts.ARG_ERROR.format(prog=self.prog, message=message) + texts.ARG_HELP_HINT.format(prog=self.prog),
              file=sys.stderr)
        sys.exit(2)
