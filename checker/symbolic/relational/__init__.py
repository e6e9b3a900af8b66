"""Relational transition systems over uninterpreted sorts, proved with Z3 for every size.

An explicit model (:mod:`checker.core.contract`) fixes its bounds: it has ``T``
thread slots. A proof for *any* number of threads needs a description in
first-order logic over uninterpreted sorts, as mypyvy and Ivy write them. A
:class:`System` (:mod:`.system`) holds one:

* **sorts**: uninterpreted (:meth:`System.sort`; any number of elements, finite
  or infinite) or enumerated (:meth:`System.enum`; fixed named values);
* **symbols**: relations, functions and constants over the sorts. Mutable
  symbols are the state and have a pre and a post copy (``loc`` and
  ``loc'``); immutable ones (a total order, say) are *rigid* and constrained
  by **axioms**;
* an **initial-state** formula over the pre copies;
* **transitions**, each with parameters (the existentially quantified
  arguments of a step), *lets* (named values computed from the pre-state,
  also existentially quantified, each fixed by an equation), a guard, and
  updates ``R(x) := value(x)`` in the style of Ivy's actions. Its formula is
  ``exists params, lets. guard & lets & (forall x. R'(x) = value(x)) & frame``;
  formulas are written once over the pre copies and primed by substitution
  (``z3.substitute_funs``), never by hand;
* **safety** properties (the goals) kept apart from **invariant** lemmas (the
  strengthening that makes them inductive), as in mypyvy.

The jobs, one module each:

* :mod:`.prove`: :func:`prove` and :func:`check`, the initiation and
  consecution queries, their verdicts and the shrinking of counterexamples,
  as a :class:`~checker.results.result.Result` (mode ``any-size``);
* :mod:`.ground`: the bounded grounder (queries over small structures only)
  and the one solver set-up;
* :mod:`.reader`: a Z3 model read as a finite structure, and a counterexample
  re-checked on it before it is reported as a :class:`~checker.results.result.Cti`;
* :mod:`.epr`: :func:`alternation_graph`, whether the queries stay in EPR;
* :mod:`.finite`: :class:`FiniteInstance`, the system at fixed sizes with its
  formulas compiled to Python: successors, initial states, reachable states,
  and Z3's successors for comparison.

The engine knows nothing of any protocol; it returns data and never prints.
"""
from .epr import alternation_graph
from .finite import FiniteInstance, FiniteReachable
from .prove import check, prove
from .reader import TransitionStep
from .system import Invariant, Symbol, System, Transition, total_order

__all__ = [
    "FiniteInstance",
    "Invariant",
    "FiniteReachable",
    "Symbol",
    "System",
    "Transition",
    "TransitionStep",
    "alternation_graph",
    "check",
    "prove",
    "total_order",
]
