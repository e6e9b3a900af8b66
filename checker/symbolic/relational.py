"""Relational transition systems over uninterpreted sorts, proved with Z3 for every size.

An explicit model (:mod:`checker.contract`) fixes its bounds: it has ``T``
thread slots. A proof for *any* number of threads needs a description in
first-order logic over uninterpreted sorts, as mypyvy and Ivy write them. A
:class:`System` holds one:

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

:func:`prove` asks one scoped query per (transition, invariant) pair and one
per invariant for initiation, each on a fresh solver with a fixed random seed,
its own timeout (and optional deterministic ``rlimit``), and its time
recorded. ``unknown`` is UNKNOWN, never HOLDS. Quantifiers are instantiated by
Z3's model-based instantiation alone (MBQI, the decision procedure for EPR);
a transition that changes no symbol of an invariant is answered without a
solver (the invariant is a hypothesis). A satisfiable query gives a finite
structure (the Z3 model's universe), shrunk sort by sort and re-evaluated
concretely (axioms, hypotheses, lets, guard, the executed post-state, the
broken invariant) before it is reported as a :class:`Cti`; a model that does
not re-evaluate is a :class:`~checker.errors.CheckerBug`. :func:`check` asks
one query. With ``bound`` every query is made quantifier-free over at most so
many elements per sort (fast, decidable; UNSAT is INCOMPLETE); with
``cti_bound`` a query the solver gave up on is searched for a small CTI.

:class:`FiniteInstance` fixes a size per uninterpreted sort and an
interpretation of the rigid symbols. Its elements are ``0..n-1``; a state is a
tuple (one entry per mutable symbol) of nested tuples (``R[a][b]``). Every
formula is compiled to Python source and evaluated on such states, so the
instance enumerates its reachable states breadth-first at Python speed;
:meth:`FiniteInstance.solver_successors` asks Z3 for the same successors from
the transition formula, so that tests check that the executed updates and the
formula agree.

:func:`alternation_graph` reports whether the queries stay in the decidable
EPR fragment (quantifier alternations and functions form no cycle over the
uninterpreted sorts); outside it Z3 may still answer, and any answer it gives
is checked as above, but a timeout becomes more likely.

The engine knows nothing of any protocol; it returns data and never prints.
"""
from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import z3

from ..errors import CheckerBug, UsageError
from ..results.result import Verdict

__all__ = [
    "Cti",
    "FiniteInstance",
    "Invariant",
    "InvariantResult",
    "ProofResult",
    "Query",
    "Reachable",
    "Symbol",
    "System",
    "Transition",
    "alternation_graph",
    "check",
    "format_cti",
    "format_proof",
    "prove",
    "total_order",
]

Update = Callable[..., z3.ExprRef] | z3.ExprRef

_ENUMS: dict[str, tuple[z3.DatatypeSortRef, tuple[z3.ExprRef, ...]]] = {}
"""Enumerated sorts by name: Z3 refuses to declare one twice in a context."""


# ---- declarations ----------------------------------------------------------------

@dataclass(frozen=True)
class Symbol:
    """A relation (Bool range), function or constant (no arguments); mutable ones have a post copy."""

    name: str
    args: tuple[z3.SortRef, ...]
    range: z3.SortRef
    mutable: bool
    decl: z3.FuncDeclRef = field(repr=False)
    post: z3.FuncDeclRef | None = field(repr=False, default=None)
    doc: str = ""

    @property
    def arity(self) -> int:
        """The number of arguments."""
        return len(self.args)

    @property
    def is_relation(self) -> bool:
        """Whether its values are truth values."""
        return self.range == z3.BoolSort()


@dataclass(frozen=True)
class Transition:
    """A named step: ``exists params, lets. guard & lets & updates & frame``."""

    name: str
    params: tuple[z3.ExprRef, ...]
    lets: tuple[tuple[z3.ExprRef, z3.ExprRef], ...]
    guard: z3.BoolRef
    updates: tuple[tuple[Symbol, tuple[z3.ExprRef, ...], z3.ExprRef], ...]
    doc: str = ""

    @property
    def modifies(self) -> frozenset[str]:
        """Names of the symbols it updates."""
        return frozenset(sym.name for sym, _, _ in self.updates)


@dataclass(frozen=True)
class Invariant:
    """A state formula to prove: a ``safety`` goal or a strengthening ``lemma``."""

    name: str
    kind: str
    formula: z3.BoolRef
    doc: str = ""


