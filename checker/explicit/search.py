"""The explicit-state search: one front door, one breadth-first loop, every engine behind it.

:func:`explore` visits every reachable state once, level by level. An
engine (:mod:`checker.explicit.engine`) expands each level chunk by chunk;
this loop keeps what every engine shares: the limits, the stop rule, the
progress reports, a parent position and an instance per state (the parent
pointers of traces), and the verdicts. Properties are decided when a state
is first found, so the first violation of an invariant (and the first state
reaching a ``sometimes`` goal) lies at the least depth: its trace, rebuilt
from the parent pointers and replayed through the model, is a shortest one.
Where the search must stop inside a chunk (a violation, the state limit)
it keeps exactly what a one-state-at-a-time search would have kept, so every
engine gives the same counts. ``eventually`` properties are checked after a
complete search on the explored graph (:mod:`checker.explicit.liveness`).
"""
from __future__ import annotations

import resource
import time
from typing import Any

import numpy as np

from ..core.contract import Model
from ..errors import CheckerBug, Unsupported, UsageError
from ..results.result import DEADLOCK, PropertyResult, Result, Stats, Verdict
from ..results.trace import Trace
from .compiled import StateEngine, successor_function
from .engine import Engine, Expansion
from .ends import AT_BOUND, DEADLOCK_END, TERMINAL
from .liveness import Graph, check_leads_to
from .options import Options, Progress


def explore(model: Model, options: Options = Options()) -> Result:
    """Search every reachable state of ``model`` breadth-first, as ``options`` say."""
    known = {p.name for p in model.properties if p.kind == "always"} | {DEADLOCK}
    unknown = [n for n in options.stop_when if n not in known]
    if unknown:
        raise UsageError(f"cannot stop on {unknown}: not invariants of model {model.name}")
    engine = open_engine(model, options)
    try:
        return Search(model, options, engine).run()
    finally:
        engine.release()


def open_engine(model: Model, options: Options) -> Engine:
    """The engine ``options`` ask for: the vector engine (over several processes, with
    symmetry) where asked or implied, else one state at a time. A model the tracer cannot
    follow runs on the interpreted engine (unless symmetry needs the vector engine)."""
    if options.engine == "vector" or options.workers > 1 or options.symmetry is not None:
        from .vector import VectorEngine
        try:
            engine = VectorEngine(model, options.symmetry, options.chunk)
        except Unsupported:
            if options.symmetry is not None:
                raise
            return StateEngine(model, "auto", options.chunk)
        if options.workers > 1:
            from .parallel import ParallelEngine, can_fork
            if can_fork():
                return ParallelEngine(engine, options.workers)
        return engine
    return StateEngine(model, options.engine, options.chunk)


