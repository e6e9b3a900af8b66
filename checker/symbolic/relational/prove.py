"""Proofs for every size: one scoped Z3 query per (transition, invariant) pair.

:func:`prove` asks one query per (transition, invariant) pair and one per
invariant for initiation, each on a fresh solver with a fixed random seed,
its own timeout (and optional deterministic ``rlimit``), and its time
recorded. ``unknown`` is UNKNOWN, never HOLDS. Quantifiers are instantiated by
Z3's model-based instantiation alone (MBQI, the decision procedure for EPR);
a transition that changes no symbol of an invariant is answered without a
solver (the invariant is a hypothesis). A satisfiable query gives a finite
structure, shrunk sort by sort and re-checked concretely
(:mod:`.reader`) before it is reported as a
:class:`~checker.results.result.Cti`. :func:`check` asks one query. With
``bound`` every query is made quantifier-free over at most so many elements
per sort (fast, decidable; UNSAT is INCOMPLETE); with ``cti_bound`` a query the
solver gave up on is searched for a small CTI. Results are the one
:class:`~checker.results.result.Result` vocabulary, mode ``any-size``.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import z3

from ...errors import UsageError
from ...results.result import PropertyResult, Query, Result, Verdict
from .epr import outside_epr
from .ground import Grounder, solver
from .reader import counterexample_to_induction, initial_counterexample
from .system import Invariant, System, Transition, applications

MODE = "any-size"
"""The mode of a relational proof's :class:`~checker.results.result.Result`."""


def prove(system: System, names: Sequence[str] | None = None, *, timeout: float | None = None,
          rlimit: int | None = None, seed: int = 0, bound: Mapping[str, int] | None = None,
          minimize: bool = True, cti_bound: Mapping[str, int] | None = None) -> Result:
    """Prove the invariants called ``names`` (default: all) jointly inductive.

    For each invariant I: ``init/I`` (axioms & init & not I) and, for each
    transition T, ``T/I`` (axioms & every chosen invariant & T & not I'). Each
    is a fresh solver with ``seed``, ``timeout`` seconds and ``rlimit`` (a
    deterministic resource limit); see :func:`check`. Every chosen invariant is
    both a goal and a hypothesis, so leaving a lemma out of ``names`` is how to
    see what it is for.

    ``bound`` (sort name -> n) only looks for counterexamples among structures
    with at most ``n`` elements of each named sort: quantifier-free, fast and
    decidable, but an UNSAT answer is then INCOMPLETE, never HOLDS. With
    ``minimize`` every counterexample is shrunk, sort by sort, to the fewest
    elements found. With ``cti_bound``, a consecution query the solver gave up
    on is searched for a counterexample among structures that small; one found
    makes the query VIOLATED (a genuine CTI), none leaves it UNKNOWN.

    The result has one property per invariant (``lemma`` marks the lemmas), each
    with its own queries; its notes say when the queries are outside EPR.
    """
    if system.init is None:
        raise UsageError(f"system {system.name} has no initial states: call set_init()")
    chosen = _chosen(system, names)
    invs = [system.invariants[n] for n in chosen]
    settings = _Settings(timeout, rlimit, seed, _grounder(system, bound), minimize,
                         _grounder(system, cti_bound))
    queries: dict[str, list[Query]] = {i.name: [] for i in invs}
    axioms = list(system.axioms.values())
    for inv in invs:
        formulas = axioms + [system.init, z3.Not(inv.formula)]
        q, zm = _ask(f"init/{inv.name}", formulas, settings)
        if zm is not None:
            sizes = dict(settings.grounder.bound) if settings.grounder else {}
            if minimize:
                zm, sizes = _smallest(system, formulas, zm, sizes, timeout, seed)
            q.cti = initial_counterexample(system, inv, zm, q.name, sizes)
        queries[inv.name].append(q)
    for t in system.transitions.values():
        for inv in invs:
            queries[inv.name].append(_consecution(system, t, inv, invs, settings))
    return Result(system.name, properties=_summarise(invs, queries), mode=MODE,
                  queries=[q for i in invs for q in queries[i.name]], sizes=dict(bound or {}),
                  notes=outside_epr(system, chosen))


