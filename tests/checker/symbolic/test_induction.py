"""Induction, k-induction and complete proofs: verdicts, CTIs checked concretely, UNKNOWN kept apart."""
from __future__ import annotations

import pytest

from ksecheck import registry
from ksecheck.checker import Action, Property
from ksecheck.checker.errors import UsageError
from ksecheck.checker.symbolic.induction import induction, kinduction, prove
from ksecheck.checker.symbolic.goals import goals
from ksecheck.checker.results.result import DEADLOCK, Verdict
from ksecheck.model.examples import increment
from tests.checker.systems import counter, naive_mutex, one_var, tas_mutex

SRC = "test system"

LOCK_HELD = Property("lock_held", "always", lambda s: s.lock == (s.crit[0] | s.crit[1]), SRC,
                     doc="the lock is taken exactly when some process is critical")


def test_a_non_inductive_invariant_gets_a_concrete_cti():
    model = tas_mutex()
    result = induction(model, goals(model, ["mutex"]))
    q = result.query("acquire/mutex")
    assert q.verdict is Verdict.VIOLATED and q.seconds >= 0
    cti = q.cti
    view = model.schema.view
    assert model.property("mutex").check(view(cti.pre))          # the pre-state satisfies it,
    assert model.enabled(cti.step, cti.pre)                   # the step is enabled there,
    assert model.apply(cti.step, cti.pre) == cti.post         # and leads to the post-state,
    assert not model.property("mutex").check(view(cti.post))      # which breaks it
    assert cti.broken == ["mutex"]
    assert result.query("release/mutex").verdict is Verdict.HOLDS
    assert result.get("mutex").verdict is Verdict.UNKNOWN  # not proved, but not refuted either


def test_a_lemma_makes_it_inductive_and_the_proof_complete():
    model = tas_mutex()
    relative = induction(model, goals(model, ["mutex"]), [LOCK_HELD])
    assert all(q.verdict is Verdict.HOLDS for q in relative.queries)
    assert relative.get("mutex").verdict is Verdict.INCOMPLETE  # the lemma itself is not proved here
    proof = prove(model, goals(model, ["mutex"]), [LOCK_HELD])
    assert {g.name: g.verdict for g in proof.properties} == {"mutex": Verdict.HOLDS,
                                                        "lock_held": Verdict.HOLDS}
    assert proof.get("lock_held").lemma
    names = [q.name for q in proof.queries]
    assert names == ["init/mutex", "init/lock_held", "acquire/mutex", "acquire/lock_held",
                     "release/mutex", "release/lock_held"]
    assert proof.outcome is Verdict.HOLDS


def test_queries_can_be_per_instance():
    model = tas_mutex()
    proof = prove(model, goals(model, ["mutex"]), [LOCK_HELD], per="instance")
    assert "acquire(p1)/mutex" in [q.name for q in proof.queries]
    assert proof.outcome is Verdict.HOLDS


def test_an_invariant_false_initially_is_violated():
    model = one_var(init=lambda s: setattr(s, "x", 3),
                    properties=[Property("small", "always", lambda s: s.x < 3, SRC)])
    result = prove(model, goals(model, ["small"]))
    r = result.get("small")
    assert r.verdict is Verdict.VIOLATED
    assert result.query("init/small").cti.post == (3,)


def test_a_real_violation_is_never_proved():
    for model, name in ((naive_mutex(), "mutex"), (counter(5, limit=3), "below_limit")):
        result = prove(model, goals(model, [name]))
        assert result.get(name).verdict is not Verdict.HOLDS
        assert result.ctis


def test_deadlock_freedom_is_a_provable_state_property():
    assert prove(counter(3, terminal=True)).get(DEADLOCK).verdict is Verdict.HOLDS
    result = prove(counter(3))
    assert result.get(DEADLOCK).verdict is not Verdict.HOLDS
    cti = result.query(f"inc/{DEADLOCK}").cti
    assert cti.post == (3,) and not counter(3).successors(cti.post)


def test_a_step_that_would_raise_from_an_invariant_state_is_reported():
    model = increment.build(2)
    result = induction(model, goals(model, ["no_lost_update"]))
    q = result.query("write/contract")
    assert q.verdict is Verdict.VIOLATED and q.cti.error
    assert "not 0..2" in q.cti.error
    assert result.get("no_lost_update").verdict is not Verdict.HOLDS


def test_k_induction_needs_no_lemma_where_two_steps_suffice():
    model = tas_mutex()
    assert kinduction(model, 1, goals(model, ["mutex"])).get("mutex").verdict is Verdict.UNKNOWN
    two = kinduction(model, 2, goals(model, ["mutex"]))
    assert two.get("mutex").verdict is Verdict.HOLDS
    assert "k2/mutex" in [q.name for q in two.queries]


def test_k_induction_reports_a_real_counterexample_shorter_than_k():
    model = naive_mutex()
    result = kinduction(model, 6, goals(model, ["mutex"]))
    r = result.get("mutex")
    assert r.verdict is Verdict.VIOLATED and len(r.trace) == 4


def test_a_k_step_cti_is_a_path_of_concrete_steps():
    model = counter(6, limit=4)
    cti = kinduction(model, 2, goals(model, ["below_limit"])).query("k2/below_limit").cti
    assert len(cti.states) == 3 and len(cti.steps) == 2
    for inst, a, b in zip(cti.steps, cti.states, cti.states[1:]):
        assert model.apply(inst, a) == b


def test_a_lemma_may_not_take_an_invariants_name():
    model = tas_mutex()
    with pytest.raises(UsageError, match="clash"):
        prove(model, goals(model, ["mutex"]), [Property("mutex", "always", lambda s: True, SRC)])


def test_only_invariants_can_be_proved():
    model = tas_mutex()
    with pytest.raises(UsageError, match="only invariants"):
        prove(model, goals(model, ["mutex"]), [model.property("both_critical")])
    with pytest.raises(UsageError, match="no invariant"):
        goals(model, ["both_critical"])


def test_a_timeout_gives_unknown_never_holds():
    model = registry.UPCALL.instantiate("small")
    result = induction(model, timeout=0.001)
    unknown = [q for q in result.queries if q.verdict is Verdict.UNKNOWN]
    assert unknown, "a 1 ms limit must make some query give up"
    assert all(g.verdict is not Verdict.HOLDS for g in result.properties)
    assert result.outcome is not Verdict.HOLDS


def test_results_repeat():
    model = increment.build(3)
    first = induction(model)
    again = induction(model)
    assert [(q.name, q.verdict, q.cti and q.cti.states) for q in first.queries] == \
        [(q.name, q.verdict, q.cti and q.cti.states) for q in again.queries]


def test_every_action_is_asked_about_every_goal():
    model = increment.build(2)
    result = induction(model, goals(model))
    consecution = [q.name for q in result.queries
                   if not q.name.startswith("init/") and not q.name.endswith("/contract")]
    assert consecution == [f"{a.name}/{g}" for a in model.actions
                           for g in ("no_lost_update", DEADLOCK)]


def test_an_action_never_enabled_preserves_every_goal():
    never = Action("never", (), lambda s: False, lambda s: None)
    model = one_var(actions=[never, Action("inc", (), lambda s: s.x < 3,
                                           lambda s: setattr(s, "x", s.x + 1))],
                    properties=[Property("bounded", "always", lambda s: s.x <= 3, SRC)])
    result = prove(model, goals(model, ["bounded"]))
    assert result.get("bounded").verdict is Verdict.HOLDS
    assert result.query("never/bounded").verdict is Verdict.HOLDS
