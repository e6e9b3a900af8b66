"""Symbolic execution of a model's guards, effects and predicates into paths.

The model is written once, as Python functions over a state view. Run on a
view whose slots hold :class:`Sym` values instead of ints, every Python
branch on a symbolic truth value (``if``, ``and``, indexing by a state value)
becomes a *decision*: :func:`trace_instance` re-runs the step along every
combination of decisions, depth first (the true branch first), and records
each feasible path as a :class:`Path`: the decisions taken and the resulting
value of every slot, as expressions of :mod:`checker.core.expr` over the
pre-state. The paths of an instance are its transition relation; every
engine is built from them (through :func:`checker.core.decisions.tree`),
never from a second hand-written description of the protocol.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from ..errors import ModelError, Unsupported
from .contract import Instance, Model
from .expr import Binary, Const, Expr, Slot, Unary, as_int, fold, is_bool, negate, render

Decision = tuple[Expr, bool]
"""A branch taken: the condition decided, and whether it was taken as true."""


def conditions(decisions: tuple[Decision, ...]) -> tuple[Expr, ...]:
    """The decisions as conditions that hold on the path (``not c`` for a false one)."""
    return tuple(c if taken else negate(c) for c, taken in decisions)


@dataclass(frozen=True)
class Path:
    """One way an instance can fire: the decisions on the pre-state and the post-state.

    ``error`` is set instead of ``post`` on a path where the concrete model
    would raise (an array indexed out of range): engines must treat it as
    a contract violation, never as a disabled step.
    """

    decisions: tuple[Decision, ...]
    post: tuple[Expr, ...] | None  # one expression per slot
    error: str = ""

    @property
    def conds(self) -> tuple[Expr, ...]:
        """The conditions that hold on this path."""
        return conditions(self.decisions)


@dataclass
class _Facts:
    """What the current path knows about slot values, to prune infeasible branches."""

    known: dict[int, int] = field(default_factory=dict)
    excluded: dict[int, set[int]] = field(default_factory=dict)


def _slot_test(e: Expr) -> tuple[int, int] | None:
    """``(slot, constant)`` when ``e`` is ``s[i] == c`` or ``s[i] != c``."""
    if type(e) is Binary and type(e.left) is Slot and type(e.right) is Const and e.op in ("==", "!="):
        return e.left.index, e.right.value
    return None


class Tracer:
    """Runs one step function along one path, choosing branches from a decision prefix."""

    def __init__(self, domains, prefix: list[bool]):
        self.domains = domains
        self.prefix = prefix
        self.decisions: list[Decision] = []
        self.decided: dict[Expr, bool] = {}
        self.facts = _Facts()

    def value_of(self, e: Expr):
        """The constant value of ``e`` under the path's facts, or None."""
        if isinstance(e, Const):
            return e.value
        if isinstance(e, Slot):
            return self.facts.known.get(e.index)
        return None

    def _static(self, e: Expr):
        """Decide ``e`` without branching if the path's facts settle it."""
        if isinstance(e, Const):
            return bool(e.value)
        test = _slot_test(e)
        if test is not None:
            i, c = test
            k = self.facts.known.get(i)
            dom = self.domains[i]
            if k is not None:
                eq = k == c
            elif c in self.facts.excluded.get(i, ()) or not dom.lo <= c <= dom.hi:
                eq = False
            elif [v for v in dom.values() if v not in self.facts.excluded.get(i, ())] == [c]:
                eq = True
            else:
                return None
            return eq if e.op == "==" else not eq
        if isinstance(e, Unary) and e.op == "not":
            inner = self._static(e.arg)
            return None if inner is None else not inner
        return None

    def _learn(self, e: Expr, truth: bool) -> None:
        if isinstance(e, Unary) and e.op == "not":
            return self._learn(e.arg, not truth)
        test = _slot_test(e)
        if test is not None:
            i, c = test
            if (e.op == "==") == truth:
                self.facts.known[i] = c
            else:
                self.facts.excluded.setdefault(i, set()).add(c)

    def decide(self, e: Expr) -> bool:
        """The branch this path takes on condition ``e``.

        A condition already decided on this path (or its negation) is
        answered the same way: every expression reads the pre-state, so its
        value cannot change.
        """
        static = self._static(e)
        if static is not None:
            return static
        known = self.decided.get(e)
        if known is not None:
            return known
        negated = isinstance(e, Unary) and e.op == "not"
        if negated and e.arg in self.decided:
            return not self.decided[e.arg]
        n = len(self.decisions)
        choice = self.prefix[n] if n < len(self.prefix) else True
        self.decisions.append((e, choice))
        self.decided[e] = choice
        if negated:  # deciding ``not x`` decides ``x`` too
            self.decided[e.arg] = not choice
        self._learn(e, choice)
        return choice

    def index(self, e: Expr) -> int:
        """A concrete value for ``e`` used as an index, branching over its domain."""
        v = self.value_of(e)
        if v is not None:
            return v
        if not isinstance(e, Slot):
            raise ModelError(f"indexing by the computed value {render(e)}: index by a state "
                             "variable or a parameter so every engine can follow it")
        for candidate in self.domains[e.index].values():
            if self.decide(Binary("==", e, Const(candidate))):
                return candidate
        raise ModelError("internal: no value of the domain was chosen")


