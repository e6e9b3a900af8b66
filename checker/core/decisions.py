"""The traced paths of an instance or a predicate as one binary decision tree.

The tracer explores a step depth first, so its paths share their prefixes:
at every point the next decision is the same condition whichever path goes
through it. :func:`tree` rebuilds that tree: a :class:`Branch` per decision
(a subtree where the condition holds, one where it does not; either may be
missing when every path on that side was dropped, such as a guard that is
false there) and a :class:`Leaf` per path, holding its value (the
:class:`~checker.core.paths.Path`, or a predicate's truth). Every backend
walks this one tree: the compiled successor function nests ``if``/``else``,
the numpy engine splits bit masks, the Z3 encodings build formulas and
if-then-else terms, the Promela writer conditional expressions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, TypeVar

from ..errors import CheckerBug
from .expr import Expr
from .paths import Decision, Path

V = TypeVar("V")


@dataclass(frozen=True)
class Leaf:
    """Where one path ends: its value."""

    value: object


@dataclass(frozen=True)
class Branch:
    """A decision: ``yes`` where ``cond`` holds, ``no`` where it does not (None: no path)."""

    cond: Expr
    yes: "Leaf | Branch | None"
    no: "Leaf | Branch | None"


Node = Leaf | Branch


def tree(paths: Iterable[tuple[tuple[Decision, ...], object]]) -> Node | None:
    """The decision tree of ``(decisions, value)`` paths; None when there are none.

    Raises CheckerBug where the paths do not form a tree: two paths that end
    at the same point, a path that ends where another goes on, or two paths
    that decide different conditions at the same point.
    """
    return _build([(tuple(d), v) for d, v in paths], 0)


def instance_tree(paths: Iterable[Path], keep: Callable[[Path], bool] = lambda p: True) -> Node | None:
    """The tree of an instance's paths (those ``keep`` accepts), each leaf holding its Path."""
    return tree((p.decisions, p) for p in paths if keep(p))


def _build(paths: list[tuple[tuple[Decision, ...], object]], depth: int) -> Node | None:
    if not paths:
        return None
    ended = [v for d, v in paths if len(d) == depth]
    if ended:
        if len(paths) > 1:
            raise CheckerBug("two traced paths end at the same point, or one ends where another "
                             "goes on")
        return Leaf(ended[0])
    cond = paths[0][0][depth][0]
    if any(d[depth][0] != cond for d, _ in paths):
        raise CheckerBug("two traced paths decide different conditions at the same point")
    yes = _build([p for p in paths if p[0][depth][1]], depth + 1)
    no = _build([p for p in paths if not p[0][depth][1]], depth + 1)
    return Branch(cond, yes, no)


def leaves(node: Node | None) -> Iterator[object]:
    """Every leaf value, in the tracer's order (the true side first)."""
    if node is None:
        return
    if isinstance(node, Leaf):
        yield node.value
        return
    yield from leaves(node.yes)
    yield from leaves(node.no)


def fold_tree(node: Node | None, leaf: Callable[[object], V | None],
              branch: Callable[[Expr, V | None, V | None], V | None]) -> V | None:
    """Reduce a tree bottom-up: ``leaf(value)`` at leaves, ``branch(cond, yes, no)`` at
    decisions (a missing side is None)."""
    if node is None:
        return None
    if isinstance(node, Leaf):
        return leaf(node.value)
    return branch(node.cond, fold_tree(node.yes, leaf, branch), fold_tree(node.no, leaf, branch))


def map_leaves(node: Node | None, f: Callable[[object], object]) -> Node | None:
    """The same tree with every leaf value ``v`` replaced by ``f(v)``."""
    return fold_tree(node, lambda v: Leaf(f(v)), lambda c, yes, no: Branch(c, yes, no))
