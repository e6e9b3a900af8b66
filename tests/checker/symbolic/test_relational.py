"""Tests of the relational engine (``checker/symbolic/relational/``) on mypyvy's lock server.

The lock server (mypyvy ``examples/lockserv.pyv``, rewritten): clients send
lock requests; the server, holding the lock, grants it to one; the holder
unlocks; the server takes it back. ``mutex`` (at most one holder) is
inductive with six lemmas. At three nodes its reachable states are counted
here by an independent explicit search.
"""
import random

import pytest
import z3
from z3 import And, BoolSort, BoolVal, Const, Consts, ForAll, Implies, Not, Or

from ksecheck.checker.errors import UsageError
from ksecheck.checker.results.result import Verdict
from ksecheck.checker.results.text import format_cti, render
from ksecheck.checker.symbolic.relational import (
    FiniteInstance,
    System,
    alternation_graph,
    check,
    prove,
    total_order,
)

LEMMAS = ("no_grant_while_held", "one_grant", "one_unlock", "no_unlock_while_held",
          "no_grant_with_unlock", "server_free")


def lockserv(name="lockserv") -> System:
    s = System(name)
    node = s.sort("node")
    lock_msg, grant_msg, unlock_msg, holds = (s.relation(n, node) for n in
                                              ("lock_msg", "grant_msg", "unlock_msg", "holds_lock"))
    server = s.constant("server_holds_lock", BoolSort())
    a, b = Consts("a b", node)
    n = Const("n", node)
    s.set_init(And(ForAll([a], And(Not(lock_msg(a)), Not(grant_msg(a)), Not(unlock_msg(a)),
                                   Not(holds(a)))), server))
    s.transition("send_lock", [n], BoolVal(True), {lock_msg: lambda x: Or(lock_msg(x), x == n)})
    s.transition("recv_lock", [n], And(server, lock_msg(n)), {
        server: BoolVal(False), lock_msg: lambda x: And(lock_msg(x), x != n),
        grant_msg: lambda x: Or(grant_msg(x), x == n)})
    s.transition("recv_grant", [n], grant_msg(n), {
        grant_msg: lambda x: And(grant_msg(x), x != n), holds: lambda x: Or(holds(x), x == n)})
    s.transition("unlock", [n], holds(n), {
        holds: lambda x: And(holds(x), x != n), unlock_msg: lambda x: Or(unlock_msg(x), x == n)})
    s.transition("recv_unlock", [n], unlock_msg(n), {
        unlock_msg: lambda x: And(unlock_msg(x), x != n), server: BoolVal(True)})

    def never(p, q):
        return ForAll([a, b], Not(And(p(a), q(b))))

    def at_most_one(p):
        return ForAll([a, b], Implies(And(p(a), p(b)), a == b))

    s.safety("mutex", at_most_one(holds), "at most one node holds the lock")
    s.invariant(LEMMAS[0], never(holds, grant_msg))
    s.invariant(LEMMAS[1], at_most_one(grant_msg))
    s.invariant(LEMMAS[2], at_most_one(unlock_msg))
    s.invariant(LEMMAS[3], never(holds, unlock_msg))
    s.invariant(LEMMAS[4], never(grant_msg, unlock_msg))
    s.invariant(LEMMAS[5], ForAll([a], Implies(server, And(Not(holds(a)), Not(grant_msg(a)),
                                                           Not(unlock_msg(a))))))
    return s


@pytest.fixture(scope="module")
def ls():
    return lockserv()


def explicit_lockserv(n):
    """Reachable states of the lock server at ``n`` nodes, searched by hand-written steps."""
    init = (frozenset(), frozenset(), frozenset(), frozenset(), True)
    seen, todo = {init}, [init]
    while todo:
        lock, grant, unlock, held, server = todo.pop()
        nxt = []
        for i in range(n):
            nxt.append((lock | {i}, grant, unlock, held, server))
            if server and i in lock:
                nxt.append((lock - {i}, grant | {i}, unlock, held, False))
            if i in grant:
                nxt.append((lock, grant - {i}, unlock, held | {i}, server))
            if i in held:
                nxt.append((lock, grant, unlock | {i}, held - {i}, server))
            if i in unlock:
                nxt.append((lock, grant, unlock - {i}, held, True))
        for s in nxt:
            if s not in seen:
                seen.add(s)
                todo.append(s)
    return seen


