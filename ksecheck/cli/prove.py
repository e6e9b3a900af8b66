"""The ``ksecheck prove`` subcommand: Z3 engines on a named configuration.

Modes: ``bmc`` (shortest counterexamples up to ``--depth``), ``pdr`` (IC3:
shortest counterexamples, or a proof found without lemmas), ``induction``
(one query per action and invariant, assuming the lemmas), ``kinduction``
(``-k`` steps), ``proof`` (invariants and lemmas inductive and initial: a
proof for every reachable state). Lemmas come from the module
``properties.<model>_lemmas`` (a function ``lemmas(constants)``), if there is
one. Exit codes: 0 every query holds, 1 a counterexample (a real one, or a
counterexample to induction), 2 usage error, 3 unknown or bound reached.
"""
from __future__ import annotations

import argparse
import importlib
import json
from typing import Any

from tabulate import tabulate

from ksecheck.checker.results import trace as tracing
from ksecheck.checker.symbolic.bmc import bmc
from ksecheck.cli import positive
from ksecheck.checker.core.contract import Model, Property
from ksecheck.checker.errors import UsageError
from ksecheck.checker.symbolic.induction import PER, induction, kinduction, prove
from ksecheck.checker.symbolic.pdr import pdr
from ksecheck.checker.symbolic.proof import Cti, ProofResult, goals
from ksecheck.checker.results.result import Verdict

MODES = ("bmc", "pdr", "induction", "kinduction", "proof", "any-size")
SCHEMA = "ksecheck-proof/1"
EXIT_OK, EXIT_VIOLATED, EXIT_OPEN = 0, 1, 3


