"""The expression language of traced paths: named node kinds over the slots of a state.

Tracing a model (:mod:`checker.core.paths`) turns its guards, effects and
predicates into expressions over the *pre-state's* slots. Every engine reads
them, and none re-derives what this module says once:

* the node kinds: :class:`Const`, :class:`Slot`, :class:`Unary` (``not``,
  ``~``), :class:`Binary` (arithmetic, bit and comparison operators) and
  :class:`Ite` (if-then-else), immutable and hashable;
* which operators give truth values (:data:`COMPARISONS`, :func:`is_bool`);
* their Python meaning (:data:`PYTHON`) and constant folding (:func:`fold`);
* one interval analysis (:func:`interval`): bounds on the values an
  expression takes over every domain-valid state, which the numpy and Z3
  backends use to pick their integer widths;
* one walk (:func:`emit`): a backend is an :class:`Emitter`, one method per
  node kind, called bottom-up with its children already emitted and each
  shared subexpression emitted once.
"""
from __future__ import annotations

import operator
from operator import itemgetter
from typing import Callable, Generic, Iterator, Sequence, TypeVar

from ..errors import Unsupported

ARITHMETIC = ("+", "-", "*", "&", "|", "^", "<<", ">>")
"""Binary operators on ints."""
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
"""Binary operators giving truth values."""
UNARY = ("not", "~")
"""Logical negation of a truth value; bitwise complement of an int."""

PYTHON: dict[str, Callable] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "&": operator.and_,
    "|": operator.or_, "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift,
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge, "not": operator.not_, "~": operator.invert,
}
"""What each operator means, as Python computes it on ints."""


class Expr(tuple):
    """An expression node: immutable and hashable, equal to another node of the same kind
    and fields. (Nodes are tuples tagged with their kind, so that building, hashing and
    comparing them costs what it costs for tuples.)"""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{render(self)}>"

    @property
    def children(self) -> tuple["Expr", ...]:
        """The operands, in order."""
        return ()


class Const(Expr):
    """An int, or a truth value (``True``/``False``)."""

    __slots__ = ()
    value = property(itemgetter(1))

    def __new__(cls, value: int | bool):
        value = value if isinstance(value, bool) else int(value)
        return tuple.__new__(cls, ("c", value, type(value)))  # 1 and True are not the same


class Slot(Expr):
    """Slot ``index`` of the pre-state."""

    __slots__ = ()
    index = property(itemgetter(1))

    def __new__(cls, index: int):
        return tuple.__new__(cls, ("s", index))


class Unary(Expr):
    """``not arg`` (a truth value) or ``~arg`` (an int)."""

    __slots__ = ()
    op = property(itemgetter(1))
    arg = property(itemgetter(2))

    def __new__(cls, op: str, arg: Expr):
        if op not in _UNARY:
            raise Unsupported(f"no unary operator {op!r}")
        return tuple.__new__(cls, ("u", op, arg))

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self[2],)


class Binary(Expr):
    """``left op right`` for an operator of :data:`ARITHMETIC` or :data:`COMPARISONS`."""

    __slots__ = ()
    op = property(itemgetter(1))
    left = property(itemgetter(2))
    right = property(itemgetter(3))

    def __new__(cls, op: str, left: Expr, right: Expr):
        if op not in _BINARY:
            raise Unsupported(f"no binary operator {op!r}")
        return tuple.__new__(cls, ("b", op, left, right))

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self[2], self[3])


class Ite(Expr):
    """``then if cond else other``."""

    __slots__ = ()
    cond = property(itemgetter(1))
    then = property(itemgetter(2))
    other = property(itemgetter(3))

    def __new__(cls, cond: Expr, then: Expr, other: Expr):
        return tuple.__new__(cls, ("i", cond, then, other))

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self[1], self[2], self[3])


_UNARY, _BINARY = frozenset(UNARY), frozenset(ARITHMETIC + COMPARISONS)


TRUE, FALSE = Const(True), Const(False)


def negate(e: Expr) -> Expr:
    """``not e``: the condition a path records when it takes the other branch."""
    return Unary("not", e)


def is_bool(e: Expr) -> bool:
    """Whether ``e`` denotes a truth value (else an int)."""
    if isinstance(e, Const):
        return isinstance(e.value, bool)
    if isinstance(e, Unary):
        return e.op == "not"
    return isinstance(e, Binary) and e.op in COMPARISONS


def as_int(e: Expr) -> Expr:
    """``e`` as a number: a truth value counts as 0 or 1."""
    return Ite(e, Const(1), Const(0)) if is_bool(e) else e


def fold(e: Expr) -> Expr:
    """``e`` with its top operation computed when every operand is a constant."""
    kids = e.children
    for k in kids:
        if type(k) is not Const:
            return e
    if not kids:
        return e
    if type(e) is Ite:
        return e.then if e.cond.value else e.other
    value = PYTHON[e.op](*(k.value for k in kids))
    return Const(bool(value) if is_bool(e) else int(value))


def walk(e: Expr) -> Iterator[Expr]:
    """Every distinct subexpression of ``e`` (``e`` included), children before parents."""
    seen: set[Expr] = set()
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        node, done = stack.pop()
        if done:
            yield node
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(node.children) if k not in seen)


# ---- one walk, many backends -----------------------------------------------------

T = TypeVar("T")


class Emitter(Generic[T]):
    """A backend: what each node kind becomes, given its children already emitted."""

    def const(self, e: Const) -> T:
        raise NotImplementedError

    def slot(self, e: Slot) -> T:
        raise NotImplementedError

    def unary(self, e: Unary, arg: T) -> T:
        raise NotImplementedError

    def binary(self, e: Binary, left: T, right: T) -> T:
        raise NotImplementedError

    def ite(self, e: Ite, cond: T, then: T, other: T) -> T:
        raise NotImplementedError