class System:
    """Sorts, symbols, axioms, initial states, transitions, safety properties and lemmas."""

    def __init__(self, name: str):
        self.name = name
        self.sorts: dict[str, z3.SortRef] = {}
        self.enums: dict[str, tuple[z3.ExprRef, ...]] = {}
        self.symbols: dict[str, Symbol] = {}
        self.axioms: dict[str, z3.BoolRef] = {}
        self.init: z3.BoolRef | None = None
        self.transitions: dict[str, Transition] = {}
        self.invariants: dict[str, Invariant] = {}

    # sorts and symbols

    def sort(self, name: str) -> z3.SortRef:
        """Declare an uninterpreted sort: any number of elements."""
        self._fresh(name, self.sorts, "sort")
        s = z3.DeclareSort(name)
        self.sorts[name] = s
        return s

    def enum(self, name: str, *values: str) -> tuple[z3.SortRef, tuple[z3.ExprRef, ...]]:
        """Declare an enumerated sort with the named ``values``; returns the sort and its values."""
        self._fresh(name, self.sorts, "sort")
        if name in _ENUMS:
            s, consts = _ENUMS[name]
            if tuple(str(c) for c in consts) != values:
                raise UsageError(f"enum sort {name} already declared with values "
                                 f"{[str(c) for c in consts]}; give the new one another name")
        else:
            s, consts = z3.EnumSort(name, list(values))
            _ENUMS[name] = (s, tuple(consts))
        self.sorts[name] = s
        self.enums[name] = tuple(consts)
        return s, tuple(consts)

    def relation(self, name: str, *args: z3.SortRef, mutable: bool = True,
                 doc: str = "") -> z3.FuncDeclRef:
        """Declare a relation over ``args``; call the result to apply it."""
        return self._symbol(name, args, z3.BoolSort(), mutable, doc).decl

    def function(self, name: str, *args: z3.SortRef, result: z3.SortRef, mutable: bool = True,
                 doc: str = "") -> z3.FuncDeclRef:
        """Declare a function from ``args`` to ``result``."""
        if not args:
            raise UsageError(f"function {name} has no arguments: declare it with constant()")
        return self._symbol(name, args, result, mutable, doc).decl

    def constant(self, name: str, sort: z3.SortRef, mutable: bool = True,
                 doc: str = "") -> z3.ExprRef:
        """Declare a constant (a Bool constant is a nullary relation)."""
        return self._symbol(name, (), sort, mutable, doc).decl()

    def _symbol(self, name, args, rng, mutable, doc) -> Symbol:
        self._fresh(name, self.symbols, "symbol")
        for s in (*args, rng):
            if not self._known_sort(s):
                raise UsageError(f"symbol {name}: sort {s} is not declared in system {self.name}; "
                                 "declare it with sort() or enum()")
        decl = z3.Function(name, *args, rng)
        post = z3.Function(name + "'", *args, rng) if mutable else None
        sym = Symbol(name, tuple(args), rng, mutable, decl, post, doc)
        self.symbols[name] = sym
        return sym

    def _known_sort(self, s: z3.SortRef) -> bool:
        return s == z3.BoolSort() or any(s == k for k in self.sorts.values())

    def _fresh(self, name: str, table: Mapping, what: str) -> None:
        if not name.isidentifier():
            raise UsageError(f"{what} name {name!r} must be an identifier")
        if name in table:
            raise UsageError(f"{what} {name} declared twice in system {self.name}")

    @property
    def mutable(self) -> list[Symbol]:
        """The state symbols, in declaration order (the layout of a finite state)."""
        return [s for s in self.symbols.values() if s.mutable]

    @property
    def rigid(self) -> list[Symbol]:
        """The immutable symbols, in declaration order."""
        return [s for s in self.symbols.values() if not s.mutable]

    def symbol(self, ref: str | z3.FuncDeclRef | z3.ExprRef) -> Symbol:
        """The symbol named ``ref`` (a name, a declaration, or a constant)."""
        if isinstance(ref, z3.ExprRef):
            ref = ref.decl()
        name = ref if isinstance(ref, str) else ref.name()
        if name not in self.symbols:
            raise UsageError(f"{name} is not a symbol of system {self.name}")
        return self.symbols[name]

    # formulas

    def axiom(self, name: str, formula: z3.BoolRef) -> None:
        """A fact about the rigid symbols (an order's axioms, say)."""
        self._fresh(name, self.axioms, "axiom")
        self._check_formula(f"axiom {name}", formula, allow_mutable=False)
        self.axioms[name] = formula

    def set_init(self, formula: z3.BoolRef) -> None:
        """The initial states: a formula over the pre copies."""
        self._check_formula("init", formula)
        self.init = formula

    def transition(self, name: str, params: Sequence[z3.ExprRef], guard: z3.BoolRef,
                   updates: Mapping[str | z3.FuncDeclRef | z3.ExprRef, Update],
                   lets: Sequence[tuple[z3.ExprRef, z3.ExprRef]] = (), doc: str = "") -> Transition:
        """Add a step. ``updates`` maps a mutable symbol to its new value: a callable taking one
        fresh constant per argument (``lambda x: Or(runq(x), x == m)``), or an expression for
        a constant. ``lets`` are ``(constant, definition)`` pairs over the pre-state, the
        parameters and earlier lets; guard and updates may use them."""
        self._fresh(name, self.transitions, "transition")
        params, lets = tuple(params), tuple(lets)
        local = [p for p in params] + [c for c, _ in lets]
        names = [str(c) for c in local]
        for c in local:
            if not (z3.is_const(c) and c.decl().kind() == z3.Z3_OP_UNINTERPRETED):
                raise UsageError(f"transition {name}: parameter {c} must be a constant "
                                 "(z3.Const(name, sort))")
            if str(c) in self.symbols:
                raise UsageError(f"transition {name}: parameter {c} has a symbol's name")
        if len(set(names)) != len(names):
            raise UsageError(f"transition {name}: parameters and lets need distinct names: {names}")
        for i, (c, d) in enumerate(lets):
            if c.sort() != d.sort():
                raise UsageError(f"transition {name}: let {c} is a {c.sort()}, its definition a "
                                 f"{d.sort()}")
            self._check_formula(f"transition {name}, let {c}", d, params + tuple(x for x, _ in lets[:i]))
        self._check_formula(f"transition {name}, guard", guard, local)
        ups = []
        for key, value in updates.items():
            sym = self.symbol(key)
            if not sym.mutable:
                raise UsageError(f"transition {name} updates {sym.name}, which is rigid")
            xs = tuple(z3.Const(f"{sym.name}#{i}", s) for i, s in enumerate(sym.args))
            expr = value(*xs) if callable(value) else value
            if not isinstance(expr, z3.ExprRef) or expr.sort() != sym.range:
                raise UsageError(f"transition {name}: the new value of {sym.name} must be a "
                                 f"{sym.range} expression, got {expr!r}")
            self._check_formula(f"transition {name}, update of {sym.name}", expr, local + list(xs))
            ups.append((sym, xs, expr))
        t = Transition(name, params, lets, guard, tuple(ups), doc)
        self.transitions[name] = t
        return t

    def safety(self, name: str, formula: z3.BoolRef, doc: str = "") -> None:
        """A safety property: a goal of the proof."""
        self._invariant(name, "safety", formula, doc)

    def invariant(self, name: str, formula: z3.BoolRef, doc: str = "") -> None:
        """A strengthening lemma: proved with the goals, assumed in every query."""
        self._invariant(name, "lemma", formula, doc)

    def _invariant(self, name, kind, formula, doc) -> None:
        self._fresh(name, self.invariants, "invariant")
        self._check_formula(f"{kind} {name}", formula)
        self.invariants[name] = Invariant(name, kind, formula, doc)

    def prime(self, formula: z3.ExprRef, only: Iterable[str] | None = None) -> z3.ExprRef:
        """``formula`` over the post copies (of the symbols named ``only``, or of every mutable one)."""
        names = set(only) if only is not None else {s.name for s in self.mutable}
        pairs = []
        for s in self.mutable:
            if s.name in names:
                post = s.post(*[z3.Var(i, a) for i, a in enumerate(s.args)]) \
                    if s.args else s.post()
                pairs.append((s.decl, post))
        return z3.substitute_funs(formula, *pairs) if pairs else formula

    def transition_body(self, t: Transition) -> z3.BoolRef:
        """The transition formula without its outer quantifier: parameters and lets are free."""
        parts = [t.guard] + [c == d for c, d in t.lets]
        changed = t.modifies
        for sym, xs, value in t.updates:
            parts.append(_forall(xs, _apply(sym.post, xs) == value))
        for sym in self.mutable:
            if sym.name not in changed:
                xs = tuple(z3.Const(f"{sym.name}#{i}", s) for i, s in enumerate(sym.args))
                parts.append(_forall(xs, _apply(sym.post, xs) == _apply(sym.decl, xs)))
        return z3.And(parts)

    def transition_formula(self, t: Transition) -> z3.BoolRef:
        """The closed formula of ``t`` over the pre and post copies."""
        local = list(t.params) + [c for c, _ in t.lets]
        body = self.transition_body(t)
        return z3.Exists(local, body) if local else body

    def _check_formula(self, where: str, e: z3.ExprRef, free: Sequence[z3.ExprRef] = (),
                       allow_mutable: bool = True) -> None:
        if not isinstance(e, z3.ExprRef):
            raise UsageError(f"{where}: {e!r} is not a Z3 expression")
        ok = {str(c) for c in free}
        values = {str(v) for vs in self.enums.values() for v in vs}
        for app in _apps(e):
            d = app.decl()
            if d.kind() != z3.Z3_OP_UNINTERPRETED:
                if d.kind() not in _SUPPORTED and not (d.kind() == z3.Z3_OP_DT_CONSTRUCTOR
                                                       and d.name() in values):
                    raise UsageError(f"{where}: operator {d.name()} is outside the relational "
                                     "engine (use and, or, not, implies, ==, !=, If, ForAll, "
                                     "Exists over declared symbols)")
                continue
            n = d.name()
            if n in self.symbols:
                if not allow_mutable and self.symbols[n].mutable:
                    raise UsageError(f"{where} mentions the state symbol {n}; axioms constrain "
                                     "rigid symbols only")
                continue
            if app.num_args() == 0 and n in ok:
                continue
            raise UsageError(f"{where}: {n} is neither a declared symbol nor a parameter here")


