"""Property-directed reachability (IC3/PDR) over the Z3 encoding derived from the model.

Bounded model checking asks, for each depth, one query over the whole
unrolling; on deep counterexamples those queries grow harder with every step.
:func:`pdr` asks only one-step questions instead. It keeps frames
``F_0 = Init, F_1, ..., F_k``: ``F_i`` is a set of clauses (negated cubes of
``slot == value`` literals) true in every state reachable in at most ``i``
steps. At frontier ``k`` it looks for a state of ``F_k`` that breaks the goal
and tries to *block* it: a state with no predecessor in ``F_{i-1}`` is cut
from ``F_i`` by a clause, generalised (unsat core, then dropping literals one
at a time) to cut many states at once; a state with one becomes an obligation
one level down. An obligation that reaches ``F_0`` closes a path from an
initial state to the bad one, of exactly ``k`` steps.

Why the counterexamples are shortest: the frontier moves from ``k`` to
``k + 1`` only when ``F_k`` holds no bad state, that is, when no state
reachable in ``k`` steps or fewer breaks the goal; and an obligation is never
re-queued at a higher level (a common IC3 optimisation that would break
this). So the first counterexample has the length breadth-first search finds.

After each frontier, clauses are pushed forward; when a frame's own clauses
all move on (``F_i = F_{i+1}``), ``F_i`` is an inductive invariant that
implies the goal: the goal HOLDS in every reachable state. With neither a
counterexample nor a proof by frontier ``depth``, the goal is INCOMPLETE, as
in BMC. Counterexamples are concrete states joined by
:func:`checker.symbolic.bmc.concrete_path` and replayed; a solver that gives up makes
the goal UNKNOWN. One :class:`~checker.symbolic.goals.Query` per frontier reports the
solver calls it took and their time.
"""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from typing import Sequence

import z3

from ..core.contract import Instance, Model
from ..core.schema import State
from ..errors import CheckerBug, ModelError, UsageError
from ..results.result import PropertyResult, Query, Result, Verdict
from ..results.trace import Step, Trace
from . import z3enc
from .bmc import concrete_path
from .goals import Goal, goal_result
from .goals import goals as model_goals

Cube = tuple[tuple[int, int], ...]
"""A conjunction of ``slot == value`` literals, sorted by slot."""


class _GaveUp(Exception):
    """The solver answered unknown."""


def pdr(model: Model, depth: int, goals: Sequence[Goal] | None = None, *,
        timeout: float | None = None) -> Result:
    """Prove each goal, or find a shortest counterexample, with frontiers up to ``depth``.

    ``goals`` defaults to every invariant of the model and deadlock freedom;
    each goal is checked on its own frames. ``timeout`` bounds each solver
    call (seconds). Raises ModelError, with the path, when a reachable state
    makes a step raise in the concrete model.
    """
    if depth < 0:
        raise UsageError(f"the PDR depth must be at least 0, not {depth}")
    goals = list(model_goals(model) if goals is None else goals)
    queries: list[Query] = []
    results = []
    for g in goals:
        run = _Run(model, g, depth, timeout)
        results.append(run.result())
        results[-1].queries = run.queries
        queries += run.queries
    return Result.of(model, results, mode="pdr", bound=depth, queries=queries)


@dataclass
class _Obligation:
    """A cube to block at ``level``; every state in it takes ``inst`` into ``next``'s cube."""

    level: int
    cube: Cube
    inst: Instance | None = None
    next: "_Obligation | None" = field(default=None, repr=False)


