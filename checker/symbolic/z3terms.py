"""Expressions and decision trees as Z3 terms: the Z3 backend of the expression language.

:class:`Z3Terms` emits the expressions of :mod:`checker.core.expr` as
signed bit-vector terms of one width over one vocabulary (one ``BitVec``
per slot): comparisons are signed and ``>>`` is arithmetic, as in Python.
:func:`tree_formula` turns a decision tree into the disjunction of its
paths. :func:`solver` makes every solver the engines use.
"""
from __future__ import annotations

from typing import Callable

import z3

from ..core.decisions import Leaf, Node, fold_tree
from ..core.expr import Binary, Const, Emitter, Expr, Ite, Slot, Unary, emit, negate

Vocab = tuple  # one z3 BitVec per slot


def _junction(make, args: list[z3.BoolRef]) -> z3.BoolRef:
    """``And``/``Or`` of Boolean terms of one context, without z3py's per-argument coercion."""
    if len(args) == 1:
        return args[0]
    ctx = args[0].ctx
    arr = (z3.Ast * len(args))(*(a.as_ast() for a in args))
    return z3.BoolRef(make(ctx.ref(), len(args), arr), ctx)


def conj(args: list[z3.BoolRef]) -> z3.BoolRef:
    """The conjunction of a non-empty list of Boolean terms."""
    return _junction(z3.Z3_mk_and, args)


def disj(args: list[z3.BoolRef]) -> z3.BoolRef:
    """The disjunction of a non-empty list of Boolean terms."""
    return _junction(z3.Z3_mk_or, args)


_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
          "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,  # arithmetic, as Python's
          "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,  # signed in z3py
          ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


class Z3Terms(Emitter):
    """Expressions over slots as Z3 terms over one vocabulary (memoised)."""

    def __init__(self, v: Vocab, width: int):
        self.v, self.width, self.memo = v, width, {}
        self.ctx = v[0].ctx
        self.true, self.false = z3.BoolVal(True, self.ctx), z3.BoolVal(False, self.ctx)
        self.one, self.zero = z3.BitVecVal(1, width, self.ctx), z3.BitVecVal(0, width, self.ctx)

    # terms of expressions

    def term(self, e: Expr):
        """The Z3 term of ``e``: Boolean for truth values, a bit-vector otherwise."""
        return emit(e, self, self.memo)

    def bv(self, e: Expr) -> z3.BitVecRef:
        """``e`` as a bit-vector (a truth value counts as 0 or 1)."""
        return self._bv(self.term(e))

    def bool(self, e: Expr) -> z3.BoolRef:
        """``e`` as a truth value (a number is true when not 0)."""
        return self._bool(self.term(e))

    def _bv(self, t):
        return z3.If(t, self.one, self.zero) if z3.is_bool(t) else t

    def _bool(self, t):
        return t if z3.is_bool(t) else t != 0

    # the emitter

    def const(self, e: Const):
        if isinstance(e.value, bool):
            return z3.BoolVal(e.value, self.ctx)
        return z3.BitVecVal(e.value, self.width, self.ctx)

    def slot(self, e: Slot):
        return self.v[e.index]

    def unary(self, e: Unary, arg):
        return z3.Not(self._bool(arg)) if e.op == "not" else ~self._bv(arg)

    def binary(self, e: Binary, a, b):
        if e.op in ("==", "!="):
            if z3.is_bool(a) != z3.is_bool(b):
                a, b = self._bv(a), self._bv(b)
            return (a == b) if e.op == "==" else (a != b)
        return _ARITH[e.op](self._bv(a), self._bv(b))

    def ite(self, e: Ite, cond, a, b):
        if z3.is_bool(a) != z3.is_bool(b):
            a, b = self._bv(a), self._bv(b)
        return z3.If(self._bool(cond), a, b)

    # decision trees

    def formula(self, node: Node | None, leaf: Callable[[object], z3.BoolRef | None]) -> z3.BoolRef:
        """The disjunction of the tree's paths whose ``leaf(value)`` is not None, each path
        its conditions and that leaf formula (false when there is none)."""
        found = tree_formula(node, leaf, self.bool)
        return self.false if found is None else found


def tree_formula(node: Node | None, leaf: Callable[[object], z3.BoolRef | None],
                 cond: Callable[[Expr], z3.BoolRef]) -> z3.BoolRef | None:
    """``OR`` over the paths of a decision tree of ``AND(conditions, leaf(value))``; paths
    whose leaf is None are left out; None when none is left."""
    def branch(c: Expr, yes, no):
        parts = [conj([cond(c), yes])] if yes is not None else []
        if no is not None:
            parts.append(conj([cond(negate(c)), no]))
        return disj(parts) if parts else None
    if isinstance(node, Leaf):
        return leaf(node.value)
    return fold_tree(node, leaf, branch)


def solver(timeout: float | None = None, logic: str | None = None,
           ctx: z3.Context | None = None) -> z3.Solver:
    """A fresh solver with a fixed random seed (repeatable results) and an optional timeout in seconds.

    ``logic="QF_BV"`` picks Z3's bit-blasting solver, faster on deep unrollings.
    """
    s = z3.SolverFor(logic, ctx=ctx) if logic else z3.Solver(ctx=ctx)
    s.set("random_seed", 0)
    s.set("smt.random_seed", 0)
    if timeout is not None:
        s.set("timeout", max(1, int(timeout * 1000)))
    return s
