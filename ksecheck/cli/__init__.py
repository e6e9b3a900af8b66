"""The ``ksecheck`` command line: one module per command, exit codes in :mod:`.common`.

Exit codes: 0 every property holds; 1 a property is violated (or a goal
never reached); 2 usage or model error; 3 incomplete or unknown; 70 ksecheck
itself failed.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from ksecheck.checker.errors import CheckerBug, KsecheckError

from . import check, listing, prove, regress, replay, report
from .common import EXIT_INTERNAL, EXIT_USAGE, Parser

COMMANDS = {"check": check, "replay": replay, "list": listing, "regress": regress,
            "prove": prove, "report": report}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    p = Parser(prog="ksecheck", description="An explicit-state and symbolic model checker; "
                                            "its default model is FreeBSD's KSE upcall protocol.")
    sub = p.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return COMMANDS[args.command].run(args)
    except KsecheckError as exc:
        print(f"ksecheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CheckerBug as exc:
        print(f"ksecheck: internal error (please report): {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("ksecheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``ksecheck list | head``): stop quietly
        with contextlib.suppress(OSError, ValueError):  # and keep the exit's flush quiet too
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
