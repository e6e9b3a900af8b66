"""What every command shares: the parser's error handling, argument types, exit codes."""
from __future__ import annotations

import argparse
import os
import sys

from ksecheck.checker.errors import UsageError
from ksecheck.checker.results.result import Verdict

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERNAL = 0, 1, 2, 3, 70
"""0: every property holds; 1: a property is violated (or a goal never reached); 2: usage
or model error; 3: incomplete or unknown; 70: ksecheck itself failed."""
EXIT_CODES = {Verdict.HOLDS: EXIT_OK, Verdict.VIOLATED: EXIT_VIOLATED,
              Verdict.INCOMPLETE: EXIT_INCOMPLETE, Verdict.UNKNOWN: EXIT_INCOMPLETE}
"""The exit code of each overall outcome."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2, with no usage dump."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def number(kind, least, what: str):
    """An argparse type: a number of ``kind`` (``int`` or ``float``) of at least ``least``."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{text} must be at least {least}")
        return value
    return parse


def positive(kind):
    """An argparse type: a number of ``kind`` greater than zero."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be greater than zero")
        return value
    return parse


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """``--model``, ``--config`` and ``--variant``: which model to check."""
    p.add_argument("--model", help="model family (default: upcall; implied by --config)")
    p.add_argument("--config", help="named configuration (default: the model's default)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME",
                   help="turn on a bug variant (repeatable)")


def catalogue():
    """Every model family the command line knows."""
    from ksecheck.registry import catalogue
    return catalogue()


def colour() -> bool:
    """Whether to colour standard output."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ
