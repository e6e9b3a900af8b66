"""The ``ksecheck`` command line: check, replay, list.

Exit codes: 0 every property holds; 1 a property is violated (or a goal
never reached); 2 usage or model error; 3 incomplete or unknown.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from tabulate import tabulate

from ksecheck.checker import regress
from ksecheck.checker.results import trace as tracing
from ksecheck.checker.errors import CheckerBug, KsecheckError, UsageError
from ksecheck.checker.explicit.options import ENGINES, Limits, Options, Progress
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.jsonout import result_json
from ksecheck.checker.results.junit import junit_xml
from ksecheck.checker.results.text import format_trace, render, styler
from ksecheck.checker.results.result import Verdict

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_CODES = {Verdict.HOLDS: EXIT_OK, Verdict.VIOLATED: EXIT_VIOLATED,
              Verdict.INCOMPLETE: EXIT_INCOMPLETE, Verdict.UNKNOWN: EXIT_INCOMPLETE}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        raise UsageError(f"{message} (see `{self.prog} --help`)")


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


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ksecheck", description="Model checker for FreeBSD's KSE upcall protocol.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    c = sub.add_parser("check", help="explore a configuration breadth-first and check its properties")
    c.add_argument("--model", help="model family (default: upcall; implied by --config)")
    c.add_argument("--config", help="named configuration (default: the model's default)")
    c.add_argument("--variant", action="append", default=[], metavar="NAME",
                   help="turn on a bug variant (repeatable)")
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
    r = sub.add_parser("replay", help="re-validate a saved trace against the model and print it")
    r.add_argument("file", help="a trace written by `ksecheck check --save-traces`")
    sub.add_parser("list", help="list models, configurations, variants and properties")
    g = sub.add_parser("regress", help="re-measure configurations and variants against the pinned numbers")
    g.add_argument("--slow", action="store_true", help="include the slow configurations (minutes)")
    g.add_argument("--only", action="append", default=[], metavar="RUN",
                   help="only this run: a configuration, or CONFIG+VARIANT (repeatable)")
    g.add_argument("--update", action="store_true", help="write the measured numbers into the pinned file")
    g.add_argument("--file", help="pinned numbers (default: the repository's model/pinned.json)")
    from ksecheck.cli import report as report_cli

    from ksecheck.cli import prove as prove_cli
    prove_cli.add_parser(sub)
    report_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        if args.command == "check":
            return _check(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "list":
            return _list()
        if args.command == "regress":
            return _regress(args)
        if args.command == "prove":
            from ksecheck.cli import prove as prove_cli
            return prove_cli.run(args)
        if args.command == "report":
            from ksecheck.cli import report as report_cli
            return report_cli.run(args)
        build_parser().print_help()
        return EXIT_USAGE
    except KsecheckError as exc:
        print(f"ksecheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CheckerBug as exc:
        print(f"ksecheck: internal error (please report): {exc}", file=sys.stderr)
        return 70
    except KeyboardInterrupt:
        print("ksecheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``ksecheck list | head``): stop quietly
        with contextlib.suppress(OSError, ValueError):  # and keep the exit's flush quiet too
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _catalogue():
    from ksecheck.model.registry import catalogue
    return catalogue()


def _check(args) -> int:
    family, config = _catalogue().resolve(args.model, args.config)
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
        print(render(result, colour=_colour(), witnesses=args.witnesses))
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


def _replay(args) -> int:
    data = tracing.read(args.file)
    config, model_name = data.get("config"), data.get("model")
    if not isinstance(config, str) or not isinstance(model_name, (str, type(None))):
        raise KsecheckError(f"{args.file}: the trace must name its \"model\" and \"config\" as strings")
    family, cfg = _catalogue().resolve(model_name, config)
    variants = data.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        raise KsecheckError(f"{args.file}: \"variants\" must be a list of names")
    model = family.instantiate(cfg, variants)
    trace = tracing.from_json(model, data)
    print(format_trace(trace, style=styler(_colour())))
    print(f"\nThe trace replays: {len(trace)} steps, every step enabled and every change as recorded.")
    return EXIT_OK


def _list() -> int:
    cat = _catalogue()
    rows = []
    for fam in cat.families.values():
        for cfg in fam.configs:
            consts = " ".join(f"{k}={v}" for k, v in cfg.constants.items())
            default = " (default)" if cfg.name == fam.default_config else ""
            rows.append([fam.name, cfg.name + default, consts, cfg.doc])
    print(tabulate(rows, headers=["model", "configuration", "constants", "use"]))
    vrows = [[fam.name, v.name, ", ".join(v.violates), v.doc]
             for fam in cat.families.values() for v in fam.variants]
    if vrows:
        print()
        print(tabulate(vrows, headers=["model", "variant", "must violate", "re-introduces"]))
    prows = []
    for fam in cat.families.values():
        model = fam.instantiate(fam.default_config or fam.configs[0].name)
        prows += [[fam.name, p.name, p.kind, p.source] for p in model.properties]
    print()
    print(tabulate(prows, headers=["model", "property", "kind", "source"]))
    return EXIT_OK


def _regress(args) -> int:
    from ksecheck.model.registry import PINNED
    cat = _catalogue()
    path = Path(args.file) if args.file else PINNED
    pinned = regress.load(path) if path.exists() or not args.update else {}
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
        regress.save(path, pinned)
        print(f"wrote {len(chosen)} run(s) to {path}")
        return EXIT_OK
    style = styler(_colour())

    def report(run, diff):
        mark = style("ok", "good") if not diff else style("MOVED", "bad")
        print(f"{mark:>5}  {run.key}")
        for line in diff:
            print(f"         {line}")
    moved = regress.check(cat, pinned, chosen, report)
    print(f"\n{len(chosen) - len(moved)} of {len(chosen)} runs match {path}"
          + ("" if args.slow else " (slow runs skipped: --slow)"))
    return EXIT_VIOLATED if moved else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
