"""The expression language: node kinds, folding, the one interval analysis, the one walk,
and the decision trees every backend reads."""
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ksecheck.checker import Domain
from ksecheck.checker.core.decisions import Branch, Leaf, leaves, map_leaves, tree
from ksecheck.checker.core.expr import (ARITHMETIC, COMPARISONS, PYTHON, Binary, Const, Emitter,
                                        Ite, Slot, Unary, binary_interval, emit, fold, interval,
                                        is_bool, negate, render, signed_bits)
from ksecheck.checker.errors import CheckerBug, Unsupported

X, Y = Slot(0), Slot(1)


def evaluate(e, state):
    """What Python computes for ``e`` on ``state`` (the reference meaning)."""
    if isinstance(e, Const):
        return e.value
    if isinstance(e, Slot):
        return state[e.index]
    if isinstance(e, Ite):
        return evaluate(e.then, state) if evaluate(e.cond, state) else evaluate(e.other, state)
    return PYTHON[e.op](*(evaluate(k, state) for k in e.children))


def test_nodes_are_values():
    assert Binary("+", X, Const(1)) == Binary("+", Slot(0), Const(1))
    assert hash(Binary("+", X, Const(1))) == hash(Binary("+", Slot(0), Const(1)))
    assert Const(1) != Const(True) and Slot(1) != Const(1)  # kinds and types are part of the value
    with pytest.raises(AttributeError):
        X.index = 3
    with pytest.raises(Unsupported):
        Binary("%", X, Y)


def test_truth_values_and_folding():
    assert is_bool(Binary("<", X, Y)) and is_bool(negate(X == Y)) and is_bool(Const(False))
    assert not is_bool(Binary("+", X, Y)) and not is_bool(Ite(Binary("<", X, Y), Const(1), Const(0)))
    assert fold(Binary("<<", Const(1), Const(3))) == Const(8)
    assert fold(Binary("==", Const(2), Const(2))) == Const(True)
    assert fold(Ite(Const(False), Const(4), Const(5))) == Const(5)
    assert fold(Binary("+", X, Const(0))) == Binary("+", X, Const(0))  # not simplified, only computed
    assert render(Ite(Binary("<", X, Y), Const(1), Unary("~", Y))) == "(1 if (s[0] < s[1]) else (~s[1]))"


def test_emit_translates_each_shared_subexpression_once():
    calls = []

    class Count(Emitter):
        def const(self, e):
            calls.append(e)
            return 1

        def slot(self, e):
            calls.append(e)
            return 1

        def binary(self, e, a, b):
            calls.append(e)
            return a + b

    shared = Binary("+", X, Const(1))
    assert emit(Binary("*", shared, shared), Count()) == 4
    assert len(calls) == 4  # X, 1, shared, the product: shared once


# ---- the one interval analysis ---------------------------------------------------------

def test_bitwise_operations_on_negative_values_stay_in_their_width():
    """Where the two analyses disagreed, the tight rule is right: ``-4..3`` is 3-bit two's
    complement, and ``|``, ``^`` and ``&`` of two 3-bit values are 3-bit values."""
    for op in ("|", "^", "&"):
        assert binary_interval(op, (-4, 3), (-4, 3)) == (-4, 3)
        values = {PYTHON[op](a, b) for a in range(-4, 4) for b in range(-4, 4)}
        assert min(values) == -4 and max(values) == 3  # attained: nothing tighter is sound


def test_shifts_are_bounded_by_the_counts_they_can_take():
    """``x << k`` with ``k`` in 1..2 never equals ``x`` itself: the count-0 value is no bound."""
    assert binary_interval("<<", (1, 3), (1, 2)) == (2, 12)
    assert binary_interval("<<", (-3, 1), (0, 2)) == (-12, 4)
    assert binary_interval("<<", (1, 3), (-2, -1)) == (1, 3)  # always an error at run time: no crash
    assert binary_interval(">>", (-5, 9), (0, 3)) == (-5, 9)


def test_signed_bits():
    assert [signed_bits(lo, hi) for lo, hi in [(0, 0), (0, 1), (-1, 0), (-4, 3), (-5, 3), (0, 255)]] \
        == [1, 2, 1, 3, 4, 9]


def expressions(depth=3):
    leaf = st.one_of(st.sampled_from([X, Y]), st.integers(-3, 3).map(Const))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.builds(Binary, st.sampled_from([o for o in ARITHMETIC if o not in ("<<", ">>")]), inner, inner),
        st.builds(lambda a, k: Binary("<<", a, Const(k)), inner, st.integers(0, 3)),
        st.builds(lambda a, b: Binary(">>", a, b), inner, inner.filter(lambda e: e != Const(-1))),
        st.builds(lambda a: Unary("~", a), inner),
        st.builds(lambda c, a, b: Ite(c, a, b),
                  st.builds(Binary, st.sampled_from(COMPARISONS), inner, inner), inner, inner)),
        max_leaves=depth * 3)


@settings(max_examples=300, deadline=None)
@given(expressions(), st.integers(-2, 1), st.integers(0, 3))
def test_every_value_lies_in_the_interval(e, lo, hi):
    domains = [Domain(lo, lo + hi), Domain(-1, 2)]
    bounds = interval(e, domains)
    for state in itertools.product(domains[0].values(), domains[1].values()):
        try:
            value = int(evaluate(e, state))
        except ValueError:  # a negative shift count: Python raises, so do the engines
            continue
        assert bounds[0] <= value <= bounds[1], (render(e), state, value, bounds)


@pytest.mark.parametrize("op", ["+", "-", "*", "<<", ">>"])
def test_arithmetic_intervals_are_attained(op):
    a, b = (-3, 5), (0, 2)
    values = [PYTHON[op](x, y) for x in range(a[0], a[1] + 1) for y in range(b[0], b[1] + 1)]
    assert binary_interval(op, a, b) == (min(values), max(values))


# ---- decision trees ----------------------------------------------------------------------

C1, C2 = Binary("<", X, Y), Binary("==", Y, Const(0))


def test_paths_make_one_binary_tree():
    paths = [(((C1, True), (C2, True)), "a"), (((C1, True), (C2, False)), "b"), (((C1, False),), "c")]
    t = tree(paths)
    assert t == Branch(C1, Branch(C2, Leaf("a"), Leaf("b")), Leaf("c"))
    assert list(leaves(t)) == ["a", "b", "c"]
    assert list(leaves(map_leaves(t, str.upper))) == ["A", "B", "C"]
    assert tree([]) is None and tree([((), 7)]) == Leaf(7)
    assert tree([(((C1, False),), "only")]) == Branch(C1, None, Leaf("only"))


@pytest.mark.parametrize("paths", [
    [(((C1, True),), "a"), (((C1, True),), "b")],                      # two paths end together
    [(((C1, True),), "a"), (((C1, True), (C2, True)), "b")],           # one ends, one goes on
    [(((C1, True),), "a"), (((C2, False),), "b")],                     # different decisions
])
def test_paths_that_are_no_tree_are_a_checker_bug(paths):
    with pytest.raises(CheckerBug):
        tree(paths)
