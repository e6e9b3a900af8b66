"""Expressions as numpy code over whole columns: the numpy backend of the expression language.

:class:`ExprCompiler` turns an expression of :mod:`checker.core.expr` into a
function of a column getter ``g`` (``g(slot)`` is that slot of every state
of a batch) returning one value per state. Every integer operation runs in a
dtype wide enough for its operands and its result (the interval analysis of
:mod:`checker.core.expr` over the slot domains), so numpy never wraps where
Python would not.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..core.expr import (COMPARISONS, Binary, Const, Emitter, Expr, Ite, Slot, Unary,
                         binary_interval, emit)
from ..errors import ModelError
from .pack import Layout, int_dtype


class Code:
    """Python source of an expression over columns ``g(slot)``, with its value range."""

    __slots__ = ("src", "lo", "hi", "bool", "const")

    def __init__(self, src: str, lo: int, hi: int, is_bool: bool = False, const: bool = False):
        self.src, self.lo, self.hi, self.bool, self.const = src, lo, hi, is_bool, const

    @property
    def dtype(self) -> np.dtype:
        return int_dtype(self.lo, self.hi)


class ExprCompiler(Emitter[Code]):
    """Expressions as functions of a column getter, in dtypes that never wrap."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self._codes: dict[Expr, Code] = {}
        self._fns: dict[Expr, Callable] = {}

    def fn(self, e: Expr) -> Callable:
        """``f(g) -> array`` for expression ``e``."""
        f = self._fns.get(e)
        if f is None:
            code = self.code(e)
            src = code.src if not code.const else f"np.full(g.n, {code.src})"
            f = eval(f"lambda g: {src}", {"np": np, "shift": _shift})  # noqa: S307 (generated from the model's paths)
            self._fns[e] = f
        return f

    def range(self, e: Expr) -> tuple[int, int]:
        """The interval of values ``e`` can take (booleans: 0..1)."""
        c = self.code(e)
        return c.lo, c.hi

    def code(self, e: Expr) -> Code:
        """The source and range of ``e``."""
        return emit(e, self, self._codes)

    def _int(self, c: Code, dt: np.dtype) -> str:
        """Source for ``c`` as an int array of dtype ``dt`` (or a literal)."""
        if c.const:
            return c.src if not c.bool else str(int(c.src == "True"))
        if c.bool or c.dtype != dt:
            return f"{c.src}.astype(np.{dt.name})"
        return c.src

    def _bool(self, c: Code) -> Code:
        if c.bool:
            return c
        return Code(f"({self._int(c, c.dtype)} != 0)", 0, 1, True, c.const)

    # the emitter

    def const(self, e: Const) -> Code:
        if isinstance(e.value, bool):
            return Code(repr(e.value), int(e.value), int(e.value), True, True)
        return Code(str(e.value), e.value, e.value, False, True)

    def slot(self, e: Slot) -> Code:
        f = self.layout.fields[e.index]
        return Code(f"g({e.index})", f.lo, f.hi)

    def unary(self, e: Unary, a: Code) -> Code:
        if e.op == "~":
            return Code(f"(~{self._int(a, a.dtype)})", -a.hi - 1, -a.lo - 1)
        if a.const:
            truth = a.src == "True" if a.bool else int(a.src) != 0
            return Code(repr(not truth), int(not truth), int(not truth), True, True)
        return Code(f"(~{self._bool(a).src})", 0, 1, True)

    def binary(self, e: Binary, a: Code, b: Code) -> Code:
        op = e.op
        if op in COMPARISONS:
            if a.bool and b.bool:
                return Code(f"({a.src} {op} {b.src})", 0, 1, True)
            dt = int_dtype(min(a.lo, b.lo), max(a.hi, b.hi))
            return Code(f"({self._int(a, dt)} {op} {self._int(b, dt)})", 0, 1, True)
        lo, hi = binary_interval(op, (a.lo, a.hi), (b.lo, b.hi))
        dt = int_dtype(min(lo, a.lo, b.lo), max(hi, a.hi, b.hi))
        if op in ("<<", ">>") and b.lo < 0:
            return Code(f"shift({self._int(a, dt)}, {op!r}, {self._int(b, dt)})", lo, hi)
        return Code(f"({self._int(a, dt)} {op} {self._int(b, dt)})", lo, hi)

    def ite(self, e: Ite, c: Code, a: Code, b: Code) -> Code:
        c = self._bool(c)
        if a.bool and b.bool:
            return Code(f"np.where({c.src}, {a.src}, {b.src})", 0, 1, True)
        lo, hi = min(a.lo, b.lo), max(a.hi, b.hi)
        dt = int_dtype(lo, hi)
        if a.const and b.const and (a.lo, b.lo) == (1, 0):
            return Code(f"{c.src}.astype(np.{dt.name})", 0, 1)
        if a.const and b.const and (a.lo, b.lo) == (0, 1):
            return Code(f"(~{c.src}).astype(np.{dt.name})", 0, 1)
        sa = f"np.{dt.name}({a.lo})" if a.const else self._int(a, dt)
        sb = f"np.{dt.name}({b.lo})" if b.const else self._int(b, dt)
        return Code(f"np.where({c.src}, {sa}, {sb})", lo, hi)


def _shift(a, op: str, b):
    """``a << b`` or ``a >> b`` where ``b`` might be negative: Python raises there, so do we."""
    if np.any(np.asarray(b) < 0):
        raise ModelError(f"a shift by a negative amount ({op}): the interpreted model raises "
                         "ValueError here; guard the step so it never shifts by none")
    return a << b if op == "<<" else a >> b
