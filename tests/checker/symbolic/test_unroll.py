"""The circuit unrolling has exactly the model's steps, and BMC answers the same over both forms."""
from __future__ import annotations

import random

import pytest
import z3

from ksecheck import registry
from ksecheck.checker.symbolic import z3enc
from ksecheck.checker.symbolic.bmc import bmc
from ksecheck.checker.errors import ModelError, UsageError
from ksecheck.checker.symbolic.goals import goals
from ksecheck.checker.symbolic.unroll import Unrolling, slot_width
from ksecheck.model.examples import increment
from tests.checker.systems import naive_mutex
from tests.checker.symbolic.test_z3enc import all_values, bfs_edges, random_states, random_walk_edges


_ONE_STEP: dict = {}


def circuit_successors(model, state: tuple) -> set[tuple]:
    """Every state one circuit step allows after ``state``, by blocking clauses."""
    if _ONE_STEP.get("model") is not model:
        ctx = z3.Context()
        unrolled = Unrolling(model, ctx)
        pre, post = unrolled.state(), unrolled.state()
        solver = z3enc.solver(ctx=ctx)
        solver.add(unrolled.step())
        _ONE_STEP.update(model=model, pre=pre, post=post, solver=solver)
    pre, post, solver = _ONE_STEP["pre"], _ONE_STEP["post"], _ONE_STEP["solver"]
    solver.push()
    solver.add(z3enc.is_state(model, pre, state))
    found = all_values(model, solver, post)
    solver.pop()
    return found


def explicit_successors(model, state: tuple) -> set[tuple]:
    return {nxt for _, nxt in model.successors(state)}


def test_each_slot_is_as_narrow_as_its_domain():
    assert [slot_width(lo, hi) for lo, hi in [(0, 1), (0, 3), (0, 14), (-1, 1), (-1, 3), (0, 0)]] \
        == [1, 2, 4, 2, 3, 1]
    model = registry.UPCALL.instantiate("tiny")
    unrolled = Unrolling(model, z3.Context())
    names = model.schema.slot_names
    assert unrolled.widths[names.index("sa")] == 1
    assert unrolled.widths[names.index("t0.loc")] == 4
    assert sum(unrolled.widths) < len(names) * z3enc.encoding(model).width / 2


def test_every_tiny_state_has_the_models_successors():
    model = registry.UPCALL.instantiate("tiny")
    states, _ = bfs_edges(model)
    for s in states:
        assert circuit_successors(model, s) == explicit_successors(model, s)


def test_sampled_small_states_have_the_models_successors():
    model = registry.UPCALL.instantiate("small")
    sample = sorted({s for s, _, _ in random_walk_edges(model, walks=10, length=40, seed=5)})
    for s in random.Random(1).sample(sample, 25):
        assert circuit_successors(model, s) == explicit_successors(model, s)


@pytest.mark.parametrize("config", ["tiny", "small"])
def test_arbitrary_domain_states_have_the_models_successors(config):
    """Unreachable states too, where the model runs without raising."""
    model = registry.UPCALL.instantiate(config)
    compared = 0
    for s in random_states(model, 25, seed=3):
        try:
            expected = explicit_successors(model, s)
        except (IndexError, ModelError):
            continue
        assert circuit_successors(model, s) == expected
        compared += 1
    assert compared >= 15


@pytest.mark.parametrize("build", [naive_mutex, lambda: increment.build(2)], ids=["mutex", "increment"])
def test_small_systems_have_the_models_successors(build):
    model = build()
    states, _ = bfs_edges(model)
    for s in states:
        assert circuit_successors(model, s) == explicit_successors(model, s)


def test_a_step_that_would_leave_its_domain_is_not_a_circuit_step():
    model = increment.build(2)
    bad = (2, 1, 0, 2, 0)  # t0 read 2 and would write 3: the model raises; only t1's read steps
    with pytest.raises(ModelError):
        model.successors(bad)
    assert circuit_successors(model, bad) == {model.apply(model.instance("read", (1,)), bad)}


@pytest.mark.parametrize("variant,prop", [("owner_exits_at_userret", "upcall_has_owner"),
                                          ("keep_td_mailbox", "mailbox_in_one_place")])
def test_bmc_over_the_relation_and_the_circuit_agree(variant, prop):
    model = registry.UPCALL.instantiate("tiny", [variant])
    lengths = {u: len(bmc(model, 8, goals(model, [prop]), unrolling=u).get(prop).trace)
               for u in ("circuit", "relation")}
    assert lengths["circuit"] == lengths["relation"]


def test_an_unknown_unrolling_is_refused():
    with pytest.raises(UsageError, match="no unrolling"):
        bmc(increment.build(2), 2, unrolling="bdd")
