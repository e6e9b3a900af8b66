"""Bounded model checking over the Z3 encoding derived from the model.

:func:`bmc` unrolls the steps from the initial states one at a time, as a
circuit (:mod:`checker.symbolic.unroll`; one incremental solver, each query scoped
with push/pop) and asks, at every depth ``k``, whether some state reachable
in exactly ``k`` steps breaks a goal. The first ``k`` that answers is the
length of a shortest counterexample, the same length breadth-first search
finds. A satisfying
assignment is never believed as it stands: its states are evaluated to
concrete tuples, each consecutive pair is matched to the instance whose
concrete application (:meth:`Model.apply`) produces it, and the resulting
:class:`~checker.results.trace.Trace` is replayed before it is returned.
"""
from __future__ import annotations

import time
from typing import Sequence

import z3

from ..core.contract import Instance, Model
from ..core.schema import State
from ..errors import CheckerBug, ModelError, UsageError
from ..results.result import Query, Result, Verdict
from ..results.trace import Step, Trace
from . import z3enc
from .goals import Goal, goal_result
from .goals import goals as model_goals
from .unroll import UNROLLINGS


def bmc(model: Model, depth: int, goals: Sequence[Goal] | None = None, *,
        timeout: float | None = None, after: Trace | None = None,
        unrolling: str = "circuit") -> Result:
    """Search for a shortest counterexample of length at most ``depth`` to each goal.

    ``goals`` defaults to every invariant of the model and deadlock freedom.
    A goal with no counterexample up to ``depth`` is INCOMPLETE (never HOLDS);
    a query the solver gives up on (``timeout`` seconds per query) makes it
    UNKNOWN. Raises ModelError, with the path, when a reachable state makes a
    step raise in the concrete model.

    With ``after`` (a trace of the model), the search starts from its final
    state: each counterexample is the trace followed by a shortest
    continuation of at most ``depth`` steps. ``unrolling`` names the form of
    the steps (:data:`checker.symbolic.unroll.UNROLLINGS`): the circuit, or the
    relation the one-step engines use; both give the same answers.
    """
    if depth < 0:
        raise UsageError(f"the BMC depth must be at least 0, not {depth}")
    if unrolling not in UNROLLINGS:
        raise UsageError(f"no unrolling {unrolling!r}; choose from {', '.join(UNROLLINGS)}")
    goals = list(model_goals(model) if goals is None else goals)
    fallible = [i for i in model.instances if z3enc.may_fail(model, i)]
    ctx = z3.Context()  # a fresh context: the run does not depend on earlier ones
    solver = z3enc.solver(timeout, logic="QF_BV", ctx=ctx)
    unrolled = UNROLLINGS[unrolling](model, ctx)
    vs = [unrolled.state()]
    if after is None:
        solver.add(z3enc.init(model, vs[0]))
    else:
        after.validate()
        solver.add(z3enc.is_state(model, vs[0], after.final))
    queries: list[Query] = []
    results = {g.name: goal_result(g, Verdict.INCOMPLETE) for g in goals}
    open_goals = list(goals)
    for k in range(depth + 1):
        if k > 0:
            vs.append(unrolled.state())
            solver.add(unrolled.step())
        if fallible:
            q, zm = ask(solver, f"depth{k}/contract",
                         z3.Or(*(z3enc.errors(model, i, vs[k]) for i in fallible)))
            queries.append(q)
            if zm is not None:
                _contract_violation(model, zm, vs, fallible, after)
        for g in list(open_goals):
            # a shortest counterexample satisfies the goal before its last state
            q, zm = ask(solver, f"depth{k}/{g.name}",
                        z3.And(*(g.holds(v) for v in vs[:k]), z3.Not(g.holds(vs[k]))))
            queries.append(q)
            r = results[g.name]
            if q.verdict is Verdict.UNKNOWN:
                r.verdict, r.note = Verdict.UNKNOWN, f"solver gave up at depth {k}: {q.note}"
                open_goals.remove(g)
            elif zm is not None:
                r.verdict = Verdict.VIOLATED
                r.trace = rebuild(model, zm, vs, g, after)
                open_goals.remove(g)
        if goals and not open_goals:  # with no goals, only contract violations are sought
            break
    for g in open_goals:
        results[g.name].note = f"no counterexample up to depth {depth}"
    for g in goals:
        results[g.name].queries = [q for q in queries if q.goal == g.name]
    return Result.of(model, [results[g.name] for g in goals], mode="bmc", bound=depth,
                     queries=queries)


