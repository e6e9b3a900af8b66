"""Whether the queries stay in EPR: the quantifier-alternation graph over the sorts.

Effectively propositional logic (EPR) is decidable: when quantifier
alternations and functions form no cycle over the uninterpreted sorts, every
structure a query needs is finite and Z3's model-based instantiation decides
it. Outside it Z3 may still answer, and any answer it gives is checked
concretely, but a timeout becomes more likely.
"""
from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import z3

from .system import System


def alternation_graph(system: System, names: Sequence[str] | None = None) -> nx.DiGraph:
    """Edges ``A -> B`` over uninterpreted sorts: a function from A to B, or an existential
    over B under a universal over A, in any formula a query asserts (axioms, init, every
    chosen invariant as hypothesis and negated as goal, each transition). No cycle: every
    query is in EPR, where Z3 decides satisfiability."""
    invs = [system.invariants[n] for n in (names if names is not None else system.invariants)]
    g = nx.DiGraph()
    g.add_nodes_from(n for n in system.sorts if n not in system.enums)
    for sym in system.symbols.values():
        for a in sym.args:
            _edge(system, g, [a], sym.range)
    asserted = [(f, True) for f in system.axioms.values()]
    if system.init is not None:
        asserted.append((system.init, True))
    asserted += [(i.formula, True) for i in invs] + [(i.formula, False) for i in invs]
    asserted += [(system.transition_body(t), True) for t in system.transitions.values()]
    for f, positive in asserted:
        _alternations(system, g, f, positive, [])
    return g


def _edge(system: System, g: nx.DiGraph, froms, to: z3.SortRef) -> None:
    if to.name() in system.sorts and to.name() not in system.enums:
        for a in froms:
            if a.name() in system.sorts and a.name() not in system.enums:
                g.add_edge(a.name(), to.name())


def _alternations(system: System, g: nx.DiGraph, e: z3.ExprRef, positive: bool,
                  universals: list) -> None:
    if z3.is_quantifier(e):
        sorts = [e.var_sort(i) for i in range(e.num_vars())]
        universal = e.is_forall() == positive
        if universal:
            _alternations(system, g, e.body(), positive, universals + sorts)
        else:
            for s in sorts:
                _edge(system, g, universals, s)
            _alternations(system, g, e.body(), positive, universals)
        return
    if not z3.is_app(e):
        return
    k = e.decl().kind()
    kids = e.children()
    if k == z3.Z3_OP_NOT:
        _alternations(system, g, kids[0], not positive, universals)
    elif k == z3.Z3_OP_IMPLIES:
        _alternations(system, g, kids[0], not positive, universals)
        _alternations(system, g, kids[1], positive, universals)
    elif k in (z3.Z3_OP_AND, z3.Z3_OP_OR):
        for c in kids:
            _alternations(system, g, c, positive, universals)
    elif k in (z3.Z3_OP_EQ, z3.Z3_OP_DISTINCT, z3.Z3_OP_XOR, z3.Z3_OP_ITE) or kids:
        for c in kids:  # both polarities
            _alternations(system, g, c, positive, universals)
            _alternations(system, g, c, not positive, universals)


def cycles(system: System, names: Sequence[str] | None = None) -> list[list[str]]:
    """The cycles of :func:`alternation_graph`, each from its least sort, in order: none when
    every query is in EPR."""
    found = []
    for c in nx.simple_cycles(alternation_graph(system, names)):
        first = c.index(min(c))
        found.append(c[first:] + c[:first])
    return sorted(found)


def outside_epr(system: System, names: Sequence[str] | None = None) -> list[str]:
    """A note naming the cycles that take the queries outside EPR; none when there are none."""
    found = cycles(system, names)
    if not found:
        return []
    return ["outside EPR: quantifier alternations or functions form cycles over sorts "
            + "; ".join(" -> ".join(c + c[:1]) for c in found)]
