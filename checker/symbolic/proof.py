"""What the symbolic engines check and what they report: goals, queries, CTIs, results.

A :class:`Goal` is a state property the engines know both as a Z3 formula
(derived from the model by :mod:`checker.z3enc`) and as a concrete check,
so that every answer Z3 gives is evaluated concretely before it is believed.
The model's ``always`` properties are goals, and so is the built-in absence
of deadlock. Engines return a :class:`ProofResult`; they never print.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import z3

from . import z3enc
from ..core.contract import Instance, Model, Property
from ..errors import UsageError
from ..results.result import DEADLOCK, Verdict
from ..core.schema import State
from ..results.trace import Trace


@dataclass(frozen=True)
class Goal:
    """A state property: ``holds(v)`` as a formula over a vocabulary, ``check(state)`` concretely."""

    name: str
    holds: Callable[[z3enc.Vocab], z3.BoolRef] = field(repr=False)
    check: Callable[[State], bool] = field(repr=False)
    source: str = ""
    lemma: bool = False


def property_goal(model: Model, prop: Property, lemma: bool = False) -> Goal:
    """The goal of an ``always`` property (or a strengthening lemma)."""
    if prop.kind != "always" or not callable(prop.check):
        raise UsageError(f"{prop.name} is a {prop.kind} property; only invariants (always) are proved")
    view = model.schema.view

    return Goal(prop.name,
                lambda v: z3enc.predicate(model, prop.check, v, prop.name),
                lambda state: bool(prop.check(view(state))),
                prop.source, lemma)


def deadlock_goal(model: Model) -> Goal:
    """Absence of deadlock as a state property: some step is enabled, or terminal, or at the bound."""
    view = model.schema.view

    def enabled(inst: Instance, state: State) -> bool:
        try:
            return model.enabled(inst, state)
        except IndexError:  # a guard that raises counts as enabled, as in the encoding
            return True

    def check(state: State) -> bool:
        if any(enabled(i, state) for i in model.instances):
            return True
        return any(pred is not None and bool(pred(view(state)))
                   for pred in (model.terminal, model.at_bound))
    return Goal(DEADLOCK, lambda v: z3.Not(z3enc.deadlocked(model, v)), check,
                "built in: some step is enabled unless terminal or at the bound")


def goals(model: Model, names: Sequence[str] | None = None) -> list[Goal]:
    """The model's invariants (and deadlock freedom, if checked), or those called ``names``."""
    everything = [property_goal(model, p) for p in model.properties if p.kind == "always"]
    if model.check_deadlock:
        everything.append(deadlock_goal(model))
    if not names:
        return [g for g in everything if g.name != DEADLOCK] + [
            g for g in everything if g.name == DEADLOCK]
    by_name = {g.name: g for g in everything}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(f"no invariant {unknown[0]!r} in model {model.name}; choose from: "
                         f"{', '.join(by_name)}")
    return [by_name[n] for n in dict.fromkeys(names)]


def lemma_goals(model: Model, lemmas: Sequence[Property]) -> list[Goal]:
    """Strengthening lemmas as goals, marked as lemmas."""
    return [property_goal(model, p, lemma=True) for p in lemmas]


# ---- results -------------------------------------------------------------------

@dataclass
class Cti:
    """A counterexample to induction: states satisfying every hypothesis, then a step breaking a goal.

    ``states`` has ``k + 1`` states joined by ``instances`` (k = 1 for plain
    induction: ``pre``, the step, ``post``). Every hypothesis holds in all
    states but the last; ``broken`` lists the goals false in the last one.
    ``error`` is set instead when the step would raise in the concrete model.
    """

    model: Model = field(repr=False)
    query: str
    goal: str
    states: list[State]
    instances: list[Instance]
    broken: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def pre(self) -> State:
        """The state before the last step."""
        return self.states[-2] if len(self.states) > 1 else self.states[-1]

    @property
    def post(self) -> State:
        """The state after the last step."""
        return self.states[-1]

    @property
    def instance(self) -> Instance:
        """The last step."""
        return self.instances[-1]


@dataclass
class Query:
    """One scoped solver query, named ``action/goal`` (or ``init/goal``, ``depth3/goal``...).

    ``verdict`` is HOLDS when the query's claim was proved (UNSAT), VIOLATED
    when Z3 found a counterexample to it (checked concretely: a ``cti`` or,
    for bounded queries, a trace on the goal), UNKNOWN when the solver gave up.
    """

    name: str
    verdict: Verdict
    seconds: float
    cti: Cti | None = None
    note: str = ""


@dataclass
class GoalResult:
    """The verdict of one goal.

    HOLDS: true in every reachable state (proved). VIOLATED: a reachable
    state breaks it (``trace``). UNKNOWN: the solver gave up, or the goal is
    not inductive (see the CTIs). INCOMPLETE: a bounded search found nothing
    up to its bound, or the proof assumed lemmas it did not prove.
    """

    name: str
    verdict: Verdict
    source: str = ""
    lemma: bool = False
    trace: Trace | None = None
    note: str = ""


@dataclass
class ProofResult:
    """Everything one symbolic run found: per-goal verdicts and every query it made."""

    mode: str
    model: str
    bound: int | None
    goals: list[GoalResult]
    queries: list[Query]
    meta: dict = field(default_factory=dict)

    def get(self, name: str) -> GoalResult:
        """The result of the goal called ``name``."""
        for g in self.goals:
            if g.name == name:
                return g
        raise KeyError(name)

    def query(self, name: str) -> Query:
        """The query called ``name``."""
        for q in self.queries:
            if q.name == name:
                return q
        raise KeyError(name)

    @property
    def ctis(self) -> list[Cti]:
        """Every counterexample to induction found."""
        return [q.cti for q in self.queries if q.cti is not None]

    @property
    def seconds(self) -> float:
        """Total solver time over all queries."""
        return sum(q.seconds for q in self.queries)

    @property
    def outcome(self) -> Verdict:
        """VIOLATED on a real counterexample; else UNKNOWN/INCOMPLETE if open; else HOLDS."""
        verdicts = [g.verdict for g in self.goals]
        for v in (Verdict.VIOLATED, Verdict.UNKNOWN, Verdict.INCOMPLETE):
            if v in verdicts:
                return v
        return Verdict.HOLDS