def as_sets(state, n):
    """A relational lock-server state as the tuple explicit_lockserv uses."""
    *rels, server = state
    return tuple(frozenset(i for i in range(n) if r[i]) for r in rels) + (server,)


# --- the proof --------------------------------------------------------------------

def test_lockserv_is_proved_for_every_size(ls):
    res = prove(ls, timeout=30)
    assert res.outcome is Verdict.HOLDS
    assert [r.name for r in res.properties] == ["mutex", *LEMMAS]
    assert not res.get("mutex").lemma and res.get("one_grant").lemma
    # one initiation query plus one per transition for every invariant
    assert all(len(r.queries) == 1 + len(ls.transitions) for r in res.properties)
    assert {q.name for q in res.get("mutex").queries} == {
        "init/mutex", *(f"{t}/mutex" for t in ls.transitions)}
    assert res.notes == [] and res.ctis == []  # in EPR: no "outside EPR" note


def test_leaving_a_lemma_out_gives_a_rechecked_finite_counterexample(ls):
    kept = ["mutex", *LEMMAS[:5]]  # without server_free
    res = prove(ls, kept, timeout=30)
    assert res.outcome is Verdict.UNKNOWN  # not inductive: neither safe nor violated
    assert {c.query for c in res.ctis} == {"recv_lock/no_grant_while_held",
                                           "recv_lock/one_grant",
                                           "recv_lock/no_grant_with_unlock"}
    assert "not inductive" in res.get("one_grant").note
    assert "relies on" in res.get("mutex").note
    for cti in res.ctis:
        inst = cti.system
        assert inst.sizes["node"] <= 2  # minimised
        assert all(inst.holds(n, cti.pre) for n in kept)
        assert not inst.holds(cti.goal, cti.post)
        text = format_cti(cti)
        assert cti.query in text and "universe: node = {" in text
        assert "+grant_msg(" in text and "-server_holds_lock" in text  # the step, diffed
    assert ("Counterexample to induction of one_grant (recv_lock/one_grant):"
            in render(res))


def test_a_property_that_fails_initially_is_violated_and_one_broken_by_a_step_is_not_proved():
    s = lockserv("lockserv_more")
    a = Const("a", s.sorts["node"])
    server = s.symbols["server_holds_lock"].decl()
    s.safety("server_never_holds", Not(server))
    s.safety("nobody_asks", ForAll([a], Not(s.symbols["lock_msg"].decl(a))))
    res = prove(s, ["server_never_holds", "nobody_asks"], timeout=30)
    assert res.get("server_never_holds").verdict is Verdict.VIOLATED
    assert res.outcome is Verdict.VIOLATED
    [bad] = [c for c in res.ctis if not c.steps]  # an initial state, no step
    assert bad.system.holds("nobody_asks", bad.pre)
    assert "An initial state breaks server_never_holds" in render(res)
    asks = res.get("nobody_asks")
    assert asks.queries[0].verdict is Verdict.HOLDS  # true initially, broken by send_lock
    assert asks.verdict is Verdict.UNKNOWN
    assert any(c.query == "send_lock/nobody_asks" for c in res.ctis)


def test_a_timeout_is_unknown_never_holds(ls):
    q = check(ls, "recv_lock", "mutex", timeout=1e-9, minimize=False)
    # the solver may or may not finish a trivial query in time; it never claims more
    assert q.verdict in (Verdict.HOLDS, Verdict.UNKNOWN)
    res = prove(ls, rlimit=1)
    assert res.outcome is Verdict.UNKNOWN
    assert any(q.verdict is Verdict.UNKNOWN for q in res.queries)
    assert not any(r.verdict is Verdict.HOLDS for r in res.properties)


def test_a_bounded_search_is_incomplete_not_holds(ls):
    res = prove(ls, bound={"node": 3}, timeout=30)
    assert res.outcome is Verdict.INCOMPLETE
    assert {r.verdict for r in res.properties} == {Verdict.INCOMPLETE}
    res = prove(ls, ["mutex", *LEMMAS[1:]], bound={"node": 2}, timeout=30)
    assert res.ctis and all(c.system.sizes["node"] <= 2 for c in res.ctis)


def test_alternation_graph_flags_a_forall_exists_cycle(ls):
    assert alternation_graph(ls).number_of_edges() == 0
    s = lockserv("lockserv_cycle")
    node = s.sorts["node"]
    a, b = Consts("a b", node)
    s.invariant("someone_else", ForAll([a], z3.Exists([b], a != b)))
    g = alternation_graph(s)
    assert ("node", "node") in g.edges


