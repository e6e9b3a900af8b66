"""The vectorised engine reproduces the explicit search exactly.

Same states, transitions, depth, dead-end classification, action counts,
verdicts and traces (label for label, state for state) as
:func:`checker.explicit.search.explore`, on the hand-counted systems, the
increment, kstack and KSE models, random graphs, every bug variant, and
under every kind of limit. The pinned numbers of ``model/pinned.json``
(measured with the explicit search) are re-measured with this engine.
"""
import dataclasses
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ksecheck.checker import Action, Domain, Model, ModelError, Schema, Var, regress
from ksecheck.checker.explicit.options import Limits, Options
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.explicit.pack import Layout, StateSet
from ksecheck.checker.results.result import DEADLOCK, Verdict
from ksecheck.model.examples import increment
from ksecheck.registry import PINNED, catalogue

from tests.checker import systems
from tests.checker.explicit.test_explore import digraphs

CATALOGUE = catalogue()
PINNED_RUNS = regress.load(PINNED)


def summary(r):
    """Everything a result says, traces included (labels and states)."""
    s = r.stats
    return ((s.states, s.transitions, s.depth, s.terminal_states, s.at_bound_states,
             s.deadlock_states, s.action_counts, s.complete, s.stopped_by),
            [(p.name, p.verdict, p.note, None if p.trace is None else
              ([x.label for x in p.trace.steps], p.trace.states, p.trace.loop))
             for p in r.properties])


def same_as_explore(model, **kw):
    a, b = explore(model, Options(**kw)), explore(model, Options(engine="vector", **kw))
    assert b.stats.engine == "vector"
    assert summary(a) == summary(b)
    return b


def upcall(config, *variants):
    return CATALOGUE.family("upcall").instantiate(config, list(variants))


# ---- the pinned numbers, re-measured ---------------------------------------------------

LONG = {"small", "small+no_exiting_count", "small+no_wake_parked", "small+no_limit_recheck",
        "loan-small", "loan-small+borrower_stash", "loan-small+borrower_to_user",
        "loan-small+lose_context"}  # whole searches of a hundred thousand states or more


def _run(run):
    marks = [pytest.mark.slow] if run.tier != "ci" or run.key in LONG else []
    return pytest.param(run, id=run.key, marks=marks)


@pytest.mark.parametrize("run", [_run(r) for r in regress.runs(CATALOGUE)])
def test_vector_engine_reproduces_the_pinned_numbers(run, monkeypatch):
    monkeypatch.setattr(regress, "explore", lambda model, options=Options(): explore(
        model, dataclasses.replace(options, engine="vector")))
    assert regress.compare(PINNED_RUNS[run.key], regress.measure(CATALOGUE, run)) == []


# ---- exactly the explicit search's result ----------------------------------------------

@pytest.mark.parametrize("name", ["tiny", "loan-tiny", "kstack", "kstack-ia64", "inc2", "inc3",
                                  "inc2-locked"])
def test_same_result_as_explore(name):
    fam, cfg = CATALOGUE.resolve(None, name)
    same_as_explore(fam.instantiate(cfg))


def test_same_result_as_explore_on_small_without_liveness():
    r = same_as_explore(upcall("small"), liveness=False)
    assert r.get("completed_delivered").verdict is Verdict.NOT_CHECKED


@pytest.mark.parametrize("variant", ["alloc_after_unbind", "keep_td_mailbox",
                                     "owner_exits_at_userret", "no_wake_parked", "no_exiting_count"])
@pytest.mark.parametrize("stop", ["none", "first", "when"])
def test_every_variant_on_tiny(variant, stop):
    model = upcall("tiny", variant)
    violates = CATALOGUE.family("upcall").variant(variant).violates
    if stop == "first":
        same_as_explore(model, stop_at_first=True)
    elif stop == "when":
        targets = tuple(v for v in violates if v == DEADLOCK or model.property(v).kind == "always")
        same_as_explore(model, stop_when=targets)
    else:
        same_as_explore(model)


@pytest.mark.parametrize("variant", ["alloc_after_unbind", "keep_td_mailbox",
                                     "owner_exits_at_userret"])
def test_variants_stop_at_the_same_place_on_small(variant):
    same_as_explore(upcall("small", variant), stop_at_first=True)


@pytest.mark.parametrize("limits", [Limits(max_states=1), Limits(max_states=500),
                                    Limits(max_states=939), Limits(max_states=940),
                                    Limits(max_depth=0), Limits(max_depth=7),
                                    Limits(max_depth=36), Limits(max_states=300, max_depth=9)])
