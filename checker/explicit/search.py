"""Explicit-state breadth-first search with shortest counterexamples.

:func:`explore` visits every reachable state once, level by level, keeping a
parent pointer per state. Properties are evaluated when a state is first
found, so the first violation of an invariant (and the first state reaching
a ``sometimes`` goal) lies at the least possible depth: its trace, rebuilt
from parent pointers, is a shortest one. States with no enabled step are
classified as terminal, at the bound, or deadlocked.
"""
from __future__ import annotations

import resource
import time
from array import array
from dataclasses import dataclass
from typing import Callable

from ..core.compile import compile_predicate, compile_successors
from ..core.contract import Model
from ..errors import CheckerBug, ModelError, Unsupported, UsageError
from .liveness import Graph, check_leads_to
from ..results.result import DEADLOCK, CheckResult, PropertyResult, Stats, Verdict
from ..core.schema import State
from ..results.trace import Step, Trace


@dataclass(frozen=True)
class Limits:
    """Bounds on a search; hitting any makes the verdicts INCOMPLETE, never HOLDS."""

    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None


@dataclass(frozen=True)
class Progress:
    """A snapshot handed to the progress callback."""

    states: int
    queue: int
    depth: int
    seconds: float

    @property
    def rate(self) -> float:
        """States per second so far."""
        return self.states / self.seconds if self.seconds else 0.0


ENGINES = ("compiled", "interpreted")
"""How successors are computed: source compiled from the traced model, or the model run
directly. ``explore(engine="auto")`` compiles unless the model uses a construct the
tracer cannot follow, and then interprets (the result's statistics say which ran)."""


def explore(model: Model, *, stop_at_first: bool = False, limits: Limits = Limits(),
            on_progress: Callable[[Progress], None] | None = None,
            progress_every: float = 3.0, meta: dict | None = None,
            engine: str = "auto", liveness: bool = True,
            stop_when_violated: tuple[str, ...] = ()) -> CheckResult:
    """Search every reachable state of ``model`` breadth-first.

    With ``stop_at_first`` the search ends at the first violated invariant
    (or deadlock); otherwise it goes on and reports every property.
    With ``stop_when_violated`` it ends once every named invariant (or
    ``deadlock_free``) is violated. ``eventually`` properties are checked on
    the explored graph after a complete search (:mod:`checker.liveness`)
    unless ``liveness`` is False.
    """
    if engine not in ("auto", *ENGINES):
        raise UsageError(f"unknown engine {engine!r}; choose auto or one of {', '.join(ENGINES)}")
    known = {p.name for p in model.properties if p.kind == "always"} | {DEADLOCK}
    unknown = [n for n in stop_when_violated if n not in known]
    if unknown:
        raise UsageError(f"cannot stop on {unknown}: not invariants of model {model.name}")
    search = _Search(model, stop_at_first, limits, on_progress, progress_every, meta or {},
                     engine, liveness)
    search.stop_when = tuple(stop_when_violated)
    return search.run()


def successor_function(model: Model, engine: str = "auto"):
    """``(successors, validate, engine used)``; ``successors(state) -> [(instance, next)]``.

    ``validate(state)`` (compiled engine only) raises ModelError if a computed
    value left its domain; the interpreted engine checks every assignment itself.
    """
    if engine in ("auto", "compiled"):
        try:
            return (*compile_successors(model), "compiled")
        except Unsupported:
            if engine == "compiled":
                raise
    schema = model.schema
    reader = schema.view(model.initial_states[0])
    writer = schema.view(list(model.initial_states[0]))
    insts = [(i, inst.action.guard, inst.action.effect, inst.args)
             for i, inst in enumerate(model.instances)]

    def successors(state):
        reader._v = state
        out = []
        for i, guard, effect, args in insts:
            if guard(reader, *args):
                writer._v = list(state)
                if effect(writer, *args) is not None:
                    raise ModelError(f"model {model.name}: effect of {model.instances[i].action.name} "
                                     "returned a value; an effect assigns to the view and returns None")
                out.append((i, tuple(writer._v)))
        return out
    return successors, None, "interpreted"


class StopRule:
    """When a search stops early: every name in ``stop_when`` broken, or, with
    ``stop_at_first``, any invariant or deadlock freedom. Shared by the engines."""

    stop_when: tuple[str, ...] = ()
    stop_at_first: bool = False
    violated_at: dict
    deadlock_at: object = None

    def _broken(self, name: str) -> bool:
        return self.deadlock_at is not None if name == DEADLOCK else name in self.violated_at

    def _must_stop(self) -> bool:
        if self.stop_when:
            return all(self._broken(n) for n in self.stop_when)
        return self.stop_at_first and (bool(self.violated_at) or self.deadlock_at is not None)


