"""A chunk of a frontier as numpy columns, and decision trees walked over it as bit masks.

A subset of a chunk is a bit mask (``uint64`` words, bit ``i`` of word ``w``
for state ``64 w + i``): walking a decision tree (:mod:`checker.core.decisions`)
then costs one ``&`` per test, whatever the subset's size, and every distinct
test is evaluated once per chunk however many trees share it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..core.decisions import Leaf, Node
from ..core.expr import Expr, negate
from .numpy_expr import ExprCompiler
from .pack import Layout


class Chunk:
    """Consecutive states of a level: packed keys, columns and tests evaluated on demand."""

    def __init__(self, layout: Layout, keys: np.ndarray, xc: ExprCompiler):
        self.layout, self.keys, self.n, self.xc = layout, keys, len(keys), xc
        self.nwords = (self.n + 63) // 64
        self._cols: dict[int, np.ndarray] = {}
        self._tests: dict[Expr, np.ndarray] = {}
        self.all = self.bits(np.ones(self.n, bool))

    def __call__(self, slot: int) -> np.ndarray:
        """Column ``slot`` of every state of the chunk."""
        col = self._cols.get(slot)
        if col is None:
            col = self._cols[slot] = self.layout.column(self.keys, slot)
        return col

    def bits(self, mask: np.ndarray) -> np.ndarray:
        """A boolean array over the chunk as a bit mask."""
        packed = np.packbits(mask, bitorder="little")
        out = np.zeros(self.nwords * 8, np.uint8)
        out[:len(packed)] = packed
        return out.view(np.uint64)

    def test(self, e: Expr) -> np.ndarray:
        """The bit mask of the states where condition ``e`` holds."""
        m = self._tests.get(e)
        if m is None:
            m = self._tests[e] = self.bits(self.xc.fn(e)(self))
        return m

    @staticmethod
    def positions(mask: np.ndarray) -> np.ndarray:
        """The states of a bit mask, in increasing order."""
        w = np.flatnonzero(mask)
        i = np.flatnonzero(np.unpackbits(mask[w].view(np.uint8), bitorder="little"))
        return w[i >> 6] * 64 + (i & 63)


class Rows:
    """Some states of a chunk, for evaluating expressions at a leaf: columns gathered lazily."""

    __slots__ = ("chunk", "idx", "n", "_cols")

    def __init__(self, chunk: Chunk, idx: np.ndarray):
        self.chunk, self.idx, self.n = chunk, idx, len(idx)
        self._cols: dict[int, np.ndarray] = {}

    def __call__(self, slot: int) -> np.ndarray:
        col = self._cols.get(slot)
        if col is None:
            col = self._cols[slot] = self.chunk(slot)[self.idx]
        return col


def walk(node: Node | None, chunk: Chunk, mask: np.ndarray, visit: Callable) -> None:
    """Split the bit mask ``mask`` down a decision tree; ``visit(leaf value, mask)`` at each
    leaf reached. Where a decision has both sides, the second is the rest of the first's
    parent, so each test costs one ``&``."""
    if node is None:
        return
    if isinstance(node, Leaf):
        visit(node.value, mask)
        return
    if node.yes is None:
        m = mask & chunk.test(negate(node.cond))
        if m.any():
            walk(node.no, chunk, m, visit)
        return
    m = mask & chunk.test(node.cond)
    if node.no is None:
        if m.any():
            walk(node.yes, chunk, m, visit)
        return
    if m.any():
        walk(node.yes, chunk, m, visit)
        m ^= mask  # the rest of the parent: where the condition does not hold
        if m.any():
            walk(node.no, chunk, m, visit)
    else:
        walk(node.no, chunk, mask, visit)
