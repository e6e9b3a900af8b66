"""Tests of the relational ``upcall`` system and its proof for every size.

``model/upcall_relational.py`` is a second description of the protocol of
``model/upcall.py``. These tests tie the two together (same reachable states
at the sizes of ``tiny`` and ``small``; Z3's transition formula equals the
executed steps; the relational properties mean what the explicit ones mean)
and check the proof (``properties/upcall_relational.py``): every safety
property holds for every number of threads, upcalls and mailboxes; leaving a
lemma out gives a counterexample to induction; a timeout is UNKNOWN.
"""
import random

import pytest

from ksecheck.checker.results.result import Verdict
from ksecheck.checker.results.text import format_cti, render
from ksecheck.checker.symbolic.relational import check, prove
from ksecheck.model.upcall import LOC_NO_LIMIT, NO_RESERVE, PANIC
from ksecheck.registry import UPCALL as FAMILY
from ksecheck.model.upcall_relational import (
    LOC_NAMES,
    PANIC_NAMES,
    SORTS,
    STEPS,
    explicit_reachable,
    from_explicit,
    instance,
    tie,
    to_explicit,
)
from ksecheck.properties.upcall import properties as explicit_properties
from ksecheck.properties.upcall_relational import (
    CTI_BOUND,
    SAFETY,
    prove_all_sizes,
    system,
)


@pytest.fixture(scope="module")
def rel():
    return system()


@pytest.fixture(scope="module")
def tiny():
    model = FAMILY.instantiate("tiny")
    consts = dict(FAMILY.config("tiny").constants)
    return model, consts, instance(consts, system(consts["NCPU"]))


@pytest.fixture(scope="module")
def tiny_states(tiny):
    model = tiny[0]
    return sorted(explicit_reachable(model))


# --- the encoding ---------------------------------------------------------------------

def test_steps_are_named_as_in_the_explicit_model(rel):
    assert tuple(rel.system.transitions) == STEPS
    assert [a.name for a in FAMILY.instantiate("tiny").actions] == list(STEPS)
    assert tuple(s for s in rel.system.sorts if s in SORTS) == SORTS


def test_transitions_are_the_explicit_steps_thrwait_excepted(rel):
    """The transitions are written a second time here; their names tie them to the steps of
    model.upcall, whatever its configuration (the MAXTHREADS option only adds thrwait)."""
    for config in FAMILY.configs:
        steps = [a.name for a in FAMILY.instantiate(config.name).actions]
        assert list(rel.system.transitions) == [n for n in steps if n != "thrwait"], config.name


def test_names_come_from_the_explicit_model(rel):
    assert LOC_NAMES == LOC_NO_LIMIT.names and len(LOC_NAMES) == 15
    assert [str(v) for v in rel.system.enums["upcall_loc"]] == list(LOC_NO_LIMIT.names)
    assert PANIC_NAMES[0] == "P_NONE" and len(PANIC_NAMES) == len(PANIC.names)
    assert [str(v) for v in rel.system.enums["upcall_panic"]] == list(PANIC_NAMES)


def test_tiny_has_exactly_the_explicit_reachable_states():
    t = tie("tiny")
    assert t.equal, (t.only_relational, t.only_explicit)
    assert t.relational == t.mapped == t.explicit == 940
    assert t.search.depth == 36 and t.search.complete
    # tiny has NCPU = 1: kse_create never passes EPROCLIM; every other step fires
    assert {n for n, c in t.search.fired.items() if c == 0} == {"create_begin", "create_finish"}


@pytest.mark.slow
def test_small_has_exactly_the_explicit_reachable_states():
    t = tie("small")
    assert t.equal, (t.only_relational, t.only_explicit)
    assert t.relational == t.mapped == t.explicit == 169_440
    assert t.search.depth == 46
    assert all(c > 0 for c in t.search.fired.values())


def test_the_mapping_is_a_bijection_on_explicit_states(tiny, tiny_states):
    model, _, inst = tiny
    assert all(to_explicit(inst, from_explicit(inst, s, model), model) == s for s in tiny_states)


def test_executed_steps_equal_the_transition_formula(tiny, tiny_states):
    """The proofs use the Z3 formula; the tie uses the compiled steps: they must agree."""
    model, _, inst = tiny
    states = [from_explicit(inst, s, model) for s in tiny_states]
    chosen, seen = [], set()
    for s in states:  # a few states that between them enable every step that can fire
        names = {n for n, _ in inst.successors(s)}
        if names - seen:
            chosen.append(s)
            seen |= names
    chosen += random.Random(0).sample(states, 3)
    for s in chosen:
        for t in STEPS:
            executed = {post for name, post in inst.successors(s) if name == t}
            assert executed == inst.solver_successors(s, t), t