_SUPPORTED = {z3.Z3_OP_AND, z3.Z3_OP_OR, z3.Z3_OP_NOT, z3.Z3_OP_IMPLIES, z3.Z3_OP_EQ,
              z3.Z3_OP_DISTINCT, z3.Z3_OP_ITE, z3.Z3_OP_TRUE, z3.Z3_OP_FALSE, z3.Z3_OP_XOR}


def _apply(decl: z3.FuncDeclRef, xs: Sequence[z3.ExprRef]) -> z3.ExprRef:
    return decl(*xs) if xs else decl()


def _forall(xs: Sequence[z3.ExprRef], body: z3.BoolRef) -> z3.BoolRef:
    return z3.ForAll(list(xs), body) if xs else body


def _apps(e: z3.ExprRef):
    """Every application in ``e`` (quantifier bodies included), each AST once."""
    seen, todo = set(), [e]
    while todo:
        x = todo.pop()
        if x.get_id() in seen:
            continue
        seen.add(x.get_id())
        if z3.is_quantifier(x):
            todo.append(x.body())
        elif z3.is_app(x):
            yield x
            todo.extend(x.children())


def total_order(lt: z3.FuncDeclRef, sort: z3.SortRef) -> dict[str, z3.BoolRef]:
    """The axioms of a strict total order ``lt`` on ``sort``, by name."""
    x, y, z = (z3.Const(n, sort) for n in ("x", "y", "z"))
    n = lt.name()
    return {f"{n}_irreflexive": z3.ForAll([x], z3.Not(lt(x, x))),
            f"{n}_transitive": z3.ForAll([x, y, z], z3.Implies(z3.And(lt(x, y), lt(y, z)), lt(x, z))),
            f"{n}_total": z3.ForAll([x, y], z3.Or(x == y, lt(x, y), lt(y, x)))}


# ---- results ------------------------------------------------------------------------

@dataclass
class Cti:
    """A counterexample to induction, re-evaluated on the finite structure Z3 gave.

    ``pre`` satisfies every axiom and hypothesis; the step ``transition`` with
    ``params`` (and lets) is enabled and leads to ``post``, where
    ``invariant`` is false. ``instance`` interprets both states.
    """

    query: str
    transition: str
    invariant: str
    instance: FiniteInstance = field(repr=False)
    pre: tuple = field(repr=False)
    post: tuple = field(repr=False)
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Query:
    """One scoped solver query, named ``transition/invariant`` or ``init/invariant``.

    HOLDS: proved (UNSAT). VIOLATED: Z3 found a model, checked concretely (for
    consecution, ``cti``). UNKNOWN: the solver gave up (``note`` says why).
    """

    name: str
    transition: str
    invariant: str
    verdict: Verdict
    seconds: float
    cti: Cti | None = None
    note: str = ""


@dataclass
class InvariantResult:
    """One invariant's verdict in a proof, with the queries that have it as their goal.

    HOLDS: every query of the run held, so the invariants together are
    inductive and this one holds in every reachable state, at every size.
    VIOLATED: an initial state breaks it. UNKNOWN: not proved, because some
    query of the run has a CTI or gave up (``note`` names it).
    """

    name: str
    kind: str
    verdict: Verdict
    queries: list[Query]
    doc: str = ""
    note: str = ""

    @property
    def seconds(self) -> float:
        """Solver time of its own queries."""
        return sum(q.seconds for q in self.queries)


@dataclass
class ProofResult:
    """Every query of one proof and the verdict of each invariant."""

    system: str
    invariants: list[InvariantResult]
    queries: list[Query]
    stratified: bool = True
    cycles: list[list[str]] = field(default_factory=list)
    bound: dict[str, int] = field(default_factory=dict)

    def get(self, name: str) -> InvariantResult:
        """The result of the invariant called ``name``."""
        for r in self.invariants:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def ctis(self) -> list[Cti]:
        """Every counterexample to induction found (consecution queries only)."""
        return [q.cti for q in self.queries if q.cti is not None and q.transition != "init"]

    @property
    def initial_violations(self) -> list[Cti]:
        """Initial states that break an invariant (``pre`` is the state)."""
        return [q.cti for q in self.queries if q.cti is not None and q.transition == "init"]

    @property
    def seconds(self) -> float:
        """Total solver time."""
        return sum(q.seconds for q in self.queries)

    @property
    def outcome(self) -> Verdict:
        """VIOLATED if an initial state breaks an invariant; else UNKNOWN, then INCOMPLETE, if open."""
        verdicts = {r.verdict for r in self.invariants}
        for v in (Verdict.VIOLATED, Verdict.UNKNOWN, Verdict.INCOMPLETE):
            if v in verdicts:
                return v
        return Verdict.HOLDS


