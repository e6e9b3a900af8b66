"""The ``ksecheck report`` subcommand: regenerate the verification report.

``ksecheck.cli`` calls :func:`add_parser` while building its parser and
:func:`run` for ``ksecheck report``.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import ksecheck.reports

from .common import EXIT_OK, handling, path, positive, terminate

_HERE = Path(ksecheck.reports.__file__).resolve().parent
DEFAULT_OUT = _HERE if (_HERE.parent / "pyproject.toml").is_file() else Path("reports")
"""The committed report lives beside this package in the repository (``reports/``);
an installed copy writes to ``./reports``."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "report", help="regenerate the verification report (Markdown, HTML, SVG pictures)",
        description="Explore every ci configuration and variant of the KSE models and write the "
                    "report: kse-report.md, kse-report.html, img/*.svg and a DOT state graph.")
    p.add_argument("--out", metavar="DIR", type=lambda text: Path(path(text)), default=DEFAULT_OUT,
                   help="where to write it (default: the repository's reports/)")
    p.add_argument("--timings", action="store_true",
                   help="add search times (never in the committed report: it must not change "
                        "from run to run)")
    p.add_argument("--jobs", metavar="N", type=positive(int), default=None,
                   help="worker processes (default: one per CPU); the report is the same for any N")
    return p


def run(args) -> int:
    """Generate the report into ``args.out``; prints what it wrote; returns the exit code.

    SIGTERM ends it as Ctrl-C does: the worker processes stop with it.
    """
    from ksecheck.registry import PINNED, catalogue

    from ksecheck.reports.generate import HTML, MARKDOWN, generate, write
    with handling(terminate, signal.SIGTERM):
        files = generate(catalogue(), PINNED, timings=args.timings, workers=args.jobs)
        written = write(files, args.out)
    print(f"wrote {len(written)} files to {args.out}: {MARKDOWN}, {HTML}, "
          f"{sum(1 for p in files if p.endswith('.svg'))} pictures")
    if args.timings:
        print("with timings: this report differs from run to run; do not commit it", file=sys.stderr)
    return EXIT_OK