def ask(solver: z3.Solver, name: str, formula: z3.BoolRef) -> tuple[Query, z3.ModelRef | None]:
    """Check ``formula`` in a push/pop scope: the timed query and, when satisfiable, the Z3 model.

    A model that does not satisfy every assertion (Z3's bit-blasting solver
    can answer sat with one when a timeout interrupts it) makes the answer
    UNKNOWN.
    """
    solver.push()
    solver.add(formula)
    start = time.perf_counter()
    answer = solver.check()
    seconds = time.perf_counter() - start
    zm, note = None, ""
    if answer == z3.sat:
        zm = solver.model()
        if not all(z3.is_true(zm.eval(a, model_completion=True)) for a in solver.assertions()):
            answer, zm = z3.unknown, None
            note = "the solver answered sat with a model that breaks the query (interrupted)"
    elif answer == z3.unknown:
        note = solver.reason_unknown()
    solver.pop()
    return Query(name, verdict_of(answer), seconds, note=note), zm


def verdict_of(answer: z3.CheckSatResult) -> Verdict:
    """VIOLATED for sat (a counterexample to the query), HOLDS for unsat, else UNKNOWN."""
    if answer == z3.sat:
        return Verdict.VIOLATED
    if answer == z3.unsat:
        return Verdict.HOLDS
    return Verdict.UNKNOWN


def leads_to(model: Model, candidates: Sequence[Instance], a: State, b: State) -> Instance | None:
    """The first of ``candidates`` that is enabled in ``a`` and whose concrete run gives ``b``.

    An instance whose run raises on ``a`` does not match.
    """
    for inst in candidates:
        try:
            if model.enabled(inst, a) and model.apply(inst, a) == b:
                return inst
        except (IndexError, ValueError, ModelError):
            continue
    return None


def concrete_path(model: Model, states: Sequence[State]) -> list[Step]:
    """The steps joining ``states``: for each pair, the first instance whose concrete run gives it.

    Raises CheckerBug when no instance does (the encoding and the model disagree).
    """
    steps = []
    for n, (a, b) in enumerate(zip(states, states[1:]), 1):
        inst = leads_to(model, model.instances, a, b)
        if inst is None:
            raise CheckerBug(f"{model.name}: the Z3 encoding allows a step {n} that no instance of "
                             f"the model makes: {model.schema.diff(a, b)}")
        steps.append(Step(inst, b))
    return steps


def rebuild(model: Model, zm: z3.ModelRef, vs: Sequence, goal: Goal,
            after: Trace | None = None) -> Trace:
    """A replayed trace from a Z3 model of an unrolling whose last state breaks ``goal``."""
    states = [z3enc.concrete(model, zm, v) for v in vs]
    start = model.initial_states if after is None else (after.final,)
    if states[0] not in start:
        raise CheckerBug(f"{model.name}: the Z3 encoding starts from a state it was not given")
    initial, prefix = (states[0], []) if after is None else (after.initial, list(after.steps))
    trace = Trace(model, initial, prefix + concrete_path(model, states), goal=goal.name,
                  kind="counterexample")
    trace.validate()
    if goal.check(trace.final):
        raise CheckerBug(f"{model.name}: Z3 says the last state breaks {goal.name}, "
                         "but the concrete check holds there")
    return trace


def _contract_violation(model: Model, zm: z3.ModelRef, vs: Sequence, fallible,
                        after: Trace | None) -> None:
    states = [z3enc.concrete(model, zm, v) for v in vs]
    steps = ([] if after is None else list(after.steps)) + concrete_path(model, states)
    last = states[-1]
    for inst in fallible:
        if z3.is_true(zm.eval(z3enc.errors(model, inst, vs[-1]), model_completion=True)):
            try:
                if model.enabled(inst, last):
                    model.apply(inst, last)
            except (IndexError, ValueError, ModelError) as exc:
                path = ", ".join(s.label for s in steps) or "(the initial state)"
                raise ModelError(f"{model.name}: after {path}, {inst.label} raises: {exc}") from None
            raise CheckerBug(f"{model.name}: Z3 says {inst.label} fails after "
                             f"{len(steps)} steps, but the concrete run succeeds")
    raise CheckerBug(f"{model.name}: Z3 reports a contract violation no instance explains")