# ---- the proof ---------------------------------------------------------------------

def prove(system: System, names: Sequence[str] | None = None, *, timeout: float | None = None,
          rlimit: int | None = None, seed: int = 0, bound: Mapping[str, int] | None = None,
          minimize: bool = True, cti_bound: Mapping[str, int] | None = None) -> ProofResult:
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
        q, zm = _ask(f"init/{inv.name}", "init", inv.name, formulas, settings)
        if zm is not None:
            sizes = dict(settings.grounder.bound) if settings.grounder else {}
            if minimize:
                zm, sizes = _smallest(system, formulas, zm, sizes, timeout, seed)
            q.cti = _initial_counterexample(system, inv, zm, q.name, sizes)
        queries[inv.name].append(q)
    for t in system.transitions.values():
        for inv in invs:
            queries[inv.name].append(_consecution(system, t, inv, invs, settings))
    cycles = [list(c) for c in nx.simple_cycles(alternation_graph(system, chosen))]
    return ProofResult(system.name, _summarise(invs, queries),
                       [q for i in invs for q in queries[i.name]],
                       stratified=not cycles, cycles=cycles, bound=dict(bound or {}))


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
    grounder: _Grounder | None
    minimize: bool
    fallback: _Grounder | None = None


def _chosen(system: System, names: Sequence[str] | None) -> list[str]:
    chosen = list(system.invariants) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in system.invariants]
    if unknown:
        raise UsageError(f"no invariant {unknown[0]!r} in system {system.name}; choose from "
                         f"{', '.join(system.invariants)}")
    return chosen


def _grounder(system: System, bound: Mapping[str, int] | None) -> _Grounder | None:
    if not bound:
        return None
    bad = [s for s in bound if s not in system.sorts or s in system.enums]
    if bad:
        raise UsageError(f"bound names {bad}, which are not uninterpreted sorts of {system.name}")
    return _Grounder(system, bound)


def _consecution(system: System, t: Transition, inv: Invariant, hyps: Sequence[Invariant],
                 settings: _Settings) -> Query:
    """``t/inv``; answered without a solver when ``t`` changes no symbol ``inv`` mentions
    (then ``inv`` after the step is ``inv`` before it, a hypothesis)."""
    name = f"{t.name}/{inv.name}"
    if inv in hyps and not (t.modifies & _symbols(system, inv.formula)):
        return Query(name, t.name, inv.name, Verdict.HOLDS, 0.0,
                     note=f"{t.name} changes no symbol of {inv.name}")
    formulas = (list(system.axioms.values()) + [h.formula for h in hyps]
                + [system.transition_body(t), z3.Not(system.prime(inv.formula))])
    q, zm = _ask(name, t.name, inv.name, formulas, settings)
    if q.verdict is Verdict.UNKNOWN and settings.fallback is not None and settings.grounder is None:
        small = _Settings(settings.timeout, settings.rlimit, settings.seed, settings.fallback,
                          settings.minimize)
        found, zm = _ask(name, t.name, inv.name, formulas, small)
        if zm is not None:
            q = Query(name, t.name, inv.name, Verdict.VIOLATED, q.seconds + found.seconds,
                      note=f"the solver gave up ({q.note}); a search up to "
                           f"{settings.fallback.bound} found this counterexample")
            settings = small
        else:
            q.seconds += found.seconds
    if zm is not None:
        sizes = dict(settings.grounder.bound) if settings.grounder else {}
        if settings.minimize:
            zm, sizes = _smallest(system, formulas, zm, sizes, settings.timeout, settings.seed)
        q.cti = _cti(system, t, inv, hyps, zm, name, sizes)
    return q


def _symbols(system: System, e: z3.ExprRef) -> frozenset[str]:
    return frozenset(a.decl().name() for a in _apps(e) if a.decl().name() in system.symbols)


def _elements(system: System, name: str, n: int) -> list[z3.ExprRef]:
    if n < 1:
        raise UsageError(f"bound on {name} must be at least 1, got {n}")
    return [z3.Const(f"{name}!bound{i}", system.sorts[name]) for i in range(n)]


class _Grounder:
    """Formulas over structures with at most ``bound[s]`` elements of each bounded sort, made
    quantifier-free: every quantifier over bounded sorts is expanded over named elements, and
    every free constant and function value of a bounded sort is one of them. Expansions are
    cached, so the hypotheses shared by many queries are expanded once."""

    def __init__(self, system: System, bound: Mapping[str, int]):
        self.system = system
        self.bound = dict(bound)
        self.elems = {name: _elements(system, name, n) for name, n in bound.items()}
        self.memo: dict[int, tuple[z3.ExprRef, z3.ExprRef]] = {}  # keeps each key's AST alive
        self.names = {str(e) for es in self.elems.values() for e in es}
        self.closure = []
        for sym in system.symbols.values():
            if sym.args and sym.range.name() in self.elems:
                for decl in filter(None, (sym.decl, sym.post)):
                    for args in itertools.product(*[self.values(a) for a in sym.args]):
                        self.closure.append(self.within(decl(*args)))

    def values(self, sort: z3.SortRef) -> list[z3.ExprRef]:
        if sort == z3.BoolSort():
            return [z3.BoolVal(False), z3.BoolVal(True)]
        if sort.name() in self.system.enums:
            return list(self.system.enums[sort.name()])
        return self.elems[sort.name()]

    def within(self, term: z3.ExprRef) -> z3.BoolRef:
        return z3.Or([term == x for x in self.elems[term.sort().name()]])

    def __call__(self, formulas: Sequence[z3.BoolRef]) -> list[z3.BoolRef]:
        consts = {}
        for f in formulas:
            for app in _apps(f):
                if (app.num_args() == 0 and app.decl().kind() == z3.Z3_OP_UNINTERPRETED
                        and app.sort().name() in self.elems and str(app) not in self.names):
                    consts[str(app)] = app
        return ([self.ground(f) for f in formulas] + self.closure
                + [self.within(c) for _, c in sorted(consts.items())])

    def ground(self, e: z3.ExprRef) -> z3.ExprRef:
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


def _solver(timeout, rlimit, seed) -> z3.Solver:
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


