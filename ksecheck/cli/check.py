"""``ksecheck check``: explore a configuration and check its properties."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ksecheck.checker.errors import UsageError
from ksecheck.checker.explicit.options import ENGINES, Limits, Options, Progress
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results import trace as tracing
from ksecheck.checker.results.jsonout import result_json
from ksecheck.checker.results.junit import junit_xml
from ksecheck.checker.results.text import render

from .common import EXIT_CODES, add_model_arguments, catalogue, colour, positive


def add_parser(sub) -> None:
    """Add ``check`` to the command line."""
    c = sub.add_parser("check", help="explore a configuration breadth-first and check its properties")
    add_model_arguments(c)
    c.add_argument("--json", action="store_true", help="print the result as JSON (schema ksecheck-result/1)")
    c.add_argument("--stop-at-first", action="store_true",
                   help="stop at the first violated invariant instead of checking every property")
    c.add_argument("--max-states", type=positive(int), metavar="N", help="stop after N distinct states")
    c.add_argument("--max-depth", type=positive(int), metavar="N", help="explore at most N steps deep")
    c.add_argument("--timeout", type=positive(float), metavar="SECONDS", help="stop after SECONDS")
    c.add_argument("--save-traces", metavar="DIR", help="write each counterexample as DIR/<property>.json")
    c.add_argument("--witnesses", action="store_true", help="also print a witness for every reached goal")
    c.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    c.add_argument("--engine", choices=ENGINES, default="auto",
                   help="successors: compiled from the model (auto, the default, falls back to "
                        "interpreted when it cannot), interpreted, or vector (numpy, a frontier "
                        "at a time: fastest on big configurations)")
    c.add_argument("--symmetry", action="store_true",
                   help="symmetry reduction (vector engine): explore one state per orbit of "
                        "interchangeable thread slots, upcall slots and mailboxes")
    c.add_argument("--workers", type=positive(int), default=1, metavar="N",
                   help="search with N processes (vector engine, implied): the same states, "
                        "verdicts and shortest traces as one process, faster on several cores")
    c.add_argument("--junit", metavar="FILE",
                   help="also write JUnit XML: one test case per property, failures carrying the trace")


def run(args) -> int:
    """Run ``ksecheck check``; returns the exit code."""
    family, config = catalogue().resolve(args.model, args.config)
    model = family.instantiate(config, args.variant)
    show_progress = not args.json and not args.no_progress
    if args.workers > 1 and args.engine not in ("auto", "vector"):
        raise UsageError("--workers works with the vector engine; drop --engine or use vector")
    if args.symmetry:
        if family.symmetry is None:
            raise UsageError(f"model {family.name} declares no symmetry; drop --symmetry")
        if args.engine not in ("auto", "vector"):
            raise UsageError("--symmetry works with the vector engine; drop --engine or use vector")
    options = Options(limits=Limits(args.max_states, args.max_depth, args.timeout),
                      stop_at_first=args.stop_at_first, engine=args.engine, workers=args.workers,
                      symmetry=family.symmetry(config.constants) if args.symmetry else None,
                      on_progress=_progress_printer() if show_progress else None)
    result = explore(model, options)
    if show_progress and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.save_traces:
        _save_traces(result, Path(args.save_traces))
    if args.junit:
        try:
            Path(args.junit).write_text(junit_xml([result]))
        except OSError as exc:
            raise UsageError(f"cannot write JUnit XML to {args.junit}: {exc.strerror}") from None
    if args.json:
        print(json.dumps(result_json(result), indent=1))
    else:
        print(render(result, colour=colour(), witnesses=args.witnesses))
    return EXIT_CODES[result.outcome]


def _progress_printer():
    tty = sys.stderr.isatty()

    def show(p: Progress) -> None:
        line = (f"  {p.states:,} states, {p.queue:,} queued, depth {p.depth}, "
                f"{p.rate:,.0f} states/s, {p.seconds:.0f} s")
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
    return show


def _save_traces(result, directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for p in result.properties:
            if p.trace is not None and p.trace.kind == "counterexample":
                tracing.save(p.trace, directory / f"{p.name}.json")
    except OSError as exc:
        raise UsageError(f"cannot write traces to {directory}: {exc.strerror}") from None
