"""Bounded grounding: queries over structures of at most so many elements per sort.

A :class:`Grounder` makes formulas quantifier-free over named elements, so that
a query asks only about small structures (fast and decidable; an UNSAT answer
is then no proof). :func:`solver` is the one way every relational query, bounded
or not, gets a solver.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import z3

from ...errors import UsageError
from .system import System, applications


def solver(timeout: float | None, rlimit: int | None, seed: int) -> z3.Solver:
    """A fresh solver: fixed seed, limits, and quantifiers instantiated by model-based
    quantifier instantiation alone (MBQI decides EPR; E-matching's pattern-driven
    instances only slowed these queries down, up to timeouts)."""
    s = z3.Solver()
    s.set("random_seed", seed)
    s.set("smt.ematching", False)
    if timeout is not None:
        s.set("timeout", max(1, int(timeout * 1000)))
    if rlimit is not None:
        s.set("rlimit", rlimit)
    return s


def elements(system: System, name: str, n: int) -> list[z3.ExprRef]:
    """The ``n`` named elements of sort ``name`` that a bounded structure has at most."""
    if n < 1:
        raise UsageError(f"bound on {name} must be at least 1, got {n}")
    return [z3.Const(f"{name}!bound{i}", system.sorts[name]) for i in range(n)]


class Grounder:
    """Formulas over structures with at most ``bound[s]`` elements of each bounded sort, made
    quantifier-free: every quantifier over bounded sorts is expanded over named elements, and
    every free constant and function value of a bounded sort is one of them. Expansions are
    cached, so the hypotheses shared by many queries are expanded once."""

    def __init__(self, system: System, bound: Mapping[str, int]):
        self.system = system
        self.bound = dict(bound)
        self.elems = {name: elements(system, name, n) for name, n in bound.items()}
        self.memo: dict[int, tuple[z3.ExprRef, z3.ExprRef]] = {}  # keeps each key's AST alive
        self.names = {str(e) for es in self.elems.values() for e in es}
        self.closure = []
        for sym in system.symbols.values():
            if sym.args and sym.range.name() in self.elems:
                for decl in filter(None, (sym.decl, sym.post)):
                    for args in itertools.product(*[self.values(a) for a in sym.args]):
                        self.closure.append(self.within(decl(*args)))

    def values(self, sort: z3.SortRef) -> list[z3.ExprRef]:
        """The values a bounded structure gives ``sort``: truth values, enum values, elements."""
        return self.system.values(sort, self.elems)

    def within(self, term: z3.ExprRef) -> z3.BoolRef:
        """``term`` is one of its sort's named elements."""
        return z3.Or([term == x for x in self.elems[term.sort().name()]])

    def __call__(self, formulas: Sequence[z3.BoolRef]) -> list[z3.BoolRef]:
        """``formulas`` grounded, with every term of a bounded sort kept among its elements."""
        consts = {}
        for f in formulas:
            for app in applications(f):
                if (app.num_args() == 0 and app.decl().kind() == z3.Z3_OP_UNINTERPRETED
                        and app.sort().name() in self.elems and str(app) not in self.names):
                    consts[str(app)] = app
        return ([self.ground(f) for f in formulas] + self.closure
                + [self.within(c) for _, c in sorted(consts.items())])

    def ground(self, e: z3.ExprRef) -> z3.ExprRef:
        """``e`` with every quantifier over bounded sorts expanded."""
        key = e.get_id()
        if key in self.memo:
            return self.memo[key][1]
        if z3.is_quantifier(e):
            sorts = [e.var_sort(i) for i in range(e.num_vars())]
            if any(s != z3.BoolSort() and s.name() not in self.system.enums
                   and s.name() not in self.elems for s in sorts):
                out = e  # a sort without a bound keeps its quantifier
            else:
                cases = [self.ground(z3.substitute_vars(e.body(), *reversed(vals)))
                         for vals in itertools.product(*[self.values(s) for s in sorts])]
                out = z3.And(cases) if e.is_forall() else z3.Or(cases)
        elif z3.is_app(e) and e.num_args() > 0:
            kids = [self.ground(c) for c in e.children()]
            k = e.decl().kind()
            if k == z3.Z3_OP_AND:
                out = z3.And(kids)
            elif k == z3.Z3_OP_OR:
                out = z3.Or(kids)
            elif k == z3.Z3_OP_DISTINCT:
                out = z3.Distinct(kids)
            elif k == z3.Z3_OP_ITE:
                out = z3.If(*kids)
            else:
                out = e.decl()(*kids)
        else:
            out = e
        self.memo[key] = (e, out)
        return out