def emit(e: Expr, emitter: Emitter[T], memo: dict[Expr, T] | None = None) -> T:
    """``e`` translated by ``emitter``, bottom-up; ``memo`` keeps the translations of
    shared subexpressions (pass the same dict to share them across calls)."""
    memo = {} if memo is None else memo
    hit = memo.get(e)
    if hit is not None:
        return hit
    if isinstance(e, Slot):  # the common leaves, without a walk
        out = memo[e] = emitter.slot(e)
        return out
    if isinstance(e, Const):
        out = memo[e] = emitter.const(e)
        return out
    for node in walk(e):
        if node in memo:
            continue
        kids = [memo[k] for k in node.children]
        if isinstance(node, Const):
            out = emitter.const(node)
        elif isinstance(node, Slot):
            out = emitter.slot(node)
        elif isinstance(node, Unary):
            out = emitter.unary(node, *kids)
        elif isinstance(node, Binary):
            out = emitter.binary(node, *kids)
        else:
            out = emitter.ite(node, *kids)
        memo[node] = out
    return memo[e]


class Infix(Emitter[str]):
    """Source text in a C-like or Python-like syntax: infix operators, parenthesised."""

    NOT = "not "

    def const(self, e: Const) -> str:
        return repr(e.value)

    def unary(self, e: Unary, arg: str) -> str:
        return f"({self.NOT if e.op == 'not' else '~'}{arg})"

    def binary(self, e: Binary, left: str, right: str) -> str:
        return f"({left} {e.op} {right})"


class _Render(Infix):
    def slot(self, e: Slot) -> str:
        return f"s[{e.index}]"

    def ite(self, e: Ite, cond: str, then: str, other: str) -> str:
        return f"({then} if {cond} else {other})"


def render(e: Expr) -> str:
    """A readable infix form of ``e`` (slots as ``s[i]``)."""
    return emit(e, _Render())


# ---- intervals ---------------------------------------------------------------------

def _span(lo: int, hi: int) -> tuple[int, int]:
    """The smallest range of some bit width holding ``lo..hi``: ``0..2**k-1`` when ``lo >= 0``,
    else the two's-complement ``-2**k..2**k-1`` (``k`` value bits and a sign)."""
    bits = max(max(hi, 0).bit_length(), (~lo).bit_length() if lo < 0 else 0)
    return (-(1 << bits), (1 << bits) - 1) if lo < 0 else (0, (1 << bits) - 1)


def binary_interval(op: str, a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Bounds on ``x op y`` for every ``x`` in ``a``, ``y`` in ``b`` (truth values: 0..1).

    Exact for ``+``, ``-``, ``*`` and shifts; for ``&``, ``|`` and ``^``, the
    range of the operands' width: where both are sign-extended from ``k``
    bits, so is the result (and ``&`` with a non-negative operand is at most
    that operand). A negative shift count raises in Python, so shifts are
    bounded over the counts ``>= 0`` only.
    """
    (alo, ahi), (blo, bhi) = a, b
    if op in COMPARISONS:
        return 0, 1
    if op == "+":
        return alo + blo, ahi + bhi
    if op == "-":
        return alo - bhi, ahi - blo
    if op == "*":
        products = [alo * blo, alo * bhi, ahi * blo, ahi * bhi]
        return min(products), max(products)
    if op == "&" and (alo >= 0 or blo >= 0):
        return 0, min(x for x, lo in ((ahi, alo), (bhi, blo)) if lo >= 0)
    if op in ("&", "|", "^"):
        return _span(min(alo, blo), max(ahi, bhi))
    if op == "<<":
        blo, bhi = max(blo, 0), max(bhi, 0)
        ends = [alo << blo, alo << bhi, ahi << blo, ahi << bhi]
        return min(ends), max(ends)
    if op == ">>":
        return min(alo, 0), max(ahi, 0)
    raise Unsupported(f"no interval rule for the operation {op!r}")


class _Intervals(Emitter[tuple[int, int]]):
    def __init__(self, domains: Sequence):
        self.domains = domains

    def const(self, e: Const) -> tuple[int, int]:
        return int(e.value), int(e.value)

    def slot(self, e: Slot) -> tuple[int, int]:
        d = self.domains[e.index]
        return d.lo, d.hi

    def unary(self, e: Unary, arg: tuple[int, int]) -> tuple[int, int]:
        return (0, 1) if e.op == "not" else (-arg[1] - 1, -arg[0] - 1)

    def binary(self, e: Binary, left, right) -> tuple[int, int]:
        return binary_interval(e.op, left, right)

    def ite(self, e: Ite, cond, then, other) -> tuple[int, int]:
        return min(then[0], other[0]), max(then[1], other[1])


def interval(e: Expr, domains: Sequence, memo: dict | None = None) -> tuple[int, int]:
    """Bounds on the values ``e`` takes over every state whose slots lie in ``domains``
    (truth values are 0..1); ``memo`` caches subexpressions across calls."""
    return emit(e, _Intervals(domains), memo)


def signed_bits(lo: int, hi: int) -> int:
    """Width of the smallest signed bit-vector holding every value of ``lo..hi``."""
    return max(max(hi, 0).bit_length(), (~lo).bit_length() if lo < 0 else 0) + 1


def shift_counts(e: Expr) -> list[Expr]:
    """Every expression used as a shift count inside ``e``."""
    return [n.right for n in walk(e) if isinstance(n, Binary) and n.op in ("<<", ">>")]