def test_limits_give_the_same_cut(limits):
    r = same_as_explore(upcall("tiny"), limits=limits)
    if not r.stats.complete:
        assert r.outcome is not Verdict.HOLDS


def test_limits_with_small_chunks_cut_inside_a_level():
    model = upcall("tiny", "owner_exits_at_userret")
    for kw in (dict(limits=Limits(max_states=400)), dict(stop_at_first=True), {}):
        a = explore(model, Options(**kw))
        for chunk in (2, 64):
            assert summary(a) == summary(explore(model, Options(engine="vector", chunk=chunk, **kw)))


def test_runs_are_deterministic():
    a, b = (explore(upcall("small", "owner_exits_at_userret"), Options(engine="vector", stop_at_first=True))
            for _ in range(2))
    assert summary(a) == summary(b)


# ---- random graphs (the tracer cannot follow their properties: evaluated state by state) ----

@settings(max_examples=60, deadline=None)
@given(digraphs(), st.sampled_from([Limits(), Limits(max_depth=2), Limits(max_states=4)]),
       st.booleans())
def test_random_graphs(case, limits, first):
    _, succ, bad = case
    same_as_explore(systems.graph(succ, bad), limits=limits, stop_at_first=first)


@pytest.mark.parametrize("model", [systems.counter(4, goal=2, limit=3), systems.dead_ends(),
                                   systems.dead_ends(check_deadlock=False), systems.naive_mutex(),
                                   systems.tas_mutex(), systems.ring(5)], ids=repr)
def test_hand_counted_systems(model):
    same_as_explore(model)


# ---- what the engine refuses, and what it hands to the explicit search --------------------

def copy_out_of_domain() -> Model:
    """``copy`` stores ``a`` (up to 3) in ``f`` (0..1): a model error once ``a`` reaches 2."""
    def copy(s):
        s.f = s.a

    return Model("copy", Schema(Var("a", Domain(0, 3)), Var("f", Domain(0, 1))), lambda s: None,
                 [Action("inc", (), lambda s: s.a < 3, lambda s: setattr(s, "a", s.a + 1)),
                  Action("copy", (), lambda s: True, copy)])


def test_a_value_outside_its_domain_is_a_model_error():
    with pytest.raises(ModelError, match="f = 2: not 0..1"):
        explore(copy_out_of_domain(), Options(engine="vector"))


def test_a_model_the_tracer_cannot_follow_is_explored_explicitly():
    r = explore(systems.ring(5, modulo=True), Options(engine="vector"))
    assert r.stats.engine == "interpreted" and r.stats.states == 5


def test_increment_traces_are_the_explicit_ones():
    r = same_as_explore(increment.build(3))
    assert [s.label for s in r.get("no_lost_update").trace.steps] == \
        [s.label for s in explore(increment.build(3)).get("no_lost_update").trace.steps]


# ---- packing and the state set -----------------------------------------------------------

def test_layout_round_trips_every_state_of_tiny():
    model = upcall("tiny")
    layout = Layout(model.schema)
    states = [s for s in _reachable(model)]
    assert layout.unpack_states(layout.pack_states(states)) == states


def _reachable(model):
    seen, todo = {model.initial_states[0]}, [model.initial_states[0]]
    while todo:
        for _, nxt in model.successors(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return sorted(seen)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 2**63 - 1), st.integers(0, 2**64 - 1)),
                         max_size=300), max_size=6))
def test_state_set_says_new_exactly_once(batches):
    import numpy as np
    s, seen = StateSet(2, capacity_bits=2), set()
    for batch in batches:
        batch = list(dict.fromkeys(batch))
        keys = np.array(batch, np.uint64).reshape(len(batch), 2)
        assert s.add(keys).tolist() == [k not in seen for k in batch]
        seen.update(batch)
        assert s.contains(keys).all() and s.count == len(seen)


def test_hash_collisions_change_nothing(monkeypatch):
    """With a hash of 4 bits every batch collides: the whole-key fallbacks must still be exact."""
    import numpy as np
    from ksecheck.checker.explicit import pack, vector

    real = pack.hash_keys
    weak = lambda keys: real(keys) & np.uint64(0xF << 60)  # noqa: E731
    monkeypatch.setattr(pack, "hash_keys", weak)
    monkeypatch.setattr(vector, "hash_keys", weak)
    model = upcall("tiny", "owner_exits_at_userret")
    assert summary(explore(model)) == summary(explore(model, Options(engine="vector", chunk=300)))
