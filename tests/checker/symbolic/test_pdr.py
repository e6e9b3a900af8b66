"""PDR (IC3) finds the shortest counterexamples BFS finds, and proves what BFS finds safe."""
from __future__ import annotations

import argparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ksecheck import registry
from ksecheck.cli import prove as prove_cli
from ksecheck.checker.errors import UsageError
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.symbolic.pdr import pdr
from ksecheck.checker.symbolic.goals import goals
from ksecheck.checker.results.result import DEADLOCK, Verdict
from ksecheck.model.examples import increment
from ksecheck.checker import Action, Domain, Model, Param, Property, Schema, Var
from tests.checker.systems import SRC, counter, dead_ends, naive_mutex, tas_mutex


def _bfs(model, name: str):
    return explore(model).get(name)


def test_the_lost_update_takes_four_steps():
    model = increment.build(2)
    r = pdr(model, 10, goals(model, ["no_lost_update"])).get("no_lost_update")
    assert r.verdict is Verdict.VIOLATED
    assert len(r.trace) == 4 == len(_bfs(model, "no_lost_update").trace)
    r.trace.validate()


def test_the_locked_increment_is_proved_without_lemmas():
    model = increment.build(2, locked=True)
    r = pdr(model, 20, goals(model, ["no_lost_update"])).get("no_lost_update")
    assert r.verdict is Verdict.HOLDS
    assert "inductive invariant" in r.note


def test_a_bound_reached_without_proof_is_incomplete_not_holds():
    model = increment.build(2, locked=True)
    result = pdr(model, 1, goals(model, ["no_lost_update"]))
    r = result.get("no_lost_update")
    assert r.verdict is Verdict.INCOMPLETE and "up to depth 1" in r.note
    assert result.outcome is Verdict.INCOMPLETE


@pytest.mark.parametrize("build,name,length", [
    (naive_mutex, "mutex", 4),
    (lambda: counter(5, limit=3), "below_limit", 3),
    (dead_ends, DEADLOCK, 1),
])
def test_pdr_lengths_equal_bfs_lengths_on_hand_counted_systems(build, name, length):
    model = build()
    trace = pdr(model, 8, goals(model, [name])).get(name).trace
    assert len(trace) == length == len(_bfs(model, name).trace)
    trace.validate()


def test_a_correct_system_is_proved():
    assert pdr(tas_mutex(), 6, goals(tas_mutex(), ["mutex"])).get("mutex").verdict is Verdict.HOLDS


def arith_graph(succ, bad) -> Model:
    """Walk a digraph from node 0, written with arithmetic only (so Z3 can encode it):
    ``edge(k)`` follows the k-th out-edge of the current node."""
    n = len(succ)

    def has_edge(s, k):
        return sum(s.node == u for u in range(n) if k < len(succ[u])) > 0

    def follow(s, k):
        s.node = sum((s.node == u) * succ[u][k] for u in range(n) if k < len(succ[u]))

    return Model(
        name="graph", schema=Schema(Var("node", Domain(0, n - 1))), init=lambda s: None,
        actions=[Action("edge", (Param("k", Domain(0, 2)),), has_edge, follow)],
        properties=[Property("avoid_bad", "always",
                             lambda s: sum(s.node == b for b in bad) == 0, SRC)])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 7), max_size=3), min_size=8, max_size=8),
       st.frozensets(st.integers(1, 7), max_size=2))
def test_pdr_agrees_with_bfs_on_random_graphs(succ, bad):
    model = arith_graph(succ, bad)
    want = _bfs(model, "avoid_bad")
    got = pdr(model, 10, goals(model, ["avoid_bad"])).get("avoid_bad")
    if want.verdict is Verdict.HOLDS:
        assert got.verdict is Verdict.HOLDS  # 8 nodes: a proof comes well before frame 10
    else:
        assert got.verdict is Verdict.VIOLATED
        assert len(got.trace) == len(want.trace)
        got.trace.validate()


@pytest.mark.parametrize("variant,prop,length", [
    ("alloc_after_unbind", "no_panic", 2),
    ("keep_td_mailbox", "mailbox_in_one_place", 3),
    ("owner_exits_at_userret", "upcall_has_owner", 5),
])
def test_pdr_finds_upcall_variants_at_the_bfs_length(variant, prop, length):
    model = registry.UPCALL.instantiate("tiny", [variant])
    r = pdr(model, length + 1, goals(model, [prop])).get(prop)
    assert r.verdict is Verdict.VIOLATED
    assert len(r.trace) == length == len(_bfs(model, prop).trace)
    assert not model.property(prop).check(model.schema.view(r.trace.final))


@pytest.mark.parametrize("prop", ["upcall_has_owner", "no_thread_leak", "unbind_clear_in_user",
                                  "upcall_limit"])
def test_pdr_proves_upcall_invariants_on_small_without_lemmas(prop):
    model = registry.UPCALL.instantiate("small", [])
    r = pdr(model, 12, goals(model, [prop])).get(prop)
    assert r.verdict is Verdict.HOLDS, r.note


def test_a_solver_timeout_is_unknown_never_holds():
    model = registry.UPCALL.instantiate("small", [])
    result = pdr(model, 12, goals(model, ["owner_link_consistent"]), timeout=0.001)
    r = result.get("owner_link_consistent")
    assert r.verdict is Verdict.UNKNOWN
    assert any(q.verdict is Verdict.UNKNOWN for q in result.queries)


def test_a_negative_depth_is_refused():
    with pytest.raises(UsageError):
        pdr(increment.build(2), -1)


def _cli(argv, capsys):
    parser = argparse.ArgumentParser(prog="ksecheck")
    prove_cli.add_parser(parser.add_subparsers(dest="command"))
    code = prove_cli.run(parser.parse_args(["prove", *argv]))
    return code, capsys.readouterr().out


def test_cli_pdr_prints_a_shortest_counterexample(capsys):
    code, out = _cli(["--config", "tiny", "--variant", "keep_td_mailbox", "--mode", "pdr",
                      "--property", "mailbox_in_one_place"], capsys)
    assert code == 1
    assert "Counterexample to mailbox_in_one_place (3 steps)" in out
    assert "frame3/mailbox_in_one_place" in out


def test_cli_pdr_proves_without_lemmas(capsys):
    code, out = _cli(["--config", "small", "--mode", "pdr", "--property", "upcall_has_owner"],
                     capsys)
    assert code == 0
    assert "Result: HOLDS" in out and "inductive invariant" in out