def _ask(name, transition, invariant, formulas, settings: _Settings) -> tuple[Query, z3.ModelRef | None]:
    s = _solver(settings.timeout, settings.rlimit, settings.seed)
    bounded = settings.grounder is not None
    s.add(settings.grounder(formulas) if bounded else formulas)
    start = time.perf_counter()
    answer = s.check()
    seconds = time.perf_counter() - start
    if answer == z3.unsat:
        if bounded:
            return Query(name, transition, invariant, Verdict.INCOMPLETE, seconds,
                         note="no counterexample within the bound"), None
        return Query(name, transition, invariant, Verdict.HOLDS, seconds), None
    if answer == z3.sat:
        return Query(name, transition, invariant, Verdict.VIOLATED, seconds), s.model()
    return Query(name, transition, invariant, Verdict.UNKNOWN, seconds,
                 note=s.reason_unknown() or "unknown"), None


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
            s = _solver(timeout, None, seed)
            s.add(_Grounder(system, {**sizes, name: n})(formulas))
            if s.check() == z3.sat:
                zm, sizes[name] = s.model(), n
                found = dict(sizes)
                break
    return zm, found


def _summarise(invs: Sequence[Invariant], queries: Mapping[str, list[Query]]) -> list[InvariantResult]:
    open_ = [q for qs in queries.values() for q in qs
             if q.verdict is Verdict.UNKNOWN or (q.verdict is Verdict.VIOLATED and q.transition != "init")]
    out = []
    for inv in invs:
        own = queries[inv.name]
        broken_init = [q for q in own if q.transition == "init" and q.verdict is Verdict.VIOLATED]
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
        elif open_ or any(q.verdict is Verdict.VIOLATED for qs in queries.values() for q in qs):
            verdict = Verdict.UNKNOWN
            others = sorted({q.invariant for qs in queries.values() for q in qs
                             if q.verdict is not Verdict.HOLDS})
            note = f"relies on {', '.join(others)}, not proved"
        elif any(q.verdict is Verdict.INCOMPLETE for qs in queries.values() for q in qs):
            verdict, note = Verdict.INCOMPLETE, "no counterexample to induction within the bound"
        else:
            verdict, note = Verdict.HOLDS, ""
        out.append(InvariantResult(inv.name, inv.kind, verdict, own, inv.doc, note))
    return out


# ---- Z3 models as finite structures -----------------------------------------------

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
                          for e in _elements(system, sname, bound[sname])]
                self.universe[sname] = list({str(v): v for v in values}.values())
            else:
                self.universe[sname] = list(zm.get_universe(s) or [z3.Const(f"{sname}!fresh", s)])
        self.index = {s: {str(e): i for i, e in enumerate(es)} for s, es in self.universe.items()}
        rigid = {s.name: self.interp(s.decl, s) for s in system.rigid}
        self.instance = FiniteInstance(system, {s: len(es) for s, es in self.universe.items()},
                                       rigid)

    def domain(self, sort: z3.SortRef) -> list[z3.ExprRef]:
        if sort == z3.BoolSort():
            return [z3.BoolVal(False), z3.BoolVal(True)]
        if sort.name() in self.system.enums:
            return list(self.system.enums[sort.name()])
        return self.universe[sort.name()]

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
            v = self.value(_apply(decl, xs), sym.range)
            if isinstance(v, _Formula):
                raise CheckerBug(f"query {self.query}: Z3 gave {decl.name()}{xs} the value "
                                 f"{v.expr}, not a truth value")
            return v
        return _nest([self.domain(a) for a in sym.args], literal)

    def state(self, post: bool = False) -> tuple:
        return tuple(self.interp(s.post if post else s.decl, s) for s in self.system.mutable)

    def truth(self, c: z3.ExprRef, pre: tuple, post: tuple):
        """The value of constant ``c``, a formula value evaluated on the structure."""
        v = self.value(c, c.sort())
        if not isinstance(v, _Formula):
            return v
        elements = [e for es in self.universe.values() for e in es]
        positions = [i for es in self.universe.values() for i in range(len(es))]
        return bool(self.instance.evaluate(v.expr, pre, *positions, post=post, free=elements))


def _cti(system: System, t: Transition, inv: Invariant, invs: Sequence[Invariant],
         zm: z3.ModelRef, name: str, bound: Mapping[str, int]) -> Cti:
    """The counterexample in ``zm``, made a finite structure and re-checked concretely."""
    reader = _Reader(system, zm, bound, name)
    inst = reader.instance
    pre, post = reader.state(), reader.state(post=True)
    vals = {str(p): reader.truth(p, pre, post) for p in t.params}
    local = list(t.params)
    for c, d in t.lets:  # lets are what their definitions say, whatever the model gives them
        vals[str(c)] = inst.evaluate(d, pre, *[vals[str(x)] for x in local], free=local)
        local.append(c)
    problems = inst.recheck(t, [i.name for i in invs], inv.name, pre, post,
                            [vals[str(p)] for p in t.params], [vals[str(c)] for c, _ in t.lets])
    if problems:
        raise CheckerBug(f"query {name}: the Z3 model does not re-evaluate as a counterexample "
                         f"to induction: {problems}")
    shown = {str(c): inst.element_name(c.sort(), vals[str(c)]) for c in local}
    return Cti(name, t.name, inv.name, inst, pre, post, shown)


def _initial_counterexample(system: System, inv: Invariant, zm: z3.ModelRef, name: str,
                            bound: Mapping[str, int]) -> Cti:
    """An initial state breaking ``inv`` (``pre`` and ``post`` are both that state), re-checked."""
    reader = _Reader(system, zm, bound, name)
    state = reader.state()
    inst = reader.instance
    if not inst.evaluate(system.init, state) or inst.holds(inv.name, state):
        raise CheckerBug(f"query {name}: the Z3 model is not an initial state breaking {inv.name}")
    return Cti(name, "init", inv.name, inst, state, state)


@dataclass(frozen=True)
class _Formula:
    """A truth value Z3's model gives as a formula, to be evaluated on the structure."""

    expr: z3.ExprRef


def _nest(domains: Sequence[Sequence], at: Callable):
    """A nested-tuple table: ``at(args)`` for every tuple of ``domains``, indexed in order."""
    def level(prefix, rest):
        if not rest:
            return at(prefix)
        return tuple(level(prefix + (x,), rest[1:]) for x in rest[0])
    return level((), list(domains))


# ---- quantifier alternation ------------------------------------------------------

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


def _edge(system, g, froms, to) -> None:
    if to.name() in system.sorts and to.name() not in system.enums:
        for a in froms:
            if a.name() in system.sorts and a.name() not in system.enums:
                g.add_edge(a.name(), to.name())


def _alternations(system, g, e, positive, universals) -> None:
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


# ---- finite instances: compiled evaluation ------------------------------------------

class _Compiler:
    """Z3 formulas to Python source over nested-tuple interpretations."""

    def __init__(self, system: System, names: Mapping[str, str], free: Mapping[str, str]):
        self.system, self.names, self.free = system, names, free
        self.counter = 0
        self.enum_index = {str(v): i for vs in system.enums.values() for i, v in enumerate(vs)}

    def universe(self, sort: z3.SortRef) -> str:
        if sort == z3.BoolSort():
            return "(False, True)"
        if sort.name() in self.system.enums:
            return f"range({len(self.system.enums[sort.name()])})"
        return f"U_{sort.name()}"

    def __call__(self, e: z3.ExprRef, bound: tuple[str, ...] = ()) -> str:
        if z3.is_var(e):
            return bound[len(bound) - 1 - z3.get_var_index(e)]
        if z3.is_quantifier(e):
            names = []
            for i in range(e.num_vars()):
                self.counter += 1
                names.append(f"v{self.counter}")
            body = self(e.body(), bound + tuple(names))
            loops = " ".join(f"for {n} in {self.universe(e.var_sort(i))}"
                             for i, n in enumerate(names))
            return f"{'all' if e.is_forall() else 'any'}({body} {loops})"
        d = e.decl()
        k = d.kind()
        kids = [self(c, bound) for c in e.children()]
        if k == z3.Z3_OP_TRUE:
            return "True"
        if k == z3.Z3_OP_FALSE:
            return "False"
        if k == z3.Z3_OP_AND:
            return "(" + " and ".join(kids) + ")" if kids else "True"
        if k == z3.Z3_OP_OR:
            return "(" + " or ".join(kids) + ")" if kids else "False"
        if k == z3.Z3_OP_NOT:
            return f"(not {kids[0]})"
        if k == z3.Z3_OP_IMPLIES:
            return f"(not {kids[0]} or {kids[1]})"
        if k in (z3.Z3_OP_EQ,):
            return f"({kids[0]} == {kids[1]})"
        if k in (z3.Z3_OP_XOR,):
            return f"({kids[0]} != {kids[1]})"
        if k == z3.Z3_OP_DISTINCT:
            if len(kids) == 2:
                return f"({kids[0]} != {kids[1]})"
            return f"(len({{{', '.join(kids)}}}) == {len(kids)})"
        if k == z3.Z3_OP_ITE:
            return f"({kids[1]} if {kids[0]} else {kids[2]})"
        if k == z3.Z3_OP_DT_CONSTRUCTOR and str(e) in self.enum_index:
            return str(self.enum_index[str(e)])
        if k == z3.Z3_OP_UNINTERPRETED:
            n = d.name()
            if not kids and n in self.free:
                return self.free[n]
            if n in self.names:
                return self.names[n] + "".join(f"[{a}]" for a in kids)
        raise UsageError(f"cannot evaluate {e} concretely: {d.name()} is not a known symbol, "
                         "parameter or operator")


def _free_names(e: z3.ExprRef, candidates: set[str]) -> set[str]:
    return {a.decl().name() for a in _apps(e)
            if a.num_args() == 0 and a.decl().kind() == z3.Z3_OP_UNINTERPRETED
            and a.decl().name() in candidates}


@dataclass
class Reachable:
    """The reachable states of a finite instance, found breadth-first."""

    sizes: dict[str, int]
    states: set[tuple]
    transitions: int
    depth: int
    fired: dict[str, int]
    seconds: float
    complete: bool


