"""Z3 models read as finite structures, and counterexamples re-checked on them.

A satisfiable query gives a Z3 model. :class:`_Reader` reads it as a
:class:`~.finite.FiniteInstance` (its universes, the rigid symbols) and states
over it; :func:`counterexample_to_induction` and :func:`initial_counterexample`
re-evaluate it concretely (axioms, hypotheses, lets, guard, the executed
post-state, the broken invariant) and report it as a
:class:`~checker.results.result.Cti`. A model that does not re-evaluate is a
:class:`~checker.errors.CheckerBug`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import z3

from ...errors import CheckerBug
from ...results.result import Cti
from .finite import FiniteInstance, nest
from .ground import elements
from .system import Invariant, Symbol, System, Transition, applied


@dataclass
class TransitionStep:
    """One relational step of a CTI: a transition with its parameter and let values, named."""

    transition: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``recv_lock(n=node0)``, or the bare name of a step without parameters."""
        if not self.params:
            return self.transition
        return f"{self.transition}(" + ", ".join(f"{k}={v}" for k, v in self.params.items()) + ")"


class _Reader:
    """A Z3 model read as a finite structure: universes, rigid symbols, states, values.

    Under a ``bound`` the universe of a sort is the values of its named elements;
    otherwise the model's universe.
    """

    def __init__(self, system: System, zm: z3.ModelRef, bound: Mapping[str, int], query: str):
        self.system, self.zm, self.query = system, zm, query
        self.universe: dict[str, list[z3.ExprRef]] = {}
        for sname, s in system.sorts.items():
            if sname in system.enums:
                continue
            if sname in bound:
                values = [zm.eval(e, model_completion=True)
                          for e in elements(system, sname, bound[sname])]
                self.universe[sname] = list({str(v): v for v in values}.values())
            else:
                self.universe[sname] = list(zm.get_universe(s) or [z3.Const(f"{sname}!fresh", s)])
        self.index = {s: {str(e): i for i, e in enumerate(es)} for s, es in self.universe.items()}
        rigid = {s.name: self.interp(s.decl, s) for s in system.rigid}
        self.instance = FiniteInstance(system, {s: len(es) for s, es in self.universe.items()},
                                       rigid)

    def domain(self, sort: z3.SortRef) -> list[z3.ExprRef]:
        """The values of ``sort`` in the model's structure."""
        return self.system.values(sort, self.universe)

    def value(self, e: z3.ExprRef, sort: z3.SortRef):
        """The element, enum index or truth value of ``e``; a :class:`_Formula` when Z3 gives a
        truth value as a formula over its elements."""
        v = self.zm.eval(e, model_completion=True)
        if sort == z3.BoolSort():
            v = v if z3.is_true(v) or z3.is_false(v) else z3.simplify(v)
            if not (z3.is_true(v) or z3.is_false(v)):
                return _Formula(v)
            return z3.is_true(v)
        if sort.name() in self.system.enums:
            return [str(c) for c in self.system.enums[sort.name()]].index(str(v))
        if str(v) not in self.index[sort.name()]:
            raise CheckerBug(f"query {self.query}: Z3 model value {v} is not in the universe "
                             f"of {sort}")
        return self.index[sort.name()][str(v)]

    def interp(self, decl: z3.FuncDeclRef, sym: Symbol):
        def literal(xs):
            v = self.value(applied(decl, xs), sym.range)
            if isinstance(v, _Formula):
                raise CheckerBug(f"query {self.query}: Z3 gave {decl.name()}{xs} the value "
                                 f"{v.expr}, not a truth value")
            return v
        return nest([self.domain(a) for a in sym.args], literal)

    def state(self, post: bool = False) -> tuple:
        return tuple(self.interp(s.post if post else s.decl, s) for s in self.system.mutable)

    def truth(self, c: z3.ExprRef, pre: tuple, post: tuple):
        """The value of constant ``c``, a formula value evaluated on the structure."""
        v = self.value(c, c.sort())
        if not isinstance(v, _Formula):
            return v
        members = [e for es in self.universe.values() for e in es]
        positions = [i for es in self.universe.values() for i in range(len(es))]
        return bool(self.instance.evaluate(v.expr, pre, *positions, post=post, free=members))


@dataclass(frozen=True)
class _Formula:
    """A truth value Z3's model gives as a formula, to be evaluated on the structure."""

    expr: z3.ExprRef


def counterexample_to_induction(system: System, t: Transition, inv: Invariant,
                                invs: Sequence[Invariant], zm: z3.ModelRef, name: str,
                                bound: Mapping[str, int]) -> Cti:
    """The counterexample to induction of ``inv`` by ``t`` in ``zm``, re-checked concretely."""
    reader = _Reader(system, zm, bound, name)
    inst = reader.instance
    pre, post = reader.state(), reader.state(post=True)
    vals = {str(p): reader.truth(p, pre, post) for p in t.params}
    local = list(t.params)
    for c, d in t.lets:  # lets are what their definitions say, whatever the model gives them
        vals[str(c)] = inst.evaluate(d, pre, *[vals[str(x)] for x in local], free=local)
        local.append(c)
    problems = _problems(inst, t, [i.name for i in invs], inv.name, pre, post,
                         [vals[str(p)] for p in t.params], [vals[str(c)] for c, _ in t.lets])
    if problems:
        raise CheckerBug(f"query {name}: the Z3 model does not re-evaluate as a counterexample "
                         f"to induction: {problems}")
    step = TransitionStep(t.name, {str(c): inst.element_name(c.sort(), vals[str(c)])
                                   for c in local})
    return _cti(name, inv, inst, [pre, post], [step])


def initial_counterexample(system: System, inv: Invariant, zm: z3.ModelRef, name: str,
                           bound: Mapping[str, int]) -> Cti:
    """An initial state breaking ``inv`` in ``zm`` (a CTI with no step), re-checked."""
    reader = _Reader(system, zm, bound, name)
    state = reader.state()
    inst = reader.instance
    if not inst.evaluate(system.init, state) or inst.holds(inv.name, state):
        raise CheckerBug(f"query {name}: the Z3 model is not an initial state breaking {inv.name}")
    return _cti(name, inv, inst, [state], [])


def _problems(inst: FiniteInstance, t: Transition, hypotheses: Sequence[str], goal: str,
              pre: tuple, post: tuple, params: Sequence, lets: Sequence) -> list[str]:
    """What is wrong with (pre, t(params), post) as a counterexample to induction of ``goal``."""
    problems = []
    broken = [h for h in hypotheses if not inst.holds(h, pre)]
    if broken:
        problems.append(f"the pre-state breaks {broken}")
    local = list(t.params) + [c for c, _ in t.lets]
    vals = list(params) + list(lets)
    for i, (c, d) in enumerate(t.lets):
        if inst.evaluate(d, pre, *vals, free=local) != lets[i]:
            problems.append(f"let {c} is not its definition")
    if not inst.evaluate(t.guard, pre, *vals, free=local):
        problems.append("the guard is false")
    if not inst.evaluate(inst.system.transition_body(t), pre, *vals, post=post, free=local):
        problems.append("the post-state does not follow the updates")
    if inst.holds(goal, post):
        problems.append(f"{goal} holds in the post-state")
    return problems


def _cti(query: str, inv: Invariant, inst: FiniteInstance, states: list[tuple],
         steps: list[TransitionStep]) -> Cti:
    """States of ``inst`` joined by ``steps``, the last breaking ``inv``, with their readings."""
    return Cti(query, inv.name, states, steps, inst,
               readable=[inst.facts(s) for s in states], labels=[s.label for s in steps],
               broken=[inv.name], context=inst.context())