def check(system: System, transition: str, invariant: str,
          hypotheses: Sequence[str] | None = None, *, timeout: float | None = None,
          rlimit: int | None = None, seed: int = 0, bound: Mapping[str, int] | None = None,
          minimize: bool = True, cti_bound: Mapping[str, int] | None = None) -> Query:
    """The one consecution query ``transition/invariant`` under ``hypotheses`` (default: every
    invariant): HOLDS, VIOLATED with a re-checked CTI, UNKNOWN, or INCOMPLETE under a bound."""
    if transition not in system.transitions:
        raise UsageError(f"no transition {transition!r} in system {system.name}; choose from "
                         f"{', '.join(system.transitions)}")
    goal = system.invariants[_chosen(system, [invariant])[0]]
    hyps = [system.invariants[n] for n in _chosen(system, hypotheses)]
    return _consecution(system, system.transitions[transition], goal, hyps,
                        _Settings(timeout, rlimit, seed, _grounder(system, bound), minimize,
                                  _grounder(system, cti_bound)))


@dataclass(frozen=True)
class _Settings:
    timeout: float | None
    rlimit: int | None
    seed: int
    grounder: Grounder | None
    minimize: bool
    fallback: Grounder | None = None


def _chosen(system: System, names: Sequence[str] | None) -> list[str]:
    chosen = list(system.invariants) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in system.invariants]
    if unknown:
        raise UsageError(f"no invariant {unknown[0]!r} in system {system.name}; choose from "
                         f"{', '.join(system.invariants)}")
    return chosen


def _grounder(system: System, bound: Mapping[str, int] | None) -> Grounder | None:
    if not bound:
        return None
    bad = [s for s in bound if s not in system.sorts or s in system.enums]
    if bad:
        raise UsageError(f"bound names {bad}, which are not uninterpreted sorts of {system.name}")
    return Grounder(system, bound)


def _consecution(system: System, t: Transition, inv: Invariant, hyps: Sequence[Invariant],
                 settings: _Settings) -> Query:
    """``t/inv``; answered without a solver when ``t`` changes no symbol ``inv`` mentions
    (then ``inv`` after the step is ``inv`` before it, a hypothesis)."""
    name = f"{t.name}/{inv.name}"
    if inv in hyps and not (t.modifies & _symbols(system, inv.formula)):
        return Query(name, Verdict.HOLDS, 0.0, note=f"{t.name} changes no symbol of {inv.name}")
    formulas = (list(system.axioms.values()) + [h.formula for h in hyps]
                + [system.transition_body(t), z3.Not(system.prime(inv.formula))])
    q, zm = _ask(name, formulas, settings)
    if q.verdict is Verdict.UNKNOWN and settings.fallback is not None and settings.grounder is None:
        small = _Settings(settings.timeout, settings.rlimit, settings.seed, settings.fallback,
                          settings.minimize)
        found, zm = _ask(name, formulas, small)
        if zm is not None:
            q = Query(name, Verdict.VIOLATED, q.seconds + found.seconds,
                      note=f"the solver gave up ({q.note}); a search up to "
                           f"{settings.fallback.bound} found this counterexample")
            settings = small
        else:
            q.seconds += found.seconds
    if zm is not None:
        sizes = dict(settings.grounder.bound) if settings.grounder else {}
        if settings.minimize:
            zm, sizes = _smallest(system, formulas, zm, sizes, settings.timeout, settings.seed)
        q.cti = counterexample_to_induction(system, t, inv, hyps, zm, name, sizes)
    return q


