"""The ``ksecheck prove`` subcommand: Z3 engines on a named configuration.

Modes: ``bmc`` (shortest counterexamples up to ``--depth``), ``pdr`` (IC3:
shortest counterexamples, or a proof found without lemmas), ``induction``
(one query per action and invariant, assuming the lemmas), ``kinduction``
(``-k`` steps), ``proof`` (invariants and lemmas inductive and initial: a
proof for every reachable state), ``any-size`` (the family's relational
proof for every size). Lemmas are the family's (``Family.lemmas``).
Exit codes: 0 every query holds, 1 a counterexample (a real one, or a
counterexample to induction), 2 usage error, 3 unknown or bound reached.
"""
from __future__ import annotations

import argparse
import json

from ksecheck.checker.errors import UsageError
from ksecheck.checker.results.jsonout import PROOF_SCHEMA, result_json
from ksecheck.checker.results.result import Result, Verdict
from ksecheck.checker.results.text import render
from ksecheck.checker.symbolic.bmc import bmc
from ksecheck.checker.symbolic.goals import goals
from ksecheck.checker.symbolic.induction import PER, induction, kinduction, prove
from ksecheck.checker.symbolic.pdr import pdr
from .common import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATED, add_model_arguments, catalogue, number, positive

MODES = ("bmc", "pdr", "induction", "kinduction", "proof", "any-size")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``prove`` to the CLI's subparsers; returns its parser."""
    p = subparsers.add_parser(
        "prove", help="check invariants with Z3: bounded model checking, induction, proofs",
        description=__doc__.split("\n\n")[1])
    add_model_arguments(p)
    p.add_argument("--mode", choices=MODES, default="proof",
                   help="bmc, pdr, induction, kinduction, proof (at one configuration) or any-size "
                        "(the design for every size: every number of threads, upcalls, mailboxes; "
                        "default: proof)")
    p.add_argument("--depth", type=number(int, 0, "a whole number"), default=10, metavar="K",
                   help="bmc and pdr: look for counterexamples of up to K steps (default 10)")
    p.add_argument("-k", type=number(int, 1, "a whole number"), default=2, metavar="K",
                   help="k-induction: the number of steps (default 2)")
    p.add_argument("--property", action="append", default=[], metavar="NAME",
                   help="check only this invariant (repeatable; deadlock_free included)")
    p.add_argument("--per", choices=PER, default="action",
                   help="induction: one query per action (default) or per action instance")
    p.add_argument("--no-lemmas", action="store_true",
                   help="do not assume or prove the model's strengthening lemmas")
    p.add_argument("--timeout", type=positive(float), metavar="SECONDS",
                   help="give up on a single solver query after SECONDS (verdict UNKNOWN)")
    p.add_argument("--json", action="store_true", help=f"print the result as JSON ({PROOF_SCHEMA})")
    return p


def run(args) -> int:
    """Run ``ksecheck prove``; returns the exit code."""
    if args.mode == "any-size":
        return _any_size(args)
    family, config = catalogue().resolve(args.model, args.config)
    model = family.instantiate(config, args.variant)
    targets = goals(model, args.property or None)
    use_lemmas = not args.no_lemmas and args.mode not in ("bmc", "pdr") and family.lemmas is not None
    lemmas = list(family.lemmas(config.constants)) if use_lemmas else []
    if args.mode == "bmc":
        result = bmc(model, args.depth, targets, timeout=args.timeout)
    elif args.mode == "pdr":
        result = pdr(model, args.depth, targets, timeout=args.timeout)
    elif args.mode == "induction":
        result = induction(model, targets, lemmas, per=args.per, timeout=args.timeout)
    elif args.mode == "kinduction":
        result = kinduction(model, args.k, targets, lemmas, timeout=args.timeout)
    elif args.mode == "proof":
        result = prove(model, targets, lemmas, per=args.per, timeout=args.timeout)
    else:
        raise UsageError(f"unknown mode {args.mode!r}; choose one of {', '.join(MODES)}")
    return _report(result, args)


def _report(result: Result, args) -> int:
    """Print ``result`` (text or JSON); its exit code."""
    if args.json:
        print(json.dumps(result_json(result), indent=1))
    else:
        print(render(result))
    return exit_code(result)


def exit_code(result: Result) -> int:
    """1 on a counterexample (real, or to induction); 3 when a query gave up or a goal is open.

    In the ``induction`` and ``kinduction`` modes every query holding is
    success (0), even where the goals rest on lemmas those modes do not prove.
    """
    if result.outcome is Verdict.VIOLATED or any(q.verdict is Verdict.VIOLATED
                                                 for q in result.queries):
        return EXIT_VIOLATED
    if any(q.verdict is not Verdict.HOLDS for q in result.queries):
        return EXIT_INCOMPLETE
    if result.mode in ("induction", "kinduction"):
        return EXIT_OK
    return EXIT_OK if result.outcome is Verdict.HOLDS else EXIT_INCOMPLETE


def _any_size(args) -> int:
    """The family's proof for every size (every number of threads, upcalls and mailboxes)."""
    if args.config or args.variant or args.property:
        raise UsageError("--mode any-size proves a design for every size: it takes no "
                         "--config, --variant or --property")
    family = catalogue().family(args.model or catalogue().default)
    if family.any_size is None:
        raise UsageError(f"model {family.name} has no proof for every size; "
                         "use --mode proof on a configuration")
    return _report(family.any_size(args.timeout), args)