# --- finite instances ----------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3])
def test_finite_reachable_states_match_an_explicit_search(ls, n):
    found = FiniteInstance(ls, {"node": n}).reachable()
    assert found.complete
    assert {as_sets(s, n) for s in found.states} == explicit_lockserv(n)
    assert all(count > 0 for count in found.fired.values())


def test_executed_steps_equal_the_transition_formula(ls):
    inst = FiniteInstance(ls, {"node": 3})
    states = sorted(inst.reachable().states)
    for state in random.Random(0).sample(states, 12):
        for t in ls.transitions:
            executed = {post for name, post in inst.successors(state) if name == t}
            assert executed == inst.solver_successors(state, t), t


def test_every_reachable_state_satisfies_the_invariants(ls):
    inst = FiniteInstance(ls, {"node": 3})
    for s in inst.reachable().states:
        assert all(inst.holds(name, s) for name in ls.invariants)


def test_a_search_limit_is_reported_incomplete(ls):
    found = FiniteInstance(ls, {"node": 3}).reachable(max_states=10)
    assert not found.complete and len(found.states) >= 10


def test_rigid_symbols_are_interpreted_and_checked():
    s = System("ordered")
    e = s.sort("elem")
    lt = s.relation("lt", e, e, mutable=False)
    for name, f in total_order(lt, e).items():
        s.axiom(name, f)
    mark = s.relation("mark", e)
    x, y = Consts("x y", e)
    s.set_init(ForAll([x], Not(mark(x))))
    # mark the lowest unmarked element
    s.transition("mark_lowest", [x], And(Not(mark(x)), ForAll([y], Implies(lt(y, x), mark(y)))),
                 {mark: lambda v: Or(mark(v), v == x)})
    order = tuple(tuple(a < b for b in range(3)) for a in range(3))
    found = FiniteInstance(s, {"elem": 3}, {"lt": order}).reachable()
    assert len(found.states) == 4  # marked prefixes of length 0..3
    with pytest.raises(UsageError, match="breaks axiom"):
        FiniteInstance(s, {"elem": 2}, {"lt": ((True, True), (False, False))})
    with pytest.raises(UsageError, match="rigid symbol"):
        FiniteInstance(s, {"elem": 2})


# --- malformed systems are rejected at once --------------------------------------------

def test_malformed_declarations_are_rejected():
    s = System("bad")
    node = s.sort("node")
    r = s.relation("r", node)
    lt = s.relation("lt", node, node, mutable=False)
    n = Const("n", node)
    stranger = z3.Function("stranger", node, BoolSort())
    with pytest.raises(UsageError, match="declared twice"):
        s.relation("r", node)
    with pytest.raises(UsageError, match="neither a declared symbol nor a parameter"):
        s.transition("t", [], stranger(n), {})
    with pytest.raises(UsageError, match="rigid"):
        s.transition("t", [n], r(n), {lt: lambda a, b: BoolVal(True)})
    with pytest.raises(UsageError, match="state symbol"):
        s.axiom("a", ForAll([n], r(n)))
    with pytest.raises(UsageError, match="must be a Bool"):
        s.transition("t", [n], r(n), {r: lambda a: a})
    with pytest.raises(UsageError, match="no initial states"):
        prove(s)
    other = z3.DeclareSort("elsewhere")
    with pytest.raises(UsageError, match="not declared"):
        s.relation("q", other)


def test_priming_substitutes_post_copies(ls):
    a = Const("a", ls.sorts["node"])
    holds = ls.symbols["holds_lock"]
    f = ForAll([a], Implies(holds.decl(a), ls.symbols["server_holds_lock"].decl()))
    primed = ls.prime(f)
    assert "holds_lock'" in str(primed) and "server_holds_lock'" in str(primed)
    assert "holds_lock(" not in str(primed).replace("holds_lock'(", "")
    assert str(ls.prime(f, only=["holds_lock"])).count("server_holds_lock'") == 0


def test_the_result_table_names_every_invariant(ls):
    text = render(prove(ls, timeout=30), query_times=False)
    assert text.splitlines()[-1] == "Result: HOLDS"
    for name in ["mutex", *LEMMAS]:
        assert name in text
    assert "seconds" not in text
