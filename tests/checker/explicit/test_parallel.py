"""The vector engine over several processes gives the one-process result exactly.

Same states, transitions, depth, states per level, dead ends, action
counts, verdicts and traces (label for label, state for state) as
``explore(..., Options(engine="vector", workers=1))``: on the upcall model's ``tiny`` and
``small`` configurations, bug variants, symmetry reduction, every kind of
limit and stop, levels expanded in many rounds, and a hash that sends
every state to one worker.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ksecheck.checker import ModelError, UsageError
from ksecheck.checker.explicit.options import Limits, Options
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.result import Verdict
from ksecheck.registry import catalogue
from ksecheck.model.upcall_symmetry import symmetry

from tests.checker import systems
from tests.checker.explicit.test_explore import digraphs
from tests.checker.explicit.test_vector import copy_out_of_domain

FAMILY = catalogue().family("upcall")


def summary(r):
    """Everything a result says, traces included (labels and states), and the levels."""
    s = r.stats
    return ((s.states, s.transitions, s.depth, s.levels, s.terminal_states, s.at_bound_states,
             s.deadlock_states, s.action_counts, s.complete, s.stopped_by, s.engine),
            [(p.name, p.verdict, p.note, None if p.trace is None else
              ([x.label for x in p.trace.steps], p.trace.states, p.trace.loop))
             for p in r.properties])


def same_as_one_process(model, workers=2, **kw):
    one, many = explore(model, Options(engine="vector", **kw)), explore(model, Options(engine="vector", workers=workers, **kw))
    assert (one.stats.workers, many.stats.workers) == (1, workers)
    assert summary(one) == summary(many)
    return many


def upcall(config, *variants):
    return FAMILY.instantiate(config, list(variants))


@pytest.mark.parametrize("variant, liveness", [(None, False), ("alloc_after_unbind", False),
                                               ("no_wake_parked", True)])
def test_tiny(variant, liveness):
    r = same_as_one_process(upcall("tiny", *filter(None, [variant])), liveness=liveness)
    assert r.stats.complete and r.stats.levels[0] == 1 and sum(r.stats.levels) == r.stats.states
    if liveness:  # no_wake_parked: a lasso where a completed syscall is never delivered
        assert r.get("completed_delivered").verdict is Verdict.VIOLATED


def test_levels_are_those_of_the_explicit_search():
    model = upcall("tiny", "no_wake_parked")
    levels = explore(model, Options(liveness=False)).stats.levels
    assert explore(model, Options(engine="vector", workers=2, liveness=False)).stats.levels == levels


def test_three_workers_and_small_rounds():
    """Levels expanded in many rounds of 16 states per worker, over an odd number of workers."""
    model = upcall("tiny", "owner_exits_at_userret")
    same_as_one_process(model, workers=3, chunk=16, liveness=False)


@pytest.mark.parametrize("kw", [dict(stop_at_first=True),
                                dict(stop_when=("deadlock_free",)),
                                dict(limits=Limits(max_states=500)),
                                dict(limits=Limits(max_states=1)),
                                dict(limits=Limits(max_depth=0)),
                                dict(limits=Limits(max_states=300, max_depth=9), chunk=16)],
                         ids=repr)
def test_limits_and_stops_cut_in_the_same_place(kw):
    r = same_as_one_process(upcall("tiny", "no_wake_parked"), liveness=False, **kw)
    assert not r.stats.complete and r.outcome is not Verdict.HOLDS


def test_a_state_limit_on_small():
    r = same_as_one_process(upcall("small"), liveness=False, limits=Limits(max_states=5_000))
    assert r.stats.states == 5_000 and r.stats.stopped_by == "state limit 5000"
    assert r.outcome is Verdict.INCOMPLETE


@pytest.mark.parametrize("variant", ["alloc_after_unbind", "owner_exits_at_userret"])
def test_first_violation_on_small(variant):
    r = same_as_one_process(upcall("small", variant), stop_at_first=True)
    assert r.violated


@pytest.mark.parametrize("config, variant", [("tiny", "no_wake_parked"), ("small", None)])
def test_symmetry(config, variant):
    model = upcall(config, *filter(None, [variant]))
    r = same_as_one_process(model, symmetry=symmetry(FAMILY.config(config).constants))
    assert r.stats.engine == "vector+symmetry"


@settings(max_examples=20, deadline=None)
@given(digraphs(), st.sampled_from([Limits(), Limits(max_depth=2), Limits(max_states=4)]),
       st.booleans())
def test_random_graphs(case, limits, first):
    """Dead ends, deadlocks and levels where a worker owns nothing."""
    _, succ, bad = case
    same_as_one_process(systems.graph(succ, bad), limits=limits, stop_at_first=first)


def test_runs_are_deterministic():
    model = upcall("small", "owner_exits_at_userret")
    a, b = (explore(model, Options(engine="vector", workers=2, stop_at_first=True, limits=Limits(max_states=5_000)))
            for _ in range(2))
    assert summary(a) == summary(b)


def test_one_worker_owning_every_state(monkeypatch):
    """A 4-bit hash: every state has the same owner and every batch collides."""
    from ksecheck.checker.explicit import pack, parallel, vector

    real = pack.hash_keys
    weak = lambda keys: real(keys) & np.uint64(0xF << 60)  # noqa: E731
    for module in (pack, vector, parallel):
        monkeypatch.setattr(module, "hash_keys", weak)
    same_as_one_process(upcall("tiny", "owner_exits_at_userret"), chunk=64, liveness=False)


def test_a_model_error_in_a_worker_is_raised():
    with pytest.raises(ModelError, match="f = 2: not 0..1"):
        explore(copy_out_of_domain(), Options(engine="vector", workers=2))


def test_a_worker_that_dies_is_an_internal_error(monkeypatch):
    import os

    from ksecheck.checker import CheckerBug
    from ksecheck.checker.explicit import parallel

    real = parallel.Worker.expand

    def expand(self, *args):
        if self.index == 1:
            os._exit(1)
        return real(self, *args)
    monkeypatch.setattr(parallel.Worker, "expand", expand)
    with pytest.raises(CheckerBug, match="worker process died"):
        explore(upcall("tiny"), Options(engine="vector", workers=2, liveness=False))


def test_a_model_the_tracer_cannot_follow_runs_in_one_process():
    r = explore(systems.ring(5, modulo=True), Options(engine="vector", workers=2))
    assert (r.stats.engine, r.stats.workers, r.stats.states) == ("interpreted", 1, 5)


def test_fewer_than_one_worker_is_a_usage_error():
    with pytest.raises(UsageError, match="at least 1"):
        explore(upcall("tiny"), Options(engine="vector", workers=0))
