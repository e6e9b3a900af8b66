"""The ``ksecheck`` command line: one module per command, exit codes in :mod:`.common`.

Exit codes: 0 every property holds; 1 a property is violated (or a goal
never reached); 2 usage or model error; 3 incomplete or unknown; 70 ksecheck
failed (a crash, out of memory, output that could not be written): no
verdict; 130 and 143 interrupted by SIGINT and SIGTERM; 141 the reader of
the output went away. :func:`main` is the one guard: whatever goes wrong
ends in one of these codes and one line on standard error, never in a
traceback (but under ``--debug``) and never in a code that reads as a verdict.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback

from ksecheck.checker.errors import CheckerBug, KsecheckError
from ksecheck.checker.results.files import WriteFailed
from ksecheck.checker.results.text import printable

from . import check, listing, prove, regress, replay, report
from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PIPE, EXIT_TERMINATED, EXIT_USAGE,
                     Parser, Terminated)

COMMANDS = {"check": check, "replay": replay, "list": listing, "regress": regress,
            "prove": prove, "report": report}

REPORT_IT = ("this is a bug in ksecheck, not a verdict on the model: please report it to its "
             "maintainers with the command line and the output of the same command with --debug")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    p = Parser(prog="ksecheck", description="An explicit-state and symbolic model checker; "
                                            "its default model is FreeBSD's KSE upcall protocol.")
    debug = "on a failure of ksecheck itself, print the full traceback"
    p.add_argument("--debug", action="store_true", help=debug)
    sub = p.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS.values():
        command.add_parser(sub)
    for command in sub.choices.values():  # also after the command's name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    if sys.stdout is None:  # started with standard output closed (``>&-``)
        return _say(EXIT_FAILED, "ksecheck: failed: standard output is closed, so no result "
                                 "could be printed")
    stdout, sys.stdout = sys.stdout, Output(sys.stdout)
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        code = COMMANDS[args.command].run(args)
        sys.stdout.flush()  # a full disk or a closed pipe shows here at the latest
        return code
    except (Exception, KeyboardInterrupt, Terminated) as exc:
        code, line = outcome(exc)
        if args is not None and args.debug:
            traceback.print_exception(exc)
    finally:
        sys.stdout = stdout
    with contextlib.suppress(OSError, ValueError):
        try:
            stdout.flush()
        except OSError:  # what is left in the buffer cannot go out: drop it, so that the
            os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())  # exit's flush is quiet
    return _say(code, line)


def outcome(exc: BaseException) -> tuple[int, str]:
    """The exit code and the line on standard error for a command that raised ``exc``."""
    if isinstance(exc, KsecheckError):
        return EXIT_USAGE, f"ksecheck: error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "ksecheck: interrupted"
    if isinstance(exc, Terminated):
        return EXIT_TERMINATED, "ksecheck: terminated"
    if isinstance(exc, BrokenPipeError):  # the reader went away (``ksecheck list | head``)
        return EXIT_PIPE, ""
    if isinstance(exc, WriteFailed):
        return EXIT_FAILED, f"ksecheck: failed: {exc}"
    if isinstance(exc, MemoryError):
        return EXIT_FAILED, "ksecheck: failed: out of memory" + (f" {exc}" if str(exc) else "")
    if isinstance(exc, CheckerBug):
        return EXIT_FAILED, f"ksecheck: internal error: {exc}; {REPORT_IT}"
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {where.filename}:{where.lineno}" if where else ""
    return EXIT_FAILED, f"ksecheck: internal error: {type(exc).__name__}: {exc}{at}; {REPORT_IT}"


def _say(code: int, line: str) -> int:
    """Print ``line`` (escaped, so one line) on standard error; returns ``code``."""
    if line and sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):  # standard error cannot take it either
            print(printable(line), file=sys.stderr, flush=True)
    return code


class Output:
    """Standard output whose failures name it: a write or a flush that fails, but for a
    reader that went away, raises :class:`WriteFailed`."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        with self._named():
            return self.stream.write(text)

    def flush(self) -> None:
        with self._named():
            self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @contextlib.contextmanager
    def _named(self):
        try:
            yield
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise WriteFailed(f"cannot write standard output: {exc.strerror}") from None