class _Run:
    """The frames and solvers of one goal."""

    def __init__(self, model: Model, goal: Goal, depth: int, timeout: float | None):
        self.model, self.goal, self.depth = model, goal, depth
        self.ctx = ctx = z3.Context()
        self.a = z3enc.vocab(model, "a", ctx)
        self.b = z3enc.vocab(model, "b", ctx)
        self.fallible = [i for i in model.instances if z3enc.may_fail(model, i)]
        good = goal.holds(self.a)
        if self.fallible:
            good = z3.And(good, *(z3.Not(z3enc.errors(model, i, self.a)) for i in self.fallible))
        # ``look`` finds bad states in a frame, ``step`` answers one-step questions,
        # ``lift`` widens a concrete state to the cube of states that behave alike
        self.look, self.step, self.lift = (z3enc.solver(timeout, ctx=ctx) for _ in range(3))
        domains = z3enc.domain(model, self.a), z3enc.domain(model, self.b)
        self.look.add(domains[0], z3.Not(good))
        self.step.add(*domains, z3enc.trans(model, self.a, self.b))
        self.lift.add(*domains)
        self.good = good
        self.init = z3.Bool("init", ctx)
        self.step.add(z3.Implies(self.init, z3enc.init(model, self.a)))
        self.initial = list(model.initial_states)
        self.proxies: dict[tuple[str, int, int], z3.BoolRef] = {}
        self.moves: dict[Instance, tuple[z3.BoolRef, z3.BoolRef]] = {}
        self.frames: list[list[Cube]] = [[]]  # frames[i]: the clauses whose last frame is i
        self.acts: list[z3.BoolRef] = [z3.Bool("F0", ctx)]
        self.queries: list[Query] = []
        self.calls, self.seconds = 0, 0.0

    # -- solver plumbing ------------------------------------------------------------

    def _check(self, solver: z3.Solver, assumptions: list, extra=None) -> bool:
        """``solver`` under ``assumptions``, with ``extra`` asserted for this call only."""
        self.calls += 1
        if extra is not None:
            solver.push()
            solver.add(extra)
        try:
            start = time.perf_counter()
            answer = solver.check(*assumptions)
            self.seconds += time.perf_counter() - start
            if answer == z3.unknown:
                raise _GaveUp(solver.reason_unknown())
            self.last = solver.model() if answer == z3.sat else solver.unsat_core()
        finally:
            if extra is not None:
                solver.pop()
        return answer == z3.sat

    def _core(self, cube: Cube, proxies: list) -> Cube:
        """The literals of ``cube`` whose proxies are in the last unsat core."""
        core = {c.get_id() for c in self.last}
        return tuple(lit for lit, p in zip(cube, proxies) if p.get_id() in core)

    def _frame(self, i: int) -> list[z3.BoolRef]:
        """Assumptions that select ``F_i`` (the clauses of frames ``i`` and above)."""
        return self.acts[i:]

    def _proxy(self, solver: z3.Solver, side: str, lit: tuple[int, int]) -> z3.BoolRef:
        """A literal that, assumed in ``solver``, says ``slot == value`` in the pre- or post-state."""
        key = (side, id(solver), *lit)
        p = self.proxies.get(key)
        if p is None:
            s, v = lit
            p = self.proxies[key] = z3.Bool(f"{side}{len(self.proxies)}", self.ctx)
            solver.add(z3.Implies(p, (self.a if side == "a" else self.b)[s] == v))
        return p

    def _state(self, v) -> State:
        return tuple(self.last.eval(x, model_completion=True).as_signed_long() for x in v)

    def _add_clause(self, cube: Cube, level: int) -> None:
        clause = z3.Or(*(self.a[s] != v for s, v in cube))
        act = self.acts[level]
        self.step.add(z3.Implies(act, clause))
        self.look.add(z3.Implies(act, clause))
        self.frames[level].append(cube)

    def _new_frame(self) -> None:
        self.frames.append([])
        self.acts.append(z3.Bool(f"F{len(self.acts)}", self.ctx))

    # -- the algorithm ----------------------------------------------------------------

    def result(self) -> PropertyResult:
        r = goal_result(self.goal, Verdict.INCOMPLETE)
        k = 0
        try:
            found = self._initial_bad()
            while found is None:
                self._record(k, Verdict.HOLDS)
                if k == self.depth:
                    r.note = f"no counterexample up to depth {self.depth}"
                    return r
                k += 1
                self._new_frame()
                found = self._block_frontier(k)
                fixed = self._propagate(k) if found is None else None
                if fixed is not None:
                    self._record(k, Verdict.HOLDS)
                    size = sum(map(len, self.frames[fixed:]))
                    r.verdict = Verdict.HOLDS
                    r.note = f"inductive invariant: frame {fixed}, {size} clauses"
                    return r
        except _GaveUp as exc:
            self._record(k, Verdict.UNKNOWN, str(exc))
            r.verdict, r.note = Verdict.UNKNOWN, f"solver gave up at frame {k}: {exc}"
            return r
        self._record(k, Verdict.VIOLATED)
        r.verdict, r.trace = Verdict.VIOLATED, self._trace(*found)
        return r

    def _record(self, k: int, verdict: Verdict, note: str = "") -> None:
        clauses = sum(map(len, self.frames))
        self.queries.append(Query(f"frame{k}/{self.goal.name}", verdict, self.seconds,
                                  note=note or f"{self.calls} solver calls, {clauses} clauses"))
        self.calls, self.seconds = 0, 0.0

    def _initial_bad(self) -> tuple[State, _Obligation | None] | None:
        for s in self.initial:
            if self._is_bad(s):
                return s, None
        return None

    def _is_bad(self, state: State) -> bool:
        if not self.goal.check(state):
            return True
        return any(_raises(self.model, i, state) for i in self.fallible)

    def _block_frontier(self, k: int) -> tuple[State, _Obligation] | None:
        """Block every bad state of ``F_k``; a counterexample's start if one cannot be."""
        while self._check(self.look, self._frame(k)):
            state = self._state(self.a)
            found = self._block(_Obligation(k, self._widen(state, z3.Not(self.good))))
            if found is not None:
                return found
        return None

    def _block(self, bad: _Obligation) -> tuple[State, _Obligation] | None:
        queue = [(bad.level, 0, bad)]
        order = 1
        while queue:
            level, _, ob = heapq.heappop(queue)
            if self._blocked(ob.cube, level):
                continue
            found = self._predecessor(ob.cube, level)
            if found is None:
                continue
            pre, post = found
            inst = concrete_path(self.model, [pre, post])[0].instance
            if level == 1:  # ``pre`` is an initial state
                return pre, _Obligation(0, (), inst, ob)
            cube = self._widen(pre, self._move(inst, ob.cube))
            heapq.heappush(queue, (level - 1, order, _Obligation(level - 1, cube, inst, ob)))
            heapq.heappush(queue, (level, order + 1, ob))
            order += 2
        return None

    def _move(self, inst: Instance, cube: Cube) -> z3.BoolRef:
        """States from which ``inst`` is enabled and leads into ``cube`` (its steps are
        deterministic, so every ``b`` it may lead to must lie in ``cube``)."""
        pair = self.moves.get(inst)
        if pair is None:
            pair = self.moves[inst] = (z3enc.enabled(self.model, inst, self.a),
                                       z3enc.step(self.model, inst, self.a, self.b))
        enabled, step = pair
        return z3.And(enabled, z3.Implies(step, z3.And(*(self.b[s] == v for s, v in cube))))

    def _widen(self, state: State, keeps: z3.BoolRef) -> Cube:
        """The literals of ``state`` that suffice for ``keeps`` to hold (an unsat core)."""
        cube = tuple(enumerate(state))
        proxies = [self._proxy(self.lift, "a", lit) for lit in cube]
        if self._check(self.lift, proxies, z3.Not(keeps)):
            raise CheckerBug(f"{self.model.name}: PDR lost a state's property while widening it")
        return self._core(cube, proxies)

    def _blocked(self, cube: Cube, level: int) -> bool:
        """Whether a clause of ``F_level`` already excludes every state of ``cube``."""
        lits = set(cube)
        return any(lits.issuperset(c) for frame in self.frames[level:] for c in frame)

    def _predecessor(self, cube: Cube, level: int) -> tuple[State, State] | None:
        """A step into ``cube`` from ``F_{level-1}`` outside it, or None after blocking it at ``level``."""
        found, core = self._relative(cube, level)
        if found is not None:
            return found
        cube = self._generalise(self._keep_init_out(core, cube), level)
        while level < len(self.frames) - 1 and self._relative(cube, level + 1)[0] is None:
            level += 1
        self._add_clause(cube, level)
        return None

    def _relative(self, cube: Cube, level: int) -> tuple[tuple[State, State] | None, Cube]:
        """Is ``cube`` reachable in one step from ``F_{level-1}`` outside it?

        The step (pre- and post-state) if so; else the literals of ``cube`` the answer needed.
        """
        frame = [self.init] if level == 1 else self._frame(level - 1)
        proxies = [self._proxy(self.step, "b", lit) for lit in cube]
        outside = z3.Or(*(self.a[s] != v for s, v in cube))
        if self._check(self.step, [*frame, *proxies], outside):
            return (self._state(self.a), self._state(self.b)), cube
        return None, self._core(cube, proxies)

    def _keep_init_out(self, core: Cube, cube: Cube) -> Cube:
        """``core`` with literals of ``cube`` added back until no initial state satisfies it."""
        lits = dict(core)
        for s in self.initial:
            if inside(s, tuple(lits.items())):
                i = next((i for i, v in cube if s[i] != v), None)
                if i is None:
                    raise CheckerBug(f"{self.model.name}: PDR tried to block an initial state")
                lits[i] = dict(cube)[i]
        return tuple(sorted(lits.items()))

    def _generalise(self, cube: Cube, level: int) -> Cube:
        """Drop literals one at a time while the smaller cube stays unreachable from ``F_{level-1}``."""
        i = 0
        while i < len(cube) and len(cube) > 1:
            smaller = cube[:i] + cube[i + 1:]
            if not self._has_initial(smaller):
                found, core = self._relative(smaller, level)
                if found is None:
                    cube = self._keep_init_out(core, smaller)
                    continue
            i += 1
        return cube

    def _has_initial(self, cube: Cube) -> bool:
        return any(inside(s, cube) for s in self.initial)

    def _propagate(self, k: int) -> int | None:
        """Push clauses forward through frames ``1..k-1``; the first frame equal to the next.

        That frame is an inductive invariant: it holds initially, every step
        keeps it, and it excludes every bad state.
        """
        for level in range(1, k):
            for cube in list(self.frames[level]):
                if self._relative(cube, level + 1)[0] is None:
                    self.frames[level].remove(cube)
                    self._add_clause(cube, level + 1)
            if not self.frames[level]:
                return level
        return None

    # -- the counterexample -------------------------------------------------------------

    def _trace(self, initial: State, first: _Obligation | None) -> Trace:
        """Run the obligations' instances from ``initial``; each state must lie in its cube."""
        model, state, steps = self.model, initial, []
        ob = first.next if first is not None else None
        inst = first.inst if first is not None else None
        while inst is not None:
            state = model.apply(inst, state)
            steps.append(Step(inst, state))
            if not inside(state, ob.cube):
                raise CheckerBug(f"{model.name}: PDR's step {len(steps)} leaves its cube")
            inst, ob = ob.inst, ob.next
        if self.goal.check(state):  # not the goal: a step raises in the last state
            for i in self.fallible:
                if _raises(model, i, state):
                    path = ", ".join(s.label for s in steps) or "(the initial state)"
                    raise ModelError(f"{model.name}: after {path}, {i.label} raises")
            raise CheckerBug(f"{model.name}: PDR reached a state that breaks nothing")
        trace = Trace(model, initial, steps, goal=self.goal.name, kind="counterexample")
        trace.validate()
        return trace


def inside(state: State, cube: Cube) -> bool:
    """Whether ``state`` satisfies every literal of ``cube``."""
    return all(state[s] == v for s, v in cube)


def _raises(model: Model, inst, state: State) -> bool:
    try:
        if model.enabled(inst, state):
            model.apply(inst, state)
    except (IndexError, ValueError, ModelError):
        return True
    return False
