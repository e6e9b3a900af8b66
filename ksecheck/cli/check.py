"""``ksecheck check``: explore a configuration and check its properties."""
from __future__ import annotations

import json
import resource
import signal
import sys
from pathlib import Path

from ksecheck.checker.errors import UsageError
from ksecheck.checker.explicit.options import ENGINES, Limits, Options, Progress
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results import trace as tracing
from ksecheck.checker.results.files import make_folder, write_atomic
from ksecheck.checker.results.jsonout import result_json
from ksecheck.checker.results.junit import junit_xml
from ksecheck.checker.results.text import render

from .common import (EXIT_CODES, Terminated, add_model_arguments, catalogue, colour, handling,
                     path, positive)

SPARE_FILES = 64
"""Open files kept free beside the workers' pipes (the interpreter, libraries, outputs)."""


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
    c.add_argument("--save-traces", type=path, metavar="DIR",
                   help="write each counterexample as DIR/<property>.json")
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
    c.add_argument("--junit", type=path, metavar="FILE",
                   help="also write JUnit XML: one test case per property, failures carrying the trace")


def run(args) -> int:
    """Run ``ksecheck check``; returns the exit code.

    The first SIGINT or SIGTERM stops the search between chunks: the partial
    result (INCOMPLETE) is reported as usual and the exit code is 130 or 143.
    A second one ends the command at once.
    """
    family, config = catalogue().resolve(args.model, args.config)
    model = family.instantiate(config, args.variant)
    show_progress = not args.json and not args.no_progress
    if args.workers > 1 and args.engine not in ("auto", "vector"):
        raise UsageError("--workers works with the vector engine; drop --engine or use vector")
    most = max_workers()
    if args.workers > most:
        raise UsageError(f"--workers {args.workers} is more than this machine allows: at most "
                         f"{most} with the open-file limit of {_open_files():,} (each pair of "
                         "workers needs its own pipes; raise the limit with `ulimit -n`)")
    if args.symmetry:
        if family.symmetry is None:
            raise UsageError(f"model {family.name} declares no symmetry; drop --symmetry")
        if args.engine not in ("auto", "vector"):
            raise UsageError("--symmetry works with the vector engine; drop --engine or use vector")
    progress = Watch(show_progress)
    stop = Stop()
    options = Options(limits=Limits(args.max_states, args.max_depth, args.timeout),
                      stop_at_first=args.stop_at_first, engine=args.engine, workers=args.workers,
                      symmetry=family.symmetry(config.constants) if args.symmetry else None,
                      on_progress=progress, cancelled=stop.asked)
    result = _search(model, options, progress, stop)
    if show_progress and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.save_traces:
        _save_traces(result, Path(args.save_traces))
    if args.junit:
        write_atomic(args.junit, junit_xml([result]))
    if args.json:
        print(json.dumps(result_json(result), indent=1))
    else:
        print(render(result, colour=colour(), witnesses=args.witnesses))
    if stop.signum is not None:
        name = signal.Signals(stop.signum).name
        print(f"ksecheck: {name}: the search stopped early; the result above is partial",
              file=sys.stderr)
        return 128 + stop.signum
    return EXIT_CODES[result.outcome]


def _search(model, options: Options, progress: "Watch", stop: "Stop"):
    """The search's result; out of memory, an error that names how far the search got."""
    with handling(stop, signal.SIGINT, signal.SIGTERM):
        try:
            return explore(model, options)
        except MemoryError:
            pass  # out of the handler first: its traceback holds the search's memory
        except Exception:
            if stop.signum is None:
                raise
            # a worker process ended by the same signal: the signal ends the command
            raise KeyboardInterrupt if stop.signum == signal.SIGINT else Terminated() from None
    seen = progress.last
    where = f"after {seen.states:,} states at depth {seen.depth}" if seen else "early in the search"
    tips = ["--workers N", "a limit (--max-states, --max-depth)"]
    if options.symmetry is None:
        tips.insert(0, "--symmetry")
    if options.engine != "vector":
        tips.insert(0, "--engine vector (smaller states)")
    raise MemoryError(f"{where}; try {', '.join(tips[:-1])} or {tips[-1]}")


def max_workers() -> int:
    """The most worker processes the open-file limit allows: the parent opens two pipes per
    ordered pair of workers and a connection per worker, about 2 N^2 descriptors."""
    return max(1, int((max(0, _open_files() - SPARE_FILES) / 2) ** 0.5))


def _open_files() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 2**20


class Stop:
    """A signal handler: the first SIGINT or SIGTERM asks the search to stop (it returns a
    partial result); a second ends the command at once."""

    def __init__(self):
        self.signum: int | None = None

    def __call__(self, signum, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt if signum == signal.SIGINT else Terminated()
        self.signum = signum

    def asked(self) -> bool:
        """Whether a signal came: the search's ``cancelled``."""
        return self.signum is not None


class Watch:
    """The progress callback: keeps the last snapshot (an error out of memory says how far
    the search got) and prints it on standard error when ``show``."""

    def __init__(self, show: bool):
        self.show, self.tty, self.last = show, sys.stderr.isatty(), None

    def __call__(self, p: Progress) -> None:
        self.last = p
        if not self.show:
            return
        line = (f"  {p.states:,} states, {p.queue:,} queued, depth {p.depth}, "
                f"{p.rate:,.0f} states/s, {p.seconds:.0f} s")
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n",
              file=sys.stderr, flush=True)


def _save_traces(result, directory: Path) -> None:
    make_folder(directory)
    for p in result.properties:
        if p.trace is not None and p.trace.kind == "counterexample":
            tracing.save(p.trace, directory / f"{p.name}.json")
