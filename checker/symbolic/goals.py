"""What the symbolic engines check: goals, each a Z3 formula and a concrete check.

A :class:`Goal` is a state property the engines know both as a Z3 formula
(derived from the model by :mod:`checker.symbolic.z3enc`) and as a concrete
check, so that every answer Z3 gives is evaluated concretely before it is
believed. The model's ``always`` properties are goals, and so is the
built-in absence of deadlock. Engines report in the one result vocabulary
(:mod:`checker.results.result`) and never print; :func:`goal_result` starts
a goal's result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import z3

from ..core.contract import Instance, Model, Property
from ..core.schema import State
from ..errors import UsageError
from ..results.result import DEADLOCK, PropertyResult, Query, Verdict
from . import z3enc


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


def goal_result(goal: Goal, verdict: Verdict, queries: list[Query] = (), note: str = "") -> PropertyResult:
    """A goal's result, with the queries whose goal it is."""
    return PropertyResult(goal.name, "always", verdict, goal.source, lemma=goal.lemma,
                          queries=[q for q in queries if q.goal == goal.name], note=note)
