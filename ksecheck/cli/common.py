"""What every command shares: the parser's error handling, argument types, exit codes,
signals."""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys

from ksecheck.checker.errors import UsageError
from ksecheck.checker.results.result import Verdict

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_FAILED = 0, 1, 2, 3, 70
"""0: every property holds; 1: a property is violated (or a goal never reached); 2: usage
or model error; 3: incomplete or unknown; 70: ksecheck failed (a crash, out of memory,
output that could not be written): no verdict."""
EXIT_INTERRUPTED, EXIT_PIPE, EXIT_TERMINATED = 130, 141, 143
"""Ended by SIGINT (Ctrl-C), by the reader of the output going away, by SIGTERM: 128 plus
the signal's number, as a shell reports a process the signal killed."""
EXIT_CODES = {Verdict.HOLDS: EXIT_OK, Verdict.VIOLATED: EXIT_VIOLATED,
              Verdict.INCOMPLETE: EXIT_INCOMPLETE, Verdict.UNKNOWN: EXIT_INCOMPLETE}
"""The exit code of each overall outcome."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2, with no usage dump."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def number(kind, least, what: str):
    """An argparse type: a finite number of ``kind`` (``int`` or ``float``) of at least
    ``least``."""
    def parse(text: str):
        value = _finite(kind, text, what)
        if value < least:
            raise argparse.ArgumentTypeError(f"{text} must be at least {least}")
        return value
    return parse


def positive(kind):
    """An argparse type: a finite number of ``kind`` greater than zero."""
    def parse(text: str):
        value = _finite(kind, text, "a whole number" if kind is int else "a number")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be greater than zero")
        return value
    return parse


def _finite(kind, text: str, what: str):
    """``text`` as a number of ``kind``; not a number, not a number of ``kind``, NaN and
    the infinities are refused."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def path(text: str) -> str:
    """An argparse type: a file or folder name, which cannot be empty."""
    if not text:
        raise argparse.ArgumentTypeError("an empty name names no file")
    return text


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


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt so that clean-up runs."""


def terminate(signum, frame) -> None:
    """A signal handler: raise :class:`Terminated`."""
    raise Terminated()


@contextlib.contextmanager
def handling(handler, *signums: int):
    """Run the block with ``handler`` for the signals ``signums``; then the previous ones."""
    old = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def colour() -> bool:
    """Whether to colour standard output."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ
