"""The relational language: sorts, symbols, axioms, initial states, transitions, invariants.

A :class:`System` is a first-order transition system over uninterpreted sorts,
as mypyvy and Ivy write them. Mutable symbols have a pre and a post copy
(``loc`` and ``loc'``); formulas are written once over the pre copies and
primed by substitution (:meth:`System.prime`), never by hand. Every formula
is checked when it is added: only declared symbols, parameters and the
Boolean operators the engine evaluates.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import z3

from ...errors import UsageError

Update = Callable[..., z3.ExprRef] | z3.ExprRef

_ENUMS: dict[str, tuple[z3.DatatypeSortRef, tuple[z3.ExprRef, ...]]] = {}
"""Enumerated sorts by name: Z3 refuses to declare one twice in a context."""


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

    def values(self, sort: z3.SortRef, elements: Mapping[str, Sequence[z3.ExprRef]]) -> list[z3.ExprRef]:
        """The values of ``sort`` in a finite structure: the truth values, an enum's values, or
        ``elements[sort name]`` for an uninterpreted sort."""
        if sort == z3.BoolSort():
            return [z3.BoolVal(False), z3.BoolVal(True)]
        if sort.name() in self.enums:
            return list(self.enums[sort.name()])
        return list(elements[sort.name()])

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
            parts.append(_forall(xs, applied(sym.post, xs) == value))
        for sym in self.mutable:
            if sym.name not in changed:
                xs = tuple(z3.Const(f"{sym.name}#{i}", s) for i, s in enumerate(sym.args))
                parts.append(_forall(xs, applied(sym.post, xs) == applied(sym.decl, xs)))
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
        for app in applications(e):
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


def applied(decl: z3.FuncDeclRef, xs: Sequence[z3.ExprRef]) -> z3.ExprRef:
    """``decl`` applied to ``xs`` (a constant when there are none)."""
    return decl(*xs) if xs else decl()


def _forall(xs: Sequence[z3.ExprRef], body: z3.BoolRef) -> z3.BoolRef:
    return z3.ForAll(list(xs), body) if xs else body


def applications(e: z3.ExprRef):
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