class _Search(StopRule):
    def __init__(self, model, stop_at_first, limits, on_progress, progress_every, meta, engine,
                 liveness):
        self.engine, self.liveness = engine, liveness
        self.model, self.stop_at_first, self.limits = model, stop_at_first, limits
        self.on_progress, self.progress_every, self.meta = on_progress, progress_every, meta
        self.index: dict[State, int] = {}
        self.states: list[State] = []
        self.parent = array("q")
        self.via = array("l")
        self.always = [p for p in model.properties if p.kind == "always"]
        self.sometimes = [p for p in model.properties if p.kind == "sometimes"]
        self.violated_at: dict[str, int] = {}
        self.reached_at: dict[str, int] = {}
        self.deadlock_at: int | None = None

    # -- discovery ------------------------------------------------------------
    def _predicates(self, compiled: bool) -> None:
        """State-tuple predicates of the invariants and goals still to be decided."""
        def interpreted(p):
            view = self.model.schema.view(self.model.initial_states[0])

            def check(state):
                view._v = state
                return p.check(view)
            return check
        make = (lambda p: compile_predicate(self.model, p.check, p.name)) if compiled else interpreted
        self.open_always = [(p.name, make(p)) for p in self.always]
        self.open_sometimes = [(p.name, make(p)) for p in self.sometimes]

    def _add(self, state: State, parent: int, via: int) -> int:
        sid = len(self.states)
        self.index[state] = sid
        self.states.append(state)
        self.parent.append(parent)
        self.via.append(via)
        for name, check in self.open_always:
            if not check(state):
                self.violated_at[name] = sid
                self.open_always = [x for x in self.open_always if x[0] != name]
        for name, check in self.open_sometimes:
            if check(state):
                self.reached_at[name] = sid
                self.open_sometimes = [x for x in self.open_sometimes if x[0] != name]
        return sid

    # -- the search -----------------------------------------------------------
    def run(self) -> CheckResult:
        model, limits = self.model, self.limits
        stats = Stats()
        succ, valid, stats.engine = successor_function(model, self.engine)
        self.succ = succ
        self._predicates(stats.engine == "compiled")
        action_of = [model.actions.index(inst.action) for inst in model.instances]
        fired = [0] * len(model.actions)
        terminal, at_bound = model.terminal, model.at_bound
        reader = model.schema.view(model.initial_states[0])
        start = time.perf_counter()
        last_report = start
        deadline = start + limits.timeout if limits.timeout else None
        for s in model.initial_states:
            self._add(s, -1, -1)
        stats.levels.append(len(model.initial_states))
        index, add, states = self.index, self._add, self.states
        level_start, level_end, depth = 0, len(states), 0
        stop = "first violation" if self._must_stop() else ""
        transitions = 0
        grew_past_limit = False
        while level_start < level_end and not stop:
            at_limit = limits.max_depth is not None and depth >= limits.max_depth
            for sid in range(level_start, level_end):
                state = states[sid]
                out = succ(state)
                for i, nxt in out:
                    fired[action_of[i]] += 1
                    if nxt not in index:
                        if at_limit:  # expand the last allowed level, add nothing beyond it
                            grew_past_limit = True
                            continue
                        if limits.max_states is not None and len(states) >= limits.max_states:
                            stop = f"state limit {limits.max_states}"
                            break
                        if valid is not None:
                            valid(nxt)
                        add(nxt, sid, i)
                transitions += len(out)
                if stop:
                    break
                if not out:
                    reader._v = state
                    if terminal is not None and terminal(reader):
                        stats.terminal_states += 1
                    elif at_bound is not None and at_bound(reader):
                        stats.at_bound_states += 1
                    else:
                        stats.deadlock_states += 1
                        if self.deadlock_at is None:
                            self.deadlock_at = sid
                if self._must_stop():
                    stop = "first violation"
                    break
                if sid & 1023 == 0:
                    now = time.perf_counter()
                    if deadline is not None and now > deadline:
                        stop = f"time limit {limits.timeout:g}s"
                        break
                    if self.on_progress and now - last_report >= self.progress_every:
                        last_report = now
                        self.on_progress(Progress(len(states), len(states) - sid,
                                                  depth, now - start))
            else:
                if at_limit:
                    if grew_past_limit:
                        stop = f"depth limit {limits.max_depth}"
                    break
                level_start, level_end = level_end, len(states)
                if level_start < level_end:
                    depth += 1
                    stats.levels.append(level_end - level_start)
                continue
            break
        stats.states = len(states)
        stats.transitions = transitions
        stats.depth = depth
        stats.action_counts = {a.name: n for a, n in zip(model.actions, fired)}
        stats.complete = not stop
        stats.stopped_by = stop
        properties = self._verdicts(stats)  # includes the liveness checks
        stats.seconds = time.perf_counter() - start
        stats.peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return CheckResult(model=model.name, config=self.meta.get("config", ""),
                           variants=tuple(self.meta.get("variants", ())),
                           constants=dict(self.meta.get("constants", {})),
                           properties=properties, stats=stats)

    # -- verdicts -------------------------------------------------------------
    def _verdicts(self, stats: Stats) -> list[PropertyResult]:
        def leads_to(p):
            graph = Graph(self.model, self.states, self.index, self.parent, self.via, self.succ)
            return check_leads_to(graph, p)
        return decide(self.model, stats, violated_at=self.violated_at, reached_at=self.reached_at,
                      deadlock_at=self.deadlock_at, trace=self._trace, leads_to=leads_to,
                      liveness=self.liveness, stop_when=self.stop_when, meta=self.meta)

    def _trace(self, sid: int, goal: str, kind: str) -> Trace:
        path = []
        while self.parent[sid] >= 0:
            path.append(Step(self.model.instances[self.via[sid]], self.states[sid]))
            sid = self.parent[sid]
        path.reverse()
        trace = Trace(self.model, self.states[sid], path, goal=goal, kind=kind, meta=dict(self.meta))
        trace.validate()
        if kind == "witness" and not self.model.property(goal).check(self.model.schema.view(trace.final)):
            raise CheckerBug(f"witness for {goal} does not reach its goal")
        return trace