class FiniteInstance:
    """A system at fixed sizes, with given interpretations of its rigid symbols.

    Elements of an uninterpreted sort of size ``n`` are ``0..n-1``; of an enum,
    the index of the value; of Bool, False and True. A state is a tuple with one
    nested-tuple interpretation per mutable symbol (``state[i][a][b]``).
    """

    def __init__(self, system: System, sizes: Mapping[str, int],
                 rigid: Mapping[str, object] | None = None):
        self.system = system
        missing = [s for s in system.sorts if s not in system.enums and s not in sizes]
        if missing or any(n < 1 for n in sizes.values()):
            raise UsageError(f"sizes must give every uninterpreted sort at least one element "
                             f"(missing {missing}, got {dict(sizes)})")
        self.sizes = {s: sizes[s] for s in system.sorts if s not in system.enums}
        rigid = dict(rigid or {})
        absent = [s.name for s in system.rigid if s.name not in rigid]
        if absent:
            raise UsageError(f"give an interpretation of the rigid symbol(s) {absent}")
        self.rigid = tuple(rigid[s.name] for s in system.rigid)
        self.index = {s.name: i for i, s in enumerate(system.mutable)}
        self.env = {f"U_{s}": range(n) for s, n in self.sizes.items()}
        self.env.update({f"R{i}": v for i, v in enumerate(self.rigid)})
        self.names = {s.name: f"R{i}" for i, s in enumerate(system.rigid)}
        self._succ: list[tuple[str, Callable]] | None = None
        self._checks: dict[str, Callable] = {}
        bad = [n for n, f in system.axioms.items() if not self.evaluate(f, ())]
        if bad:
            raise UsageError(f"the rigid interpretation breaks axiom(s) {bad}")

    # evaluation

    def compile(self, e: z3.ExprRef, free: Sequence[z3.ExprRef] = (),
                post: bool = False) -> Callable:
        """``f(S, *free values)`` (``f(S, P, ...)`` with ``post``): ``e``'s value on state S
        (and post-state P)."""
        names = dict(self.names)
        names.update({s.name: f"S[{i}]" for i, s in enumerate(self.system.mutable)})
        if post:
            names.update({s.name + "'": f"P[{i}]" for i, s in enumerate(self.system.mutable)})
        fv = {str(c): f"a{i}" for i, c in enumerate(free)}
        src = _Compiler(self.system, names, fv)(e)
        args = ", ".join(["S"] + (["P"] if post else []) + list(fv.values()))
        return eval(f"lambda {args}: {src}", dict(self.env))

    def evaluate(self, e: z3.ExprRef, state: tuple, *values, post: tuple | None = None,
                 free: Sequence[z3.ExprRef] = ()):
        """The value of ``e`` in ``state`` (and ``post``) with ``free`` constants at ``values``."""
        f = self.compile(e, free, post is not None)
        return f(state, post, *values) if post is not None else f(state, *values)

    def holds(self, name: str, state: tuple) -> bool:
        """Whether the invariant called ``name`` holds in ``state``."""
        if name not in self._checks:
            self._checks[name] = self.compile(self.system.invariants[name].formula)
        return bool(self._checks[name](state))

    # successors

    def _compile_transition(self, t: Transition) -> Callable:
        """Python source that enumerates parameter values, evaluates lets and guard conjuncts
        as soon as their parameters are bound, and builds the post-state."""
        sysm = self.system
        names = dict(self.names)
        names.update({s.name: f"s{i}" for i, s in enumerate(sysm.mutable)})
        free = {str(p): f"p{i}" for i, p in enumerate(t.params)}
        free.update({str(c): f"l{i}" for i, (c, _) in enumerate(t.lets)})
        comp = _Compiler(sysm, names, free)
        level = {str(p): i for i, p in enumerate(t.params)}
        for c, d in t.lets:
            level[str(c)] = max([-1] + [level[n] for n in _free_names(d, set(level))])
        conjuncts = list(t.guard.children()) if z3.is_and(t.guard) else [t.guard]
        placed: dict[int, list[str]] = {i: [] for i in range(-1, len(t.params))}
        for i, (c, d) in enumerate(t.lets):
            placed[level[str(c)]].append(f"l{i} = {comp(d)}")
        for g in conjuncts:
            lv = max([-1] + [level[n] for n in _free_names(g, set(level))])
            placed[lv].append(f"if not {comp(g)}: continue" if lv >= 0
                              else f"if not {comp(g)}: return out")
        # within a level, lets come first: conjuncts may use them; a let never needs a guard
        # (every element is a valid index), so computing it early is harmless.
        lines = ["def succ(S):", "    out = []"]
        lines.append("    " + ", ".join(f"s{i}" for i in range(len(sysm.mutable))) +
                     (", = S" if len(sysm.mutable) == 1 else " = S"))
        for stmt in placed[-1]:
            lines.append("    " + stmt)
        indent = "    "
        for i, p in enumerate(t.params):
            lines.append(f"{indent}for p{i} in {comp.universe(p.sort())}:")
            indent += "    "
            lines.extend(indent + stmt for stmt in placed[i])
        ups = {sym.name: (xs, value) for sym, xs, value in t.updates}
        post = []
        for i, sym in enumerate(sysm.mutable):
            if sym.name not in ups:
                post.append(f"s{i}")
                continue
            xs, value = ups[sym.name]
            vfree = dict(free)
            vfree.update({str(x): f"x{j}" for j, x in enumerate(xs)})
            src = _Compiler(sysm, names, vfree)(value)
            for j in reversed(range(len(xs))):
                src = f"tuple({src} for x{j} in {comp.universe(xs[j].sort())})"
            post.append(src)
        lines.append(f"{indent}out.append(({', '.join(post)},))")
        lines.append("    return out")
        scope = dict(self.env)
        exec(compile("\n".join(lines), f"<successors of {t.name}>", "exec"), scope)  # noqa: S102 - source built above from the system's own formulas
        return scope["succ"]

    def successors(self, state: tuple) -> list[tuple[str, tuple]]:
        """``(transition, post-state)`` for every enabled step (a post-state once per parameter
        choice that gives it)."""
        if self._succ is None:
            self._succ = [(t.name, self._compile_transition(t)) for t in self.system.transitions.values()]
        return [(name, p) for name, f in self._succ for p in f(state)]

    def initial_states(self, timeout: float | None = None) -> list[tuple]:
        """Every state satisfying the initial formula, enumerated with Z3 and re-checked."""
        s, elems, ground = self._finite_solver(timeout)
        s.add(ground([self.system.init]))
        found = self._enumerate(s, elems, [s2.decl for s2 in self.system.mutable])
        init = self.compile(self.system.init)
        for st in found:
            if not init(st):
                raise CheckerBug("an initial state from Z3 fails the initial formula concretely")
        return sorted(found)

    def solver_successors(self, state: tuple, transition: str,
                          timeout: float | None = None) -> set[tuple]:
        """The post-states Z3 finds for ``transition`` from ``state`` (the formula's answer)."""
        t = self.system.transitions[transition]
        s, elems, ground = self._finite_solver(timeout)
        self._assert_state(s, elems, state, [sym.decl for sym in self.system.mutable])
        s.add(ground([self.system.transition_body(t)]))
        return self._enumerate(s, elems, [sym.post for sym in self.system.mutable])

    def reachable(self, max_states: int | None = None, timeout: float | None = None) -> Reachable:
        """Breadth-first search over the compiled successors from every initial state."""
        start = time.perf_counter()
        init = self.initial_states()
        seen = set(init)
        frontier = deque((s, 0) for s in init)
        fired = {name: 0 for name in self.system.transitions}
        edges, depth, complete = 0, 0, True
        while frontier:
            if (max_states is not None and len(seen) >= max_states) or (
                    timeout is not None and time.perf_counter() - start > timeout):
                complete = False
                break
            state, d = frontier.popleft()
            depth = max(depth, d)
            for name, nxt in self.successors(state):
                fired[name] += 1
                edges += 1
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append((nxt, d + 1))
        return Reachable(dict(self.sizes), seen, edges, depth, fired,
                         time.perf_counter() - start, complete)

    def recheck(self, t: Transition, hypotheses: Sequence[str], goal: str, pre: tuple,
                post: tuple, params: Sequence, lets: Sequence) -> list[str]:
        """What is wrong with (pre, t(params), post) as a counterexample to induction of ``goal``."""
        problems = []
        broken = [h for h in hypotheses if not self.holds(h, pre)]
        if broken:
            problems.append(f"the pre-state breaks {broken}")
        local = list(t.params) + [c for c, _ in t.lets]
        vals = list(params) + list(lets)
        for i, (c, d) in enumerate(t.lets):
            if self.evaluate(d, pre, *vals, free=local) != lets[i]:
                problems.append(f"let {c} is not its definition")
        if not self.evaluate(t.guard, pre, *vals, free=local):
            problems.append("the guard is false")
        if not self.evaluate(self.system.transition_body(t), pre, *vals, post=post, free=local):
            problems.append("the post-state does not follow the updates")
        if self.holds(goal, post):
            problems.append(f"{goal} holds in the post-state")
        return problems

    # Z3 over the finite universe

    def _finite_solver(self, timeout):
        """A solver over exactly these sizes (distinct named elements), the rigid symbols
        asserted, and the grounder that makes formulas quantifier-free over the elements."""
        s = _solver(timeout, None, 0)
        ground = _Grounder(self.system, self.sizes)
        elems = ground.elems
        for es in elems.values():
            if len(es) > 1:
                s.add(z3.Distinct(es))
        for sym, value in zip(self.system.rigid, self.rigid):
            self._assert_symbol(s, elems, sym.decl, sym, value)
        return s, elems, ground

    def _cells(self, elems, sym: Symbol):
        doms = []
        for a in sym.args:
            if a == z3.BoolSort():
                doms.append([(False, z3.BoolVal(False)), (True, z3.BoolVal(True))])
            elif a.name() in self.system.enums:
                doms.append(list(enumerate(self.system.enums[a.name()])))
            else:
                doms.append(list(enumerate(elems[a.name()])))
        return itertools.product(*doms)

    def _z3_value(self, elems, sort, v):
        if sort == z3.BoolSort():
            return z3.BoolVal(bool(v))
        if sort.name() in self.system.enums:
            return self.system.enums[sort.name()][v]
        return elems[sort.name()][v]

    def _assert_symbol(self, s, elems, decl, sym, value) -> None:
        for combo in self._cells(elems, sym):
            v = value
            for i, _ in combo:
                v = v[i]
            s.add(_apply(decl, [e for _, e in combo]) == self._z3_value(elems, sym.range, v))

    def _assert_state(self, s, elems, state, decls) -> None:
        for sym, decl, value in zip(self.system.mutable, decls, state):
            self._assert_symbol(s, elems, decl, sym, value)

    def _enumerate(self, s, elems, decls) -> set[tuple]:
        out = set()
        while True:
            answer = s.check()
            if answer == z3.unsat:
                return out
            if answer != z3.sat:
                raise UsageError(f"Z3 gave up enumerating a finite instance: {s.reason_unknown()}")
            zm = s.model()
            named = {}
            for es in elems.values():
                named.update({str(zm.eval(e, model_completion=True)): i for i, e in enumerate(es)})
            state, block = [], []
            for sym, decl in zip(self.system.mutable, decls):
                cells = {}
                for combo in self._cells(elems, sym):
                    term = _apply(decl, [e for _, e in combo])
                    v = zm.eval(term, model_completion=True)
                    if sym.range == z3.BoolSort():
                        val = z3.is_true(v)
                    elif sym.range.name() in self.system.enums:
                        val = [str(c) for c in self.system.enums[sym.range.name()]].index(str(v))
                    else:
                        val = named[str(v)]
                    cells[tuple(i for i, _ in combo)] = val
                    block.append(term != self._z3_value(elems, sym.range, val))
                state.append(_nest([self.domain(a) for a in sym.args], cells.__getitem__))
            out.add(tuple(state))
            s.add(z3.Or(block) if block else z3.BoolVal(False))

    # printing helpers (data only)

    def domain(self, sort: z3.SortRef) -> range | tuple:
        """The values of ``sort`` here."""
        if sort == z3.BoolSort():
            return (False, True)
        if sort.name() in self.system.enums:
            return range(len(self.system.enums[sort.name()]))
        return range(self.sizes[sort.name()])

    def element_name(self, sort: z3.SortRef, v) -> str:
        """``thread1``, an enum value's name, or ``true``/``false``."""
        if sort == z3.BoolSort():
            return "true" if v else "false"
        if sort.name() in self.system.enums:
            return str(self.system.enums[sort.name()][v])
        return f"{sort.name()}{v}"

    def facts(self, state: tuple, rigid: bool = False) -> dict[str, list[str]]:
        """Per symbol, the true atoms of a relation or ``f(a) = v`` of a function or constant."""
        out = {}
        syms = self.system.rigid if rigid else self.system.mutable
        values = self.rigid if rigid else state
        for sym, value in zip(syms, values):
            rows = []
            for args in itertools.product(*[self.domain(a) for a in sym.args]):
                v = value
                for a in args:
                    v = v[a]
                shown = ", ".join(self.element_name(s, a) for s, a in zip(sym.args, args))
                call = f"{sym.name}({shown})" if sym.args else sym.name
                if sym.is_relation:
                    if v:
                        rows.append(call)
                else:
                    rows.append(f"{call} = {self.element_name(sym.range, v)}")
            out[sym.name] = rows
        return out