class Sym:
    """A symbolic int or truth value; Python operators build expressions."""

    __slots__ = ("e", "t")

    def __init__(self, e: Expr, tracer: Tracer):
        self.e, self.t = e, tracer

    def _wrap(self, e: Expr):
        folded = fold(e)
        if isinstance(folded, Const):
            return folded.value
        return Sym(folded, self.t)

    def _bin(op, swap=False):
        def f(self, other):
            o = _expr(other)
            if o is None:
                return NotImplemented
            a, b = (o, self.e) if swap else (self.e, o)
            return self._wrap(Binary(op, as_int(a), as_int(b)) if op not in ("==", "!=")
                              else Binary(op, a, b))
        return f

    __add__, __radd__ = _bin("+"), _bin("+", True)
    __mul__, __rmul__ = _bin("*"), _bin("*", True)
    __sub__, __rsub__ = _bin("-"), _bin("-", True)
    __and__, __rand__ = _bin("&"), _bin("&", True)
    __or__, __ror__ = _bin("|"), _bin("|", True)
    __xor__, __rxor__ = _bin("^"), _bin("^", True)
    __lshift__, __rlshift__ = _bin("<<"), _bin("<<", True)
    __rshift__, __rrshift__ = _bin(">>"), _bin(">>", True)
    __eq__, __ne__ = _bin("=="), _bin("!=")
    __lt__, __le__, __gt__, __ge__ = _bin("<"), _bin("<="), _bin(">"), _bin(">=")
    del _bin

    def __invert__(self):
        return self._wrap(Unary("~", as_int(self.e)))

    def __neg__(self):
        return self._wrap(Binary("-", Const(0), as_int(self.e)))

    def __bool__(self) -> bool:
        return self.t.decide(self.e if is_bool(self.e) else Binary("!=", self.e, Const(0)))

    def __index__(self) -> int:
        return self.t.index(self.e)

    def _unsupported(what):
        def f(self, *other):
            raise Unsupported(f"{what} on a state value ({render(self.e)}): the symbolic engines "
                              "follow + - * comparisons and bit operations only; rewrite it with "
                              "those, or explore with engine='interpreted'")
        return f

    __mod__ = __rmod__ = _unsupported("%")
    __floordiv__ = __rfloordiv__ = __truediv__ = __rtruediv__ = _unsupported("division")
    __pow__ = __rpow__ = _unsupported("**")
    __abs__ = _unsupported("abs()")
    __hash__ = _unsupported("a set or dict lookup (hashing)")
    __int__ = _unsupported("int()")
    __float__ = _unsupported("float()")
    del _unsupported

    def __repr__(self) -> str:
        return f"Sym({render(self.e)})"


def _expr(x) -> Expr | None:
    if isinstance(x, Sym):
        return x.e
    if isinstance(x, (bool, int)):
        return Const(int(x))  # a truth value stored or compared counts as 0 or 1
    return None


MAX_PATHS = 4096


def _paths(schema, run, what: str) -> list[tuple[tuple[Decision, ...], object]]:
    """Run ``run(slots)`` along every decision path: ``[(decisions, result)]``.

    A run that indexes an array out of range yields the result
    ``SlotIndexError`` (the exception) for that path.
    """
    domains = schema.slot_domains
    out: list[tuple[tuple[Decision, ...], object]] = []
    prefix: list[bool] = []
    pre = [Slot(i) for i in range(schema.width)]
    while True:
        tracer = Tracer(domains, prefix)
        slots = [Sym(e, tracer) for e in pre]
        try:
            result = run(slots)
        except IndexError as exc:
            result = exc
        out.append((tuple(tracer.decisions), result))
        if len(out) > MAX_PATHS:
            raise Unsupported(f"{what} has more than {MAX_PATHS} paths: too many branches "
                              "for the symbolic engines; count with + instead of nested ifs")
        taken = [choice for _, choice in tracer.decisions]
        while taken and not taken[-1]:
            taken.pop()
        if not taken:
            return out
        prefix = taken[:-1] + [False]


def trace_instance(model: Model, inst: Instance) -> list[Path]:
    """Every feasible path through ``inst``'s guard (true) and effect."""
    view_cls = _unchecked_view(model.schema)

    def run(slots):
        if not inst.action.guard(view_cls(tuple(slots)), *inst.args):
            return None
        writer = view_cls(list(slots))
        if inst.action.effect(writer, *inst.args) is not None:
            raise ModelError(f"effect of {inst.action.name} returned a value")
        post = tuple(_expr(v) for v in writer._v)
        if any(p is None for p in post):
            raise ModelError(f"effect of {inst.label} stored a value that is not an int")
        return post

    paths = []
    for decisions, result in _paths(model.schema, run, inst.label):
        if isinstance(result, IndexError):
            paths.append(Path(decisions, None, f"{inst.label}: {result}"))
        elif result is not None:
            paths.append(Path(decisions, result))
    return paths


def predicate_paths(model: Model, predicate, what: str = "predicate",
                    args: tuple = ()) -> list[tuple[tuple[Decision, ...], bool]]:
    """Every path through ``predicate(view, *args)`` with the truth value it returns.

    Raises ModelError if some path indexes an array out of range.
    """
    view_cls = _unchecked_view(model.schema)
    out = []
    for decisions, result in _paths(model.schema,
                                    lambda slots: bool(predicate(view_cls(tuple(slots)), *args)),
                                    what):
        if isinstance(result, IndexError):
            raise ModelError(f"{what}: {result}")
        out.append((decisions, result))
    return out


_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _unchecked_view(schema) -> type:
    """A view class that stores symbolic values without the concrete domain check."""
    cls = _VIEWS.get(schema)
    if cls is None:
        base = schema.view

        def store(self, i, value):
            if isinstance(self._v, tuple):
                raise ModelError(f"assignment to {schema.slot_names[i]} outside an effect")
            self._v[i] = value
        cls = type("SymView", (base,), {"_store": store, "__slots__": ()})
        _VIEWS[schema] = cls
    return cls