class Search:
    """One run of the loop: the levels' parent pointers and what has been decided."""

    def __init__(self, model: Model, options: Options, engine: Engine):
        self.model, self.options, self.e = model, options, engine
        self.always = [p.name for p in model.properties
                       if p.kind == "always" and p.name not in engine.not_checked]
        self.sometimes = [p.name for p in model.properties
                          if p.kind == "sometimes" and p.name not in engine.not_checked]
        self.keep_levels = (options.liveness and not engine.no_liveness
                            and any(p.kind == "eventually" for p in model.properties))
        self.violated_at: dict[str, tuple[int, int]] = {}   # (depth, position)
        self.reached_at: dict[str, tuple[int, int]] = {}
        self.deadlock_at: tuple[int, int] | None = None
        self.parents: list[np.ndarray] = []  # per level: each state's parent position
        self.vias: list[np.ndarray] = []     # per level: the instance that found it
        self.levels: list[Any] = []          # the levels themselves, when liveness needs them
        self.explored: Graph | None = None
        if self.keep_levels:
            engine.keep()

    # -- what is decided ----------------------------------------------------------------

    def _open(self) -> set[str]:
        """Invariants not yet violated and goals (``?goal``) not yet reached."""
        return ({n for n in self.always if n not in self.violated_at}
                | {"?" + n for n in self.sometimes if n not in self.reached_at})

    def _broken(self, name: str) -> bool:
        return self.deadlock_at is not None if name == DEADLOCK else name in self.violated_at

    def _must_stop(self) -> bool:
        if self.options.stop_when:
            return all(self._broken(n) for n in self.options.stop_when)
        return self.options.stop_at_first and (bool(self.violated_at) or self.deadlock_at is not None)

    def _stop_parent(self, events: dict[str, int]) -> int | None:
        """The first parent after whose expansion a one-state-at-a-time search would stop,
        given ``events``: property -> parent at which it breaks (``deadlock_free`` included)."""
        when = self.options.stop_when
        if when:
            if not all(self._broken(n) or n in events for n in when):
                return None
            return max((events[n] for n in when if not self._broken(n)), default=None)
        if self.options.stop_at_first:
            inv = [p for n, p in events.items() if not n.startswith("?")]
            return min(inv) if inv else None
        return None

    def _record(self, found: dict[str, int], depth: int, offset: int, limit: int | None) -> None:
        for name, i in found.items():
            if limit is not None and i >= limit:
                continue
            if name.startswith("?"):
                self.reached_at[name[1:]] = (depth, offset + i)
            else:
                self.violated_at[name] = (depth, offset + i)

    def _count_dead(self, stats: Stats, dead: list[tuple[int, str]], depth: int) -> None:
        """Count states without successors by kind; the first deadlock is where one was found."""
        for pos, kind in dead:
            if kind == TERMINAL:
                stats.terminal_states += 1
            elif kind == AT_BOUND:
                stats.at_bound_states += 1
            else:
                stats.deadlock_states += 1
                if self.deadlock_at is None:
                    self.deadlock_at = (depth, pos)

    def _cut(self, x: Expansion, total: int) -> tuple[str, int, int | None, int | None]:
        """Where a one-state-at-a-time search would stop in this chunk: the reason (or ""),
        the new states it keeps, the last parent it expands and the last discovery it keeps
        (at the state limit)."""
        n, limit = self.e.instances, self.options.limits.max_states
        events = {name: int(x.disc[i]) // n for name, i in x.events.items()}
        first_dead = next((p for p, kind in x.dead if kind == DEADLOCK_END), None)
        if first_dead is not None and self.deadlock_at is None:
            events[DEADLOCK] = first_dead
        cut_disc = int(x.disc[limit - total]) if limit is not None and total + len(x.disc) > limit else None
        p_must = self._stop_parent(events)
        if cut_disc is not None and (p_must is None or cut_disc // n <= p_must):
            return f"state limit {limit}", limit - total, cut_disc // n, cut_disc
        if p_must is not None:
            return "first violation", int(np.searchsorted(x.disc // n, p_must, side="right")), p_must, None
        return "", len(x.disc), None, None

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> Result:
        e, options, limits, n = self.e, self.options, self.options.limits, self.e.instances
        stats = Stats(engine=e.name, workers=e.workers)
        fired = np.zeros(n, np.int64)
        start = last_report = time.perf_counter()
        deadline = start + limits.timeout if limits.timeout else None
        level = e.initial()
        self._record(e.events(level, self._open()), 0, 0, None)
        self.parents.append(np.full(e.size(level), -1, np.int64))
        self.vias.append(np.full(e.size(level), -1, np.int64))
        depth, total, transitions = 0, e.size(level), 0
        stop = "first violation" if self._must_stop() else ""
        via_dtype = np.uint8 if n <= 256 else np.int32
        while e.size(level) and not stop:
            size = e.size(level)
            parent_dtype = np.int32 if size < 2**31 else np.int64
            if self.keep_levels:
                self.levels.append(level)
            at_limit = limits.max_depth is not None and depth >= limits.max_depth
            grew = False
            parts, parents, vias = [], [], []
            level_n = 0  # states of the next level so far
            for lo in range(0, size, e.chunk):
                x = e.expand(level, lo, min(lo + e.chunk, size), at_limit, self._open())
                grew = grew or x.grew
                stop, take_n, p_stop, cut_disc = self._cut(x, total)
                if p_stop is not None:
                    t, counts = x.recount(p_stop, cut_disc)
                    last_dead = p_stop if stop == "first violation" else p_stop - 1
                    dead = [(p, kind) for p, kind in x.dead if p <= last_dead]
                else:
                    t, counts, dead = x.transitions, x.counts, x.dead
                transitions += t
                fired += counts
                self._count_dead(stats, [(lo + p, kind) for p, kind in dead], depth)
                self._record(x.events, depth + 1, level_n, take_n)
                if take_n:
                    parts.append(e.head(x.new, take_n))
                    parents.append((x.disc[:take_n] // n + lo).astype(parent_dtype))
                    vias.append((x.disc[:take_n] % n).astype(via_dtype))
                    total += take_n
                    level_n += take_n
                if stop:
                    break
                now = time.perf_counter()
                if deadline is not None and now > deadline:
                    stop = f"time limit {limits.timeout:g}s"
                    break
                if options.cancelled is not None and options.cancelled():
                    stop = "interrupt"
                    break
                queued = size - min(lo + e.chunk, size) + level_n
                if options.on_progress and queued and now - last_report >= options.progress_every:
                    last_report = now
                    options.on_progress(Progress(total, queued, depth, now - start))
            if parts:
                self.parents.append(np.concatenate(parents))
                self.vias.append(np.concatenate(vias))
            level = e.join(parts)
            if stop:
                break
            if at_limit:
                if grew:
                    stop = f"depth limit {limits.max_depth}"
                break
            if e.size(level):
                depth += 1
        stats.states, stats.transitions, stats.depth = total, transitions, depth
        stats.levels = [len(p) for p in self.parents[:depth + 1]]
        by_action = np.bincount([self.model.actions.index(i.action) for i in self.model.instances],
                                weights=fired, minlength=len(self.model.actions))
        stats.action_counts = {a.name: int(k) for a, k in zip(self.model.actions, by_action)}
        stats.complete, stats.stopped_by = not stop, stop
        properties = self._verdicts(stats)  # the liveness check included
        summary = e.close()
        stats.phases = dict(summary.get("phases", {}))
        if "set_bytes" in summary:
            stats.phases["set_bytes"] = summary["set_bytes"]
        stats.seconds = time.perf_counter() - start
        stats.peak_rss_bytes = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
                                + summary.get("rss", 0))
        return Result.of(self.model, properties, stats=stats)

    # -- verdicts and traces -----------------------------------------------------------------

    def _verdicts(self, stats: Stats) -> list[PropertyResult]:
        """Every property's verdict from what the search found; ``eventually`` properties
        are checked now, on the explored graph, if the search is complete."""
        not_checked = dict(self.e.not_checked)
        if self.e.no_liveness:
            not_checked.update({p.name: self.e.no_liveness for p in self.model.properties
                                if p.kind == "eventually"})
        found = {"always": (self.violated_at, Verdict.VIOLATED, Verdict.HOLDS, "counterexample"),
                 "sometimes": (self.reached_at, Verdict.REACHED, Verdict.UNREACHED, "witness")}
        out = []
        for p in self.model.properties:
            r = PropertyResult(p.name, p.kind, Verdict.INCOMPLETE, p.source, p.doc)
            if p.name in not_checked:
                r.verdict, r.note = Verdict.NOT_CHECKED, not_checked[p.name]
            elif p.kind in found:
                at, hit, missed, kind = found[p.kind]
                if p.name in at:
                    r.verdict, r.trace = hit, self._trace(at[p.name], p.name, kind)
                elif stats.complete:
                    r.verdict = missed
            elif not self.options.liveness:
                r.verdict = Verdict.NOT_CHECKED
                r.note = "liveness not checked (turned off)"
            elif stats.complete:
                r.trace = check_leads_to(self._graph(), p)
                r.verdict = Verdict.HOLDS if r.trace is None else Verdict.VIOLATED
            out.append(r)
        if self.model.check_deadlock:
            r = PropertyResult(DEADLOCK, "always", Verdict.INCOMPLETE,
                               "built in: some step is enabled unless terminal or at the bound",
                               "no reachable state without an enabled step, "
                               "other than terminal and at-bound states")
            if self.deadlock_at is not None:
                r.verdict = Verdict.VIOLATED
                r.trace = self._trace(self.deadlock_at, DEADLOCK, "counterexample")
            elif stats.complete:
                r.verdict = Verdict.HOLDS
            out.append(r)
        if stats.stopped_by == "first violation":
            when = self.options.stop_when
            why = "not decided: " + (f"the search stopped once {', '.join(when)} were violated"
                                     if when else "the search stopped at the first violation")
        else:
            why = f"search stopped by the {stats.stopped_by} before a verdict"
        for r in out:
            if r.verdict is Verdict.INCOMPLETE:
                r.note = why
        return out

    def _graph(self) -> Graph:
        """The explored graph as :mod:`checker.explicit.liveness` wants it."""
        if self.explored is None:
            states = [s for level in self.levels for s in self.e.unpack(level)]
            offsets = np.cumsum([0] + [len(p) for p in self.parents])
            parent = [-1] * len(self.parents[0])
            via = [-1] * len(self.parents[0])
            for d in range(1, len(self.levels)):
                parent += (self.parents[d] + offsets[d - 1]).tolist()
                via += self.vias[d].astype(np.int64).tolist()
            succ = successor_function(self.model)[0]
            self.explored = Graph(self.model, states, self.e.index(states), parent, via, succ)
        return self.explored

    def _trace(self, at: tuple[int, int], goal: str, kind: str) -> Trace:
        """The trace to the state at ``(depth, position)``, replayed and checked."""
        depth, i = at
        insts = []
        while depth > 0:
            insts.append(int(self.vias[depth][i]))
            i = int(self.parents[depth][i])
            depth -= 1
        initial, steps = self.e.replay(i, insts[::-1])
        trace = Trace(self.model, initial, steps, goal=goal, kind=kind)
        trace.validate()
        view = self.model.schema.view(trace.final)
        if goal == DEADLOCK:
            if self.model.successors(trace.final):
                raise CheckerBug(f"{self.e.name} engine: a deadlock trace ends in a state with successors")
        elif bool(self.model.property(goal).check(view)) != (kind == "witness"):
            raise CheckerBug(f"{self.e.name} engine: the {kind} for {goal} does not end where it should")
        return trace