def _symbols(system: System, e: z3.ExprRef) -> frozenset[str]:
    return frozenset(a.decl().name() for a in applications(e) if a.decl().name() in system.symbols)


def _ask(name: str, formulas: Sequence[z3.BoolRef],
         settings: _Settings) -> tuple[Query, z3.ModelRef | None]:
    s = solver(settings.timeout, settings.rlimit, settings.seed)
    bounded = settings.grounder is not None
    s.add(settings.grounder(formulas) if bounded else formulas)
    start = time.perf_counter()
    answer = s.check()
    seconds = time.perf_counter() - start
    if answer == z3.unsat:
        if bounded:
            return Query(name, Verdict.INCOMPLETE, seconds,
                         note="no counterexample within the bound"), None
        return Query(name, Verdict.HOLDS, seconds), None
    if answer == z3.sat:
        return Query(name, Verdict.VIOLATED, seconds), s.model()
    return Query(name, Verdict.UNKNOWN, seconds, note=s.reason_unknown() or "unknown"), None


def _smallest(system: System, formulas, zm: z3.ModelRef, bound: Mapping[str, int], timeout,
              seed) -> tuple[z3.ModelRef, dict[str, int]]:
    """A model of ``formulas`` with, sort by sort, the fewest elements found (at most ``zm``'s),
    and the bound it was found under."""
    sizes = {n: len(zm.get_universe(s) or [None]) for n, s in system.sorts.items()
             if n not in system.enums}
    sizes = {n: min(k, bound.get(n, k)) for n, k in sizes.items()}
    found = dict(bound)
    for name in sizes:
        for n in range(1, sizes[name]):
            s = solver(timeout, None, seed)
            s.add(Grounder(system, {**sizes, name: n})(formulas))
            if s.check() == z3.sat:
                zm, sizes[name] = s.model(), n
                found = dict(sizes)
                break
    return zm, found


def _summarise(invs: Sequence[Invariant],
               queries: Mapping[str, list[Query]]) -> list[PropertyResult]:
    """Each invariant's verdict. HOLDS: every query of the run held, so the invariants together
    are inductive and this one holds in every reachable state, at every size. VIOLATED: an
    initial state breaks it. UNKNOWN: not proved, because some query of the run has a CTI or
    gave up (``note`` names it). INCOMPLETE: no counterexample within a bound."""
    every = [q for qs in queries.values() for q in qs]
    open_ = [q for q in every if q.verdict is Verdict.UNKNOWN
             or (q.verdict is Verdict.VIOLATED and q.step != "init")]
    out = []
    for inv in invs:
        own = queries[inv.name]
        broken_init = [q for q in own if q.step == "init" and q.verdict is Verdict.VIOLATED]
        mine = [q for q in own if q in open_]
        if broken_init:
            verdict, note = Verdict.VIOLATED, "an initial state breaks it"
        elif mine:
            ctis = [q.name for q in mine if q.verdict is Verdict.VIOLATED]
            gave_up = [q.name for q in mine if q.verdict is Verdict.UNKNOWN]
            verdict = Verdict.UNKNOWN
            note = "; ".join(filter(None, [
                f"not inductive: counterexample to induction in {', '.join(ctis)}" if ctis else "",
                f"solver gave up on {', '.join(gave_up)}" if gave_up else ""]))
        elif open_ or any(q.verdict is Verdict.VIOLATED for q in every):
            verdict = Verdict.UNKNOWN
            others = sorted({q.goal for q in every if q.verdict is not Verdict.HOLDS})
            note = f"relies on {', '.join(others)}, not proved"
        elif any(q.verdict is Verdict.INCOMPLETE for q in every):
            verdict, note = Verdict.INCOMPLETE, "no counterexample to induction within the bound"
        else:
            verdict, note = Verdict.HOLDS, ""
        out.append(PropertyResult(inv.name, "always", verdict, doc=inv.doc, note=note,
                                  lemma=inv.kind == "lemma", queries=own))
    return out
