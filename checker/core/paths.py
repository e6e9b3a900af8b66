"""Symbolic execution of a model's guards and effects into guarded commands.

The model is written once, as Python functions over a state view. Run on a
view whose slots hold :class:`Sym` expressions instead of ints, every Python
branch on a symbolic truth value (``if``, ``and``, indexing by a state value)
becomes a *decision*: :func:`trace_instance` re-runs the step along every
combination of decisions, depth first, and records each feasible path as a
:class:`Path` (the conditions taken and the resulting value of every slot).
The set of paths of an instance is its transition relation; engines (the Z3
encodings, the compiled successor function) are built from it, never from a
second hand-written description of the protocol.

Expressions are tuples: ``("c", value)`` a constant, ``("s", i)`` slot ``i``
of the pre-state, ``(op, a, b, ...)`` an operation.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field

from .contract import Instance, Model
from ..errors import ModelError, Unsupported

Expr = tuple

BOOL_OPS = {"==", "!=", "<", "<=", ">", ">=", "not", "and", "or"}


def const(v: int) -> Expr:
    """The constant expression ``v``."""
    return ("c", int(v))


def is_bool(e: Expr) -> bool:
    """Whether ``e`` denotes a truth value."""
    return e[0] in BOOL_OPS or (e[0] == "c" and isinstance(e[1], bool))


class _Undecided(Exception):
    """Raised inside a run when the decision budget of a path is exhausted."""


@dataclass
class _Facts:
    """What the current path knows about slot values, to prune infeasible branches."""

    known: dict[int, int] = field(default_factory=dict)
    excluded: dict[int, set[int]] = field(default_factory=dict)


class Tracer:
    """Runs one step function along one path, choosing branches from a decision prefix."""

    def __init__(self, domains, prefix: list[bool]):
        self.domains = domains
        self.prefix = prefix
        self.taken: list[bool] = []
        self.conds: list[Expr] = []
        self.decided: dict[Expr, bool] = {}
        self.facts = _Facts()

    def value_of(self, e: Expr):
        """The constant value of ``e`` under the path's facts, or None."""
        if e[0] == "c":
            return e[1]
        if e[0] == "s":
            return self.facts.known.get(e[1])
        return None

    def _static(self, e: Expr):
        """Decide ``e`` without branching if the path's facts settle it."""
        if e[0] == "c":
            return bool(e[1])
        if e[0] in ("==", "!=") and e[1][0] == "s" and e[2][0] == "c":
            i, c = e[1][1], e[2][1]
            k = self.facts.known.get(i)
            if k is not None:
                eq = k == c
            elif c in self.facts.excluded.get(i, ()) or not (self.domains[i].lo <= c <= self.domains[i].hi):
                eq = False
            else:
                left = [v for v in self.domains[i].values() if v not in self.facts.excluded.get(i, ())]
                if left == [c]:
                    eq = True
                else:
                    return None
            return eq if e[0] == "==" else not eq
        if e[0] == "not":
            inner = self._static(e[1])
            return None if inner is None else not inner
        return None

    def _learn(self, e: Expr, truth: bool) -> None:
        if e[0] == "not":
            return self._learn(e[1], not truth)
        if e[0] in ("==", "!=") and e[1][0] == "s" and e[2][0] == "c":
            i, c = e[1][1], e[2][1]
            if (e[0] == "==") == truth:
                self.facts.known[i] = c
            else:
                self.facts.excluded.setdefault(i, set()).add(c)

    def decide(self, e: Expr) -> bool:
        """The branch this path takes on condition ``e``.

        A condition already decided on this path is answered the same way:
        every expression reads the pre-state, so its value cannot change.
        """
        static = self._static(e)
        if static is not None:
            return static
        if e in self.decided:
            return self.decided[e]
        if e[0] == "not" and e[1] in self.decided:
            return not self.decided[e[1]]
        n = len(self.taken)
        choice = self.prefix[n] if n < len(self.prefix) else True
        self.taken.append(choice)
        self.conds.append(e if choice else ("not", e))
        self.decided[e] = choice
        self._learn(e, choice)
        return choice

    def index(self, e: Expr) -> int:
        """A concrete value for ``e`` used as an index, branching over its domain."""
        v = self.value_of(e)
        if v is not None:
            return v
        if e[0] != "s":
            raise ModelError(f"indexing by the computed value {render(e)}: index by a state "
                             "variable or a parameter so every engine can follow it")
        for candidate in self.domains[e[1]].values():
            if self.decide(("==", e, const(candidate))):
                return candidate
        raise ModelError("internal: no value of the domain was chosen")


class Sym:
    """A symbolic int or truth value; Python operators build expressions."""

    __slots__ = ("e", "t")

    def __init__(self, e: Expr, tracer: Tracer):
        self.e, self.t = e, tracer

    def _wrap(self, e: Expr):
        folded = _fold(e)
        if folded[0] == "c":
            return folded[1]
        return Sym(folded, self.t)

    def _bin(op, swap=False):
        def f(self, other):
            o = _expr(other)
            if o is None:
                return NotImplemented
            a, b = (o, self.e) if swap else (self.e, o)
            return self._wrap((op, _as_int(a), _as_int(b)) if op not in ("==", "!=") else (op, a, b))
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
        return self._wrap(("~", _as_int(self.e)))

    def __neg__(self):
        return self._wrap(("-", const(0), _as_int(self.e)))

    def __bool__(self) -> bool:
        return self.t.decide(self.e if is_bool(self.e) else ("!=", self.e, const(0)))

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


