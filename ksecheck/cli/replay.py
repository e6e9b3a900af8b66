"""``ksecheck replay``: re-validate a saved trace against the model, check what it claims,
and print it.

A trace replays when its initial state is initial and every step is enabled
and changes what it records. It is believed only if it also shows what it
claims: a counterexample ends in a state that violates its property (a
deadlock for ``deadlock_free``); a lasso's loop is a cycle, fair under the
property's fairness, on which the goal never happens after it fell due (or
a dead end where the execution stays for ever); a witness ends where its
goal holds.
"""
from __future__ import annotations

import itertools

from ksecheck.checker.core.contract import Property
from ksecheck.checker.errors import TraceError
from ksecheck.checker.explicit.ends import DEADLOCK_END, Ends
from ksecheck.checker.explicit.liveness import _fairness_groups
from ksecheck.checker.results import trace as tracing
from ksecheck.checker.results.result import DEADLOCK
from ksecheck.checker.results.text import format_trace, styler
from ksecheck.checker.results.trace import Trace

from .common import EXIT_OK, catalogue, colour, path


def add_parser(sub) -> None:
    """Add ``replay`` to the command line."""
    r = sub.add_parser("replay", help="re-validate a saved trace against the model and print it")
    r.add_argument("file", type=path, help="a trace written by `ksecheck check --save-traces`")


def run(args) -> int:
    """Run ``ksecheck replay``; returns the exit code."""
    data = tracing.read(args.file)
    try:
        origin = tracing.origin(data)
        family, cfg = catalogue().resolve(origin.family or None, origin.config)
        if origin.constants and dict(origin.constants) != dict(cfg.constants):
            raise TraceError(f"the trace was saved with the constants {dict(origin.constants)}, "
                             f"but configuration {cfg.name} has {dict(cfg.constants)}")
        model = family.instantiate(cfg, list(origin.variants))
        trace = tracing.from_json(model, data)
        shown = claim(trace)
    except TraceError as exc:
        raise TraceError(f"{args.file}: {exc}") from None
    print(format_trace(trace, style=styler(colour())))
    print(f"\nThe trace replays: {len(trace)} steps, every step enabled and every change as "
          f"recorded, and {shown}.")
    return EXIT_OK


def claim(trace: Trace) -> str:
    """What the trace shows, checked (as a phrase for the last line); TraceError naming the
    first thing the trace claims but does not show."""
    model, goal = trace.model, trace.goal
    if goal == DEADLOCK and model.check_deadlock:
        if trace.kind != "counterexample" or trace.loop is not None:
            raise TraceError(f"a trace for {DEADLOCK} is a counterexample without a loop")
        enabled = model.successors(trace.final)
        if enabled:
            raise TraceError(f"the trace claims a deadlock, but {enabled[0][0].label} is enabled "
                             "in its last state")
        end = Ends(model).kind(trace.final)
        if end != DEADLOCK_END:
            raise TraceError(f"the trace claims a deadlock, but its last state is "
                             f"{end.replace('_', ' ')}, not a deadlock")
        return "its last state is a deadlock"
    try:
        prop = model.property(goal)
    except KeyError:
        raise TraceError(f"the trace is for {goal!r}, which is not a property of model "
                         f"{model.name}") from None
    wanted, what, traces = {
        "always": (("counterexample", False), "an invariant", "counterexamples without a loop"),
        "sometimes": (("witness", False), "a goal", "witnesses without a loop"),
        "eventually": (("counterexample", True), "a liveness property",
                       "counterexamples ending in a loop")}[prop.kind]
    if (trace.kind, trace.loop is not None) != wanted:
        raise TraceError(f"{goal} is {what}: its traces are {traces}, not a {trace.kind}"
                         + (" with a loop" if trace.loop is not None else ""))
    if prop.kind == "eventually":
        return _lasso(trace, prop)
    holds = bool(prop.check(model.schema.view(trace.final)))
    if prop.kind == "always" and holds:
        raise TraceError(f"its last state satisfies {goal}: the trace shows no violation")
    if prop.kind == "sometimes" and not holds:
        raise TraceError(f"its last state does not reach {goal}: the trace is no witness")
    return f"its last state {'reaches' if holds else 'violates'} {goal}"


def _lasso(trace: Trace, prop: Property) -> str:
    """Check a lasso against the leads-to ``prop``: the loop is fair and, for some value of
    the property's parameters, the goal falls due and never happens from there on."""
    model, loop, states = trace.model, trace.loop, trace.states
    if loop == len(trace):
        enabled = model.successors(trace.final)
        if enabled:
            raise TraceError(f"the trace claims to stay in its last state forever, but "
                             f"{enabled[0][0].label} is enabled there")
        if not Ends(model).stutters(trace.final):
            raise TraceError("the trace claims to stay in its last state forever, but that state "
                             "is at the configuration's bound: the bound, not the protocol, "
                             "stops it")
        forever = "the execution stays in the last state forever, no step enabled"
    else:
        _fair(trace, prop)
        forever = f"steps {loop + 1}-{len(trace)} repeat forever, fairly"
    view = model.schema.view(trace.initial)
    for args in itertools.product(*(p.domain.values() for p in prop.params)):
        def goal(state) -> bool:
            view._v = state
            return bool(prop.check(view, *args))

        def due(state) -> bool:
            view._v = state
            return bool(prop.trigger(view, *args)) and not prop.check(view, *args)
        free = len(states)  # states[free:] is the longest end of the trace without the goal
        while free and not goal(states[free - 1]):
            free -= 1
        if free <= loop and any(due(s) for s in states[free:]):
            return f"{prop.name} falls due and never happens: {forever}"
    raise TraceError(f"the trace claims that {prop.name} never happens once due, but "
                     + ("for no value of its parameters " if prop.params else "")
                     + "does it fall due and then never happen: it happens on the loop, "
                       "or after it fell due")


def _fair(trace: Trace, prop: Property) -> None:
    """TraceError if the loop of ``trace`` starves a step the property's fairness protects:
    weakly fair steps enabled all around the loop, strongly fair ones enabled anywhere on it,
    must be taken on it (fair per action and first parameter, as the liveness check)."""
    model = trace.model
    groups = _fairness_groups(model, prop)
    index = {inst: k for k, inst in enumerate(model.instances)}
    taken = {groups[index[s.instance]] for s in trace.steps[trace.loop:]}
    around = [{groups[k] for k, _ in model.successor_indices(s)} - {None}
              for s in trace.states[trace.loop:-1]]
    everywhere, somewhere = set.intersection(*around), set.union(*around)
    starved = [k for k, g in enumerate(groups) if g is not None and g not in taken
               and (g in everywhere or (g[0] == "strong" and g in somewhere))]
    if starved:
        inst = model.instances[starved[0]]
        kind = groups[starved[0]][0]
        step = inst.action.name
        if inst.args:
            step += f" with first parameter {inst.action.params[0].fmt(inst.args[0])}"
        raise TraceError(f"the loop is not fair: {step} is {kind}ly fair and enabled "
                         + ("all around the loop" if kind == "weak" else "on the loop")
                         + " but never taken there")
