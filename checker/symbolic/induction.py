"""Induction, k-induction and complete proofs over the Z3 encoding derived from the model.

* :func:`induction`: for every goal and every action, one scoped query
  ``action/goal``: can a state satisfying every goal and every lemma take a
  step of ``action`` to a state breaking ``goal``? UNSAT: HOLDS. SAT: a
  counterexample to induction (CTI), made concrete and re-checked with
  :meth:`Model.apply` and the predicates before it is reported.
* :func:`kinduction`: bounded model checking for the first ``k - 1`` steps,
  then ``k`` consecutive steps through goal- and lemma-satisfying states
  (distinct states: a simple path) that end in a state breaking a goal.
* :func:`prove`: the complete proof: every goal *and every lemma* holds
  initially and is preserved by every action under all of them. When every
  query holds, every goal holds in every reachable state.

Queries run on one solver per engine with a fixed random seed; each is scoped
with push/pop and has its own timeout. An ``unknown`` answer is UNKNOWN,
never HOLDS. The engines return :class:`~checker.results.result.Result` data.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import z3

from ..core.contract import Instance, Model, Property
from ..errors import CheckerBug, ModelError, UsageError
from ..results.result import Cti, Query, Result, Verdict, model_cti
from . import z3enc
from .bmc import ask, bmc, leads_to
from .goals import Goal, goal_result, lemma_goals
from .goals import goals as model_goals

PER = ("action", "instance")
"""Granularity of consecution queries: one per action (its instances or-ed) or one per instance."""


def induction(model: Model, goals: Sequence[Goal] | None = None,
              lemmas: Sequence[Property] = (), *, per: str = "action",
              timeout: float | None = None) -> Result:
    """Is each goal preserved by every step from states satisfying all goals and lemmas?

    Also asks ``init/goal`` for each goal. A goal is HOLDS only when every
    query of the run holds and no lemma was assumed; with lemmas it is
    INCOMPLETE (inductive relative to them: :func:`prove` proves them too).
    """
    targets = list(model_goals(model) if goals is None else goals)
    hyps = targets + lemma_goals(model, lemmas)
    ctx = z3.Context()  # a fresh context: the run does not depend on earlier ones
    queries = (_init_queries(model, targets, timeout, ctx)
               + _consecution(model, targets, hyps, per, timeout, ctx))
    return _summarise("induction", model, None, targets, queries, assumed=len(lemmas))


def prove(model: Model, goals: Sequence[Goal] | None = None,
          lemmas: Sequence[Property] = (), *, per: str = "action",
          timeout: float | None = None) -> Result:
    """The complete proof: goals and lemmas hold initially and are jointly inductive."""
    targets = list(model_goals(model) if goals is None else goals) + lemma_goals(model, lemmas)
    _unique(targets)
    ctx = z3.Context()
    queries = (_init_queries(model, targets, timeout, ctx)
               + _consecution(model, targets, targets, per, timeout, ctx))
    return _summarise("proof", model, None, targets, queries, assumed=0)


def kinduction(model: Model, k: int, goals: Sequence[Goal] | None = None,
               lemmas: Sequence[Property] = (), *, timeout: float | None = None) -> Result:
    """k-induction: no counterexample shorter than ``k`` and no ``k``-step CTI along a simple path."""
    if k < 1:
        raise UsageError(f"k-induction needs k >= 1, not {k}")
    targets = list(model_goals(model) if goals is None else goals)
    hyps = targets + lemma_goals(model, lemmas)
    base = bmc(model, k - 1, targets, timeout=timeout)
    queries = list(base.queries)
    ctx = z3.Context()
    solver = z3enc.solver(timeout, logic="QF_BV", ctx=ctx)
    vs = [z3enc.vocab(model, f"t{i}", ctx) for i in range(k + 1)]
    for i, v in enumerate(vs):
        solver.add(z3enc.domain(model, v))
        if i < k:
            solver.add(*(h.holds(v) for h in hyps))
            solver.add(z3enc.trans(model, v, vs[i + 1]))
    for a, b in itertools.combinations(vs, 2):
        solver.add(z3.Or(*(x != y for x, y in zip(a, b))))
    fallible = [i for i in model.instances if z3enc.may_fail(model, i)]
    if fallible:
        q, zm = ask(solver, f"k{k}/contract",
                     z3.Or(*(z3enc.errors(model, i, vs[k - 1]) for i in fallible)))
        if zm is not None:
            q.cti = _error_cti(model, zm, vs[:k], fallible, q.name, hyps)
        queries.append(q)
    for g in targets:
        q, zm = ask(solver, f"k{k}/{g.name}", z3.Not(g.holds(vs[k])))
        if zm is not None:
            q.cti = _path_cti(model, zm, vs, g, q.name, hyps)
        queries.append(q)
    result = _summarise("kinduction", model, k, targets, queries, assumed=len(lemmas))
    for g in base.properties:  # a real counterexample shorter than k
        if g.verdict is Verdict.VIOLATED:
            r = result.get(g.name)
            r.verdict, r.trace, r.note = Verdict.VIOLATED, g.trace, "counterexample in the base case"
    return result


# ---- queries ----------------------------------------------------------------------

def _init_queries(model: Model, targets: Sequence[Goal], timeout, ctx) -> list[Query]:
    solver = z3enc.solver(timeout, logic="QF_BV", ctx=ctx)
    v = z3enc.vocab(model, "init", ctx)
    solver.add(z3enc.init(model, v))
    out = []
    for g in targets:
        q, zm = ask(solver, f"init/{g.name}", z3.Not(g.holds(v)))
        if zm is not None:
            state = z3enc.concrete(model, zm, v)
            if state not in model.initial_states or g.check(state):
                raise CheckerBug(f"{model.name}: Z3 says an initial state breaks {g.name}; "
                                 "the concrete check disagrees")
            q.cti = model_cti(model, q.name, g.name, [state], [], [g.name])
        out.append(q)
    return out


def _consecution(model: Model, targets: Sequence[Goal], hyps: Sequence[Goal], per: str,
                 timeout, ctx) -> list[Query]:
    if per not in PER:
        raise UsageError(f"per must be one of {', '.join(PER)}, not {per!r}")
    solver = z3enc.solver(timeout, logic="QF_BV", ctx=ctx)
    pre, post = z3enc.vocab(model, "pre", ctx), z3enc.vocab(model, "post", ctx)
    solver.add(z3enc.domain(model, pre))
    solver.add(*(h.holds(pre) for h in hyps))
    groups: list[tuple[str, list[Instance]]]
    if per == "action":
        groups = [(a.name, z3enc.instances_of(model, a)) for a in model.actions]
    else:
        groups = [(i.label, [i]) for i in model.instances]
    after = {g.name: g.holds(post) for g in targets}
    out = []
    for name, insts in groups:
        if not insts:
            continue
        fallible = [i for i in insts if z3enc.may_fail(model, i)]
        if fallible:
            q, zm = ask(solver, f"{name}/contract",
                         z3.Or(*(z3enc.errors(model, i, pre) for i in fallible)))
            if zm is not None:
                q.cti = _error_cti(model, zm, [pre], fallible, q.name, hyps)
            out.append(q)
        solver.push()
        solver.add(z3.Or(*(z3enc.step(model, i, pre, post) for i in insts)))
        for g in targets:
            q, zm = ask(solver, f"{name}/{g.name}", z3.Not(after[g.name]))
            if zm is not None:
                q.cti = _path_cti(model, zm, [pre, post], g, q.name, hyps, insts)
            out.append(q)
        solver.pop()
    return out


# ---- counterexamples to induction, checked concretely ---------------------------------

def _path_cti(model: Model, zm, vs, goal: Goal, query: str, hyps: Sequence[Goal],
              candidates: Sequence[Instance] | None = None) -> Cti:
    states = [z3enc.concrete(model, zm, v) for v in vs]
    insts = []
    for n, (a, b) in enumerate(zip(states, states[1:])):
        pool = candidates if candidates is not None and n == len(states) - 2 else model.instances
        inst = leads_to(model, pool, a, b)
        if inst is None:
            raise CheckerBug(f"{model.name}: {query}: the Z3 encoding allows a step that no instance "
                             f"of the model makes: {model.schema.diff(a, b)}")
        insts.append(inst)
    for state in states[:-1]:
        failing = [h.name for h in hyps if not h.check(state)]
        if failing:
            raise CheckerBug(f"{model.name}: {query}: Z3's pre-state breaks {failing[0]} concretely")
    if goal.check(states[-1]):
        raise CheckerBug(f"{model.name}: {query}: Z3's post-state satisfies {goal.name} concretely")
    broken = [h.name for h in hyps if not h.check(states[-1])]
    return model_cti(model, query, goal.name, states, insts, broken)


def _error_cti(model: Model, zm, vs, fallible: Sequence[Instance], query: str,
               hyps: Sequence[Goal]) -> Cti:
    states = [z3enc.concrete(model, zm, v) for v in vs]
    pre = states[-1]
    for inst in fallible:
        if not z3.is_true(zm.eval(z3enc.errors(model, inst, vs[-1]), model_completion=True)):
            continue
        try:
            if model.enabled(inst, pre):
                model.apply(inst, pre)
        except (IndexError, ValueError, ModelError) as exc:
            failing = [h.name for h in hyps if not h.check(pre)]
            if failing:
                raise CheckerBug(f"{model.name}: {query}: Z3's pre-state breaks {failing[0]} concretely")
            return model_cti(model, query, "contract", [pre], [inst], error=str(exc))
        raise CheckerBug(f"{model.name}: {query}: Z3 says {inst.label} fails, "
                         "but the concrete run succeeds")
    raise CheckerBug(f"{model.name}: {query}: Z3 reports a failure no instance explains")


# ---- verdicts -----------------------------------------------------------------------

def _unique(targets: Sequence[Goal]) -> None:
    names = [g.name for g in targets]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"lemma name(s) {dup} clash with the model's invariants; rename the lemma")


def _summarise(mode: str, model: Model, bound, targets: Sequence[Goal], queries: list[Query],
               assumed: int) -> Result:
    ctis = [q for q in queries if q.verdict is Verdict.VIOLATED]
    unknown = [q for q in queries if q.verdict is Verdict.UNKNOWN]
    results = []
    for g in targets:
        r = goal_result(g, Verdict.HOLDS, queries)
        own = r.queries
        if any(q.name == f"init/{g.name}" and q.verdict is Verdict.VIOLATED for q in own):
            r.verdict, r.note = Verdict.VIOLATED, "an initial state breaks it"
        elif ctis:
            mine = [q.name for q in ctis if q in own]
            r.verdict = Verdict.UNKNOWN
            r.note = (f"not inductive: CTI in {', '.join(mine[:3])}" + (" ..." if len(mine) > 3 else "")
                      if mine else f"not proved: {len(ctis)} CTI(s) for other goals")
        elif unknown:
            r.verdict, r.note = Verdict.UNKNOWN, f"the solver gave up on {len(unknown)} query(ies)"
        elif assumed:
            r.verdict = Verdict.INCOMPLETE
            r.note = f"inductive relative to {assumed} lemma(s) not proved here (use the proof mode)"
        results.append(r)
    return Result.of(model, results, mode=mode, bound=bound, queries=queries)