def decide(model: Model, stats: Stats, *, violated_at: dict[str, int], reached_at: dict[str, int],
           deadlock_at: int | None, trace: Callable[[int, str, str], Trace],
           leads_to: Callable[[object], Trace | None], liveness: bool,
           stop_when: tuple[str, ...] = (), meta: dict | None = None,
           not_checked: dict[str, str] | None = None) -> list[PropertyResult]:
    """Every property's verdict from what a search found; shared by the explicit engines.

    ``trace(state id, goal, kind)`` rebuilds a trace; ``leads_to(property)``
    checks a liveness property after a complete search; ``not_checked``
    names properties the engine could not check, with the reason.
    """
    not_checked = not_checked or {}
    found = {"always": (violated_at, Verdict.VIOLATED, Verdict.HOLDS, "counterexample"),
             "sometimes": (reached_at, Verdict.REACHED, Verdict.UNREACHED, "witness")}
    out = []
    for p in model.properties:
        r = PropertyResult(p.name, p.kind, Verdict.INCOMPLETE, p.source, p.doc)
        if p.name in not_checked:
            r.verdict, r.note = Verdict.NOT_CHECKED, not_checked[p.name]
        elif p.kind in found:
            at, hit, missed, kind = found[p.kind]
            if p.name in at:
                r.verdict, r.trace = hit, trace(at[p.name], p.name, kind)
            elif stats.complete:
                r.verdict = missed
        elif not liveness:
            r.verdict = Verdict.NOT_CHECKED
            r.note = "liveness not checked (turned off)"
        elif stats.complete:
            r.trace = leads_to(p)
            r.verdict = Verdict.HOLDS if r.trace is None else Verdict.VIOLATED
            if r.trace is not None:
                r.trace.meta = dict(meta or {})
        out.append(r)
    if model.check_deadlock:
        r = PropertyResult(DEADLOCK, "always", Verdict.INCOMPLETE,
                           "built in: some step is enabled unless terminal or at the bound",
                           "no reachable state without an enabled step, "
                           "other than terminal and at-bound states")
        if deadlock_at is not None:
            r.verdict = Verdict.VIOLATED
            r.trace = trace(deadlock_at, DEADLOCK, "counterexample")
        elif stats.complete:
            r.verdict = Verdict.HOLDS
        out.append(r)
    if stats.stopped_by == "first violation":
        why = "not decided: " + (f"the search stopped once {', '.join(stop_when)} were "
                                 "violated" if stop_when
                                 else "the search stopped at the first violation")
    else:
        why = f"search stopped by the {stats.stopped_by} before a verdict"
    for r in out:
        if r.verdict is Verdict.INCOMPLETE:
            r.note = why
    return out