def _at_least(least: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{text} must be at least {least}")
        return value
    return parse


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``prove`` to the CLI's subparsers; returns its parser."""
    p = subparsers.add_parser(
        "prove", help="check invariants with Z3: bounded model checking, induction, proofs",
        description=__doc__.split("\n\n")[1])
    p.add_argument("--model", help="model family (default: upcall; implied by --config)")
    p.add_argument("--config", help="named configuration (default: the model's default)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME",
                   help="turn on a bug variant (repeatable)")
    p.add_argument("--mode", choices=MODES, default="proof",
                   help="bmc, pdr, induction, kinduction, proof (at one configuration) or any-size "
                        "(the upcall design for every number of threads, upcalls and mailboxes; "
                        "default: proof)")
    p.add_argument("--depth", type=_at_least(0), default=10, metavar="K",
                   help="bmc and pdr: look for counterexamples of up to K steps (default 10)")
    p.add_argument("-k", type=_at_least(1), default=2, metavar="K",
                   help="k-induction: the number of steps (default 2)")
    p.add_argument("--property", action="append", default=[], metavar="NAME",
                   help="check only this invariant (repeatable; deadlock_free included)")
    p.add_argument("--per", choices=PER, default="action",
                   help="induction: one query per action (default) or per action instance")
    p.add_argument("--no-lemmas", action="store_true",
                   help="do not assume or prove the model's strengthening lemmas")
    p.add_argument("--timeout", type=positive(float), metavar="SECONDS",
                   help="give up on a single solver query after SECONDS (verdict UNKNOWN)")
    p.add_argument("--json", action="store_true", help=f"print the result as JSON ({SCHEMA})")
    return p


def lemmas_for(family_name: str, constants) -> list[Property]:
    """The strengthening lemmas of ``properties.<family>_lemmas``, or none."""
    module = f"ksecheck.properties.{family_name}_lemmas"
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return []
        raise
    return list(found.lemmas(constants))


def run(args) -> int:
    """Run ``ksecheck prove``; returns the exit code."""
    from ksecheck.model.registry import catalogue

    if args.mode == "any-size":
        return _any_size(args)
    family, config = catalogue().resolve(args.model, args.config)
    model = family.instantiate(config, args.variant)
    meta = {"config": config.name, "variants": list(args.variant),
            "constants": dict(config.constants)}
    targets = goals(model, args.property or None)
    lemmas = [] if args.no_lemmas or args.mode in ("bmc", "pdr") else lemmas_for(family.name, config.constants)
    if args.mode == "bmc":
        result = bmc(model, args.depth, targets, timeout=args.timeout, meta=meta)
    elif args.mode == "pdr":
        result = pdr(model, args.depth, targets, timeout=args.timeout, meta=meta)
    elif args.mode == "induction":
        result = induction(model, targets, lemmas, per=args.per, timeout=args.timeout, meta=meta)
    elif args.mode == "kinduction":
        result = kinduction(model, args.k, targets, lemmas, timeout=args.timeout, meta=meta)
    elif args.mode == "proof":
        result = prove(model, targets, lemmas, per=args.per, timeout=args.timeout, meta=meta)
    else:
        raise UsageError(f"unknown mode {args.mode!r}; choose one of {', '.join(MODES)}")
    if args.json:
        print(json.dumps(result_json(model, result), indent=1))
    else:
        print(render(model, result))
    return exit_code(result)


def exit_code(result: ProofResult) -> int:
    """1 on a counterexample (real, or to induction); 3 when a query gave up or a goal is open.

    In the ``induction`` and ``kinduction`` modes every query holding is
    success (0), even where the goals rest on lemmas those modes do not prove.
    """
    if result.outcome is Verdict.VIOLATED or any(q.verdict is Verdict.VIOLATED
                                                 for q in result.queries):
        return EXIT_VIOLATED
    if any(q.verdict is not Verdict.HOLDS for q in result.queries):
        return EXIT_OPEN
    if result.mode in ("induction", "kinduction"):
        return EXIT_OK
    return EXIT_OK if result.outcome is Verdict.HOLDS else EXIT_OPEN


# ---- text ------------------------------------------------------------------------

def _any_size(args) -> int:
    """The relational proof of the upcall design for every number of threads, upcalls, mailboxes."""
    if args.model not in (None, "upcall") or args.config or args.variant or args.property:
        raise UsageError("--mode any-size proves the upcall design for every size: it takes no "
                         "--model, --config, --variant or --property")
    if args.json:
        raise UsageError("--mode any-size prints a table; --json is not available for it")
    from ksecheck.properties.upcall_relational import format_results, prove_all_sizes
    result = prove_all_sizes(timeout=args.timeout)
    print(format_results(result))
    verdict = result.outcome
    return {Verdict.HOLDS: EXIT_OK, Verdict.VIOLATED: EXIT_VIOLATED}.get(verdict, EXIT_OPEN)


def render(model: Model, result: ProofResult) -> str:
    """The goal table, the open queries, the slowest queries, and every trace and CTI."""
    consts = " ".join(f"{k}={v}" for k, v in result.meta.get("constants", {}).items())
    variants = ", ".join(result.meta.get("variants", [])) or "none"
    bound = f" (bound {result.bound})" if result.bound is not None else ""
    parts = [f"model {result.model}, configuration {result.meta.get('config', '-')}"
             + (f" ({consts})" if consts else "") + f", variants: {variants}",
             f"mode: {result.mode}{bound}", ""]
    rows = [[g.name + (" (lemma)" if g.lemma else ""), g.verdict.value,
             len(g.trace) if g.trace is not None else "", g.note] for g in result.goals]
    parts.append(tabulate(rows, headers=["goal", "verdict", "trace", "note"]))
    open_q = [q for q in result.queries if q.verdict is not Verdict.HOLDS]
    if result.mode not in ("bmc", "pdr") and open_q:
        parts += ["", tabulate([[q.name, _answer(q), f"{q.seconds:.2f}", q.note] for q in open_q],
                               headers=["query", "answer", "seconds", "note"])]
    slowest = sorted(result.queries, key=lambda q: -q.seconds)[:5]
    counted = "frames (each a batch of one-step queries)" if result.mode == "pdr" else "solver queries"
    parts += ["", f"{len(result.queries)} {counted}, {result.seconds:.2f} s in the solver; "
                  "slowest: " + ", ".join(f"{q.name} {q.seconds:.2f} s" for q in slowest)]
    for g in result.goals:
        if g.trace is not None:
            parts += ["", tracing.format_trace(g.trace)]
    for cti in result.ctis:
        parts += ["", format_cti(model, cti)]
    parts += ["", f"Result: {result.outcome.value}"]
    return "\n".join(parts)


def _answer(q) -> str:
    if q.cti is None:
        return q.verdict.value
    return "FAILS" if q.cti.error else "CTI" if q.cti.instances else "VIOLATED"


def format_cti(model: Model, cti: Cti) -> str:
    """A CTI as its first state in full, then each step with only the variables it changed."""
    schema = model.schema
    if not cti.instances:
        head = f"An initial state breaks {cti.goal} ({cti.query}):"
        return "\n".join([head] + [f"    {line}" for line in tracing.format_state(model, cti.post)])
    if cti.error:
        lines = [f"Contract violation ({cti.query}): in a state satisfying every invariant and "
                 f"lemma, {cti.instance.label} raises: {cti.error}", "  state:"]
        return "\n".join(lines + [f"    {line}" for line in tracing.format_state(model, cti.pre)])
    lines = [f"Counterexample to induction of {cti.goal} ({cti.query}):",
             "  a state satisfying every invariant and lemma:"]
    lines += [f"    {line}" for line in tracing.format_state(model, cti.states[0])]
    width = max((len(n) for n in schema.slot_names), default=0)
    for n, (inst, before, after) in enumerate(zip(cti.instances, cti.states, cti.states[1:]), 1):
        lines.append(f"  {n:>3}. {inst.label}")
        for name, old, new in schema.diff(before, after):
            lines.append(f"         {name:<{width}}  {old} -> {new}")
    lines.append("  broken after the step: " + ", ".join(cti.broken or [cti.goal]))
    return "\n".join(lines)


# ---- JSON ------------------------------------------------------------------------

def result_json(model: Model, result: ProofResult) -> dict[str, Any]:
    """The result as JSON-ready data: goals with traces, queries with times and CTIs."""
    return {
        "schema": SCHEMA, "model": result.model, "config": result.meta.get("config"),
        "variants": result.meta.get("variants", []), "constants": result.meta.get("constants", {}),
        "mode": result.mode, "bound": result.bound, "outcome": result.outcome.value,
        "goals": [{"name": g.name, "lemma": g.lemma, "verdict": g.verdict.value,
                   "source": g.source, "note": g.note or None,
                   "trace_length": len(g.trace) if g.trace is not None else None,
                   "trace": tracing.to_json(g.trace) if g.trace is not None else None}
                  for g in result.goals],
        "queries": [{"name": q.name, "verdict": q.verdict.value, "seconds": round(q.seconds, 4),
                     "note": q.note or None,
                     "cti": _cti_json(model, q.cti) if q.cti is not None else None}
                    for q in result.queries],
    }


def _cti_json(model: Model, cti: Cti) -> dict[str, Any]:
    schema = model.schema
    steps = [{"action": inst.label, "changes": {n: new for n, _, new in schema.diff(a, b)}}
             for inst, a, b in zip(cti.instances, cti.states, cti.states[1:])]
    return {"goal": cti.goal, "broken": cti.broken, "error": cti.error or None,
            "instance": cti.instance.label if cti.instances else None,
            "first": schema.readable(cti.states[0]), "steps": steps}
