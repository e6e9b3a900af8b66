"""``ksecheck regress``: re-measure configurations and variants against the pinned numbers."""
from __future__ import annotations

import sys
from pathlib import Path

from ksecheck.checker import regress
from ksecheck.checker.errors import UsageError
from ksecheck.checker.results.text import printable, styler

from .common import EXIT_OK, EXIT_VIOLATED, catalogue, colour, path


def add_parser(sub) -> None:
    """Add ``regress`` to the command line."""
    g = sub.add_parser("regress", help="re-measure configurations and variants against the pinned numbers")
    g.add_argument("--slow", action="store_true", help="include the slow configurations (minutes)")
    g.add_argument("--only", action="append", default=[], metavar="RUN",
                   help="only this run: a configuration, or CONFIG+VARIANT (repeatable)")
    g.add_argument("--update", action="store_true", help="write the measured numbers into the pinned file")
    g.add_argument("--file", type=path,
                   help="pinned numbers (default: the repository's model/pinned.json)")


def run(args) -> int:
    """Run ``ksecheck regress``; returns the exit code."""
    from ksecheck.registry import PINNED
    cat = catalogue()
    pinned_path = Path(args.file) if args.file else PINNED
    pinned = regress.load(pinned_path) if pinned_path.exists() or not args.update else {}
    every = list(regress.runs(cat))
    chosen = [r for r in every if (args.slow or r.tier == "ci") and (not args.only or r.key in args.only)]
    unknown = [k for k in args.only if k not in {r.key for r in every}]
    if unknown:
        raise UsageError(f"no pinned run {unknown[0]!r}; runs are configurations or CONFIG+VARIANT "
                         "(see `ksecheck list`)")
    if args.update:
        for run in chosen:
            pinned[run.key] = regress.measure(cat, run)
            print(f"measured {run.key}", file=sys.stderr)
        regress.save(pinned_path, pinned)
        print(f"wrote {len(chosen)} run(s) to {pinned_path}")
        return EXIT_OK
    style = styler(colour())

    def report(run, diff):
        mark = style("ok", "good") if not diff else style("MOVED", "bad")
        print(f"{mark:>5}  {run.key}")
        for line in diff:  # names in it come from the pinned file
            print(f"         {printable(line)}")
    moved = regress.check(cat, pinned, chosen, report)
    print(f"\n{len(chosen) - len(moved)} of {len(chosen)} runs match {pinned_path}"
          + ("" if args.slow else " (slow runs skipped: --slow)"))
    return EXIT_VIOLATED if moved else EXIT_OK