def test_relational_properties_mean_the_explicit_ones(tiny, tiny_states):
    """On reachable states and on states with one slot changed at random (mostly not
    reachable), each relational safety property agrees with its explicit namesake."""
    model, consts, inst = tiny
    checks = {p.name: p.check for p in explicit_properties(consts) if p.name in inst.system.invariants}
    assert set(checks) == set(SAFETY) | {"upcall_limit"}
    rng = random.Random(1)
    domains = model.schema.slot_domains
    states = list(tiny_states)
    for s in tiny_states + tiny_states:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(s))
            s = s[:i] + (rng.randint(domains[i].lo, domains[i].hi),) + s[i + 1:]
        states.append(s)
    verdicts = set()
    for s in states:
        view, r = model.schema.view(s), from_explicit(inst, s, model)
        for name, pred in checks.items():
            verdicts.add((name, bool(pred(view))))
            assert bool(pred(view)) == inst.holds(name, r), (name, model.schema.readable(s))
    # no agreement by vacuity (upcall_limit cannot fail with tiny's single upcall slot)
    assert all((name, False) in verdicts for name in checks if name != "upcall_limit")


def test_every_invariant_and_lemma_holds_on_every_tiny_state(tiny, tiny_states):
    model, _, inst = tiny
    for s in tiny_states:
        r = from_explicit(inst, s, model)
        assert all(inst.holds(name, r) for name in inst.system.invariants)


# --- the proof ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def proof():
    return prove_all_sizes(timeout=300)


@pytest.mark.slow
def test_every_safety_property_holds_for_every_size(proof):
    assert proof.outcome is Verdict.HOLDS
    for name in SAFETY:
        result = proof.get(name)
        assert not result.lemma and result.verdict is Verdict.HOLDS, result.note
        assert len(result.queries) == 1 + len(STEPS)  # init, then one per step
    assert all(r.verdict is Verdict.HOLDS for r in proof.properties)
    # honest: the queries are outside EPR (see properties docstring)
    assert any(n.startswith("outside EPR") for n in proof.notes)
    text = render(proof)
    assert text.splitlines()[-1] == "Result: HOLDS" and "outside EPR" in text


@pytest.mark.slow
def test_upcall_limit_holds_for_every_size_at_a_fixed_ncpu():
    res = prove_all_sizes(timeout=300, ncpu=2)
    assert res.outcome is Verdict.HOLDS
    assert res.get("upcall_limit").verdict is Verdict.HOLDS


def test_no_counterexample_to_induction_among_small_structures(rel):
    """Quantifier-free and fast: every query at up to 3 threads, 2 upcalls, 2 mailboxes."""
    res = prove(rel.system, bound={"thread": 3, "upcall": 2, "mailbox": 2}, timeout=60)
    assert res.ctis == []
    assert {r.verdict for r in res.properties} == {Verdict.INCOMPLETE}  # bounded: never HOLDS


@pytest.mark.parametrize("lemma, query, shown", [
    ("at_ALLOC_RET", "alloc_spare/mailbox_in_one_place", "ALLOC_RET"),
    ("at_KERNEL", "block/no_panic", PANIC_NAMES[NO_RESERVE]),
])
def test_removing_a_lemma_gives_a_counterexample_to_induction(rel, lemma, query, shown):
    transition, goal = query.split("/")
    everything = list(rel.system.invariants)
    assert check(rel.system, transition, goal, everything, timeout=120).verdict is Verdict.HOLDS
    # the unbounded query may find the model itself or give up after 5 s; then the search
    # among small structures finds one (either way a genuine, re-checked CTI)
    q = check(rel.system, transition, goal, [n for n in everything if n != lemma], timeout=5,
              cti_bound=CTI_BOUND)
    assert q.verdict is Verdict.VIOLATED and q.cti is not None
    cti = q.cti
    assert all(cti.system.holds(n, cti.pre) for n in everything if n != lemma)
    assert not cti.system.holds(lemma, cti.pre)  # exactly what the lemma rules out
    assert not cti.system.holds(goal, cti.post)
    assert max(cti.system.sizes.values()) <= 2  # minimised
    text = format_cti(cti)
    assert f"Counterexample to induction of {goal} ({query}):" in text and shown in text


def test_a_timeout_is_unknown_never_holds(rel):
    q = check(rel.system, "userret", "mailbox_in_one_place", timeout=0.001)
    assert q.verdict is Verdict.UNKNOWN and q.note
    res = prove(rel.system, SAFETY, rlimit=1)
    assert res.outcome is Verdict.UNKNOWN
    assert not any(r.verdict is Verdict.HOLDS for r in res.properties)
    assert "UNKNOWN" in render(res, query_times=False)


def test_leaving_out_an_unknown_lemma_is_an_error():
    with pytest.raises(ValueError, match="no invariant"):
        prove_all_sizes(without=["no_such_lemma"])