def _expr(x):
    if isinstance(x, Sym):
        return x.e
    if isinstance(x, (bool, int)):
        return const(x)
    return None


def _as_int(e: Expr) -> Expr:
    """Booleans used as numbers count as 0 or 1."""
    return ("ite", e, const(1), const(0)) if is_bool(e) else e


_PY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "&": operator.and_, "|": operator.or_,
       "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift, "==": operator.eq,
       "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _fold(e: Expr) -> Expr:
    """Constant-fold one operation."""
    args = e[1:]
    if all(a[0] == "c" for a in args):
        vals = [a[1] for a in args]
        if e[0] in _PY:
            return const(_PY[e[0]](*vals)) if e[0] not in BOOL_OPS else ("c", bool(_PY[e[0]](*vals)))
        if e[0] == "~":
            return const(~vals[0])
        if e[0] == "ite":
            return args[1] if vals[0] else args[2]
    return e


def render(e: Expr) -> str:
    """A readable infix form of an expression."""
    if e[0] == "c":
        return str(e[1])
    if e[0] == "s":
        return f"s[{e[1]}]"
    if e[0] == "not":
        return f"not ({render(e[1])})"
    if e[0] == "~":
        return f"~({render(e[1])})"
    if e[0] == "ite":
        return f"({render(e[2])} if {render(e[1])} else {render(e[3])})"
    return f"({render(e[1])} {e[0]} {render(e[2])})"


@dataclass(frozen=True)
class Path:
    """One way an instance can fire: conditions on the pre-state and the post-state.

    ``error`` is set instead of ``post`` on a path where the concrete model
    would raise (an array indexed out of range): engines must treat it as
    a contract violation, never as a disabled step.
    """

    conds: tuple[Expr, ...]
    post: tuple[Expr, ...] | None  # one expression per slot
    error: str = ""


class _SymList(list):
    """The slot list of a symbolic writable view (plain list of Sym/int)."""


MAX_PATHS = 4096


def _paths(schema, run, what: str) -> list[tuple[tuple[Expr, ...], object]]:
    """Run ``run(tracer, slots)`` along every decision path: ``[(conds, result)]``.

    A run that indexes an array out of range yields the result
    ``SlotIndexError`` (the exception) for that path.
    """
    domains = schema.slot_domains
    out: list[tuple[tuple[Expr, ...], object]] = []
    prefix: list[bool] = []
    while True:
        tracer = Tracer(domains, prefix)
        slots = [Sym(("s", i), tracer) for i in range(schema.width)]
        try:
            result = run(slots)
        except IndexError as exc:
            result = exc
        out.append((tuple(tracer.conds), result))
        if len(out) > MAX_PATHS:
            raise Unsupported(f"{what} has more than {MAX_PATHS} paths: too many branches "
                              "for the symbolic engines; count with + instead of nested ifs")
        taken = tracer.taken
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
    for conds, result in _paths(model.schema, run, inst.label):
        if isinstance(result, IndexError):
            paths.append(Path(conds, None, f"{inst.label}: {result}"))
        elif result is not None:
            paths.append(Path(conds, result))
    return paths


def predicate_paths(model: Model, predicate, what: str = "predicate",
                    args: tuple = ()) -> list[tuple[tuple[Expr, ...], bool]]:
    """Every path through ``predicate(view, *args)`` with the truth value it returns.

    Raises ModelError if some path indexes an array out of range.
    """
    view_cls = _unchecked_view(model.schema)
    out = []
    for conds, result in _paths(model.schema,
                                lambda slots: bool(predicate(view_cls(tuple(slots)), *args)), what):
        if isinstance(result, IndexError):
            raise ModelError(f"{what}: {result}")
        out.append((conds, result))
    return out


def trace_predicate(model: Model, predicate, what: str = "predicate") -> list[tuple[Expr, ...]]:
    """The paths (lists of conditions) on which ``predicate(view)`` is true.

    Their disjunction is the predicate as a formula over the state slots.
    """
    return [conds for conds, truth in predicate_paths(model, predicate, what) if truth]


_VIEWS: dict[int, type] = {}


def _unchecked_view(schema) -> type:
    """A view class that stores symbolic values without the concrete domain check."""
    cls = _VIEWS.get(id(schema))
    if cls is None:
        base = schema.view

        def store(self, i, value):
            if isinstance(self._v, tuple):
                raise ModelError(f"assignment to {schema.slot_names[i]} outside an effect")
            self._v[i] = value
        cls = type("SymView", (base,), {"_store": store, "__slots__": ()})
        _VIEWS[id(schema)] = cls
    return cls