# ---- formatting (strings, never printed here) ---------------------------------------

def format_cti(cti: Cti, show_rigid: bool = True) -> str:
    """The universe, the rigid symbols, the pre-state and the step's changes."""
    inst = cti.instance
    if cti.transition == "init":
        facts = inst.facts(cti.pre)
        return "\n".join([f"an initial state breaks {cti.invariant} ({cti.query})"] + [
            f"  {name}: {', '.join(rows) or '(empty)'}" for name, rows in facts.items()])
    lines = [f"counterexample to induction {cti.query}",
             "universe: " + ", ".join(f"{s} = {{{', '.join(f'{s}{i}' for i in range(n))}}}"
                                      for s, n in inst.sizes.items())]
    if cti.params:
        lines.append(f"step: {cti.transition}(" +
                     ", ".join(f"{k}={v}" for k, v in cti.params.items()) + ")")
    rigid = inst.facts((), rigid=True) if show_rigid else {}
    for name, rows in rigid.items():
        lines.append(f"  {name}: {', '.join(rows) or '(empty)'}")
    lines.append("pre-state:")
    pre, post = inst.facts(cti.pre), inst.facts(cti.post)
    for name in pre:
        lines.append(f"  {name}: {', '.join(pre[name]) or '(empty)'}")
    lines.append(f"post-state (changes; {cti.invariant} is false here):")
    for name in pre:
        gone = [r for r in pre[name] if r not in post[name]]
        new = [r for r in post[name] if r not in pre[name]]
        if gone or new:
            lines.append(f"  {name}: " + ", ".join([f"-{r}" for r in gone] + [f"+{r}" for r in new]))
    return "\n".join(lines)


def format_proof(result: ProofResult, query_times: bool = True) -> str:
    """One line per invariant: kind, verdict, query count, solver time; then the open queries."""
    from tabulate import tabulate

    rows = []
    for r in result.invariants:
        held = sum(q.verdict is Verdict.HOLDS for q in r.queries)
        row = [r.name, r.kind, r.verdict.value, f"{held}/{len(r.queries)}"]
        if query_times:
            row.append(f"{r.seconds:.2f}")
        row.append(r.note)
        rows.append(row)
    head = ["invariant", "kind", "verdict", "queries held"] + (["seconds"] if query_times else []) + ["note"]
    out = [f"proof of system {result.system} for every size: {result.outcome.value}",
           tabulate(rows, head)]
    if not result.stratified:
        out.append("outside EPR: quantifier alternations or functions form cycles over sorts "
                   + "; ".join(" -> ".join(c + c[:1]) for c in result.cycles))
    for cti in result.initial_violations + result.ctis:
        out.append(format_cti(cti))
    return "\n".join(out)
