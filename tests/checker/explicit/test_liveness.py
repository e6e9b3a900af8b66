"""Leads-to under weak and strong fairness on small hand-made systems."""
import pytest

from ksecheck.checker import Action, Bool, Model, ModelError, Param, Property, Ref, Schema, Var
from ksecheck.checker.explicit.options import Limits, Options
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.result import Verdict
from ksecheck.checker.results.trace import from_json, to_json


def _set(name, value):
    return lambda s: setattr(s, name, value)


def server(fairness, done_after_grant=False):
    """A client requests; a server grants when not busy; something toggles busy.

    States (req, busy, done): with weak fairness of grant, toggling busy
    forever starves the request, since grant is never continuously enabled;
    strong fairness forbids that.
    """
    schema = Schema(Var("req", Bool()), Var("busy", Bool()), Var("done", Bool()))
    actions = [
        Action("request", (), lambda s: not s.req and not s.done, _set("req", 1)),
        Action("grant", (), lambda s: s.req and not s.busy,
               lambda s: (setattr(s, "req", 0), setattr(s, "done", int(done_after_grant)))[0]),
        Action("toggle", (), lambda s: not s.done, lambda s: setattr(s, "busy", 1 - s.busy)),
    ]
    prop = Property("granted", "eventually", lambda s: not s.req, "test",
                    trigger=lambda s: s.req, fairness=fairness)
    return Model("server", schema, lambda s: None, actions, [prop],
                 terminal=lambda s: s.done)


def test_strong_fairness_holds_and_weak_fails_with_a_fair_lasso():
    assert explore(server((("strong", "grant"),))).get("granted").verdict is Verdict.HOLDS
    r = explore(server((("weak", "grant"),))).get("granted")
    assert r.verdict is Verdict.VIOLATED
    t = r.trace
    assert t.loop is not None and t.states[t.loop] == t.final
    cycle = [s.label for s in t.steps[t.loop:]]
    assert "grant()" not in cycle and cycle.count("toggle()") == 2


def test_no_fairness_lets_the_system_ignore_the_request():
    r = explore(server(())).get("granted")
    assert r.verdict is Verdict.VIOLATED
    assert all(s.label == "toggle()" for s in r.trace.steps[r.trace.loop:])


def test_lasso_round_trips_through_json():
    model = server((("weak", "grant"),))
    t = explore(model).get("granted").trace
    back = from_json(model, to_json(t))
    assert back.loop == t.loop and back.states == t.states


def counter(stuck_state_is_bound):
    """x counts 0..2 and stops; the goal x = 2 is due from the start.

    A variant stops at 1 instead: the execution then stutters at x = 1 for
    ever (a liveness failure) unless x = 1 is declared at the bound.
    """
    schema = Schema(Var("x", Ref.to(3, "", optional=False)), Var("broken", Bool()))

    def inc(s):
        s.x = s.x + 1
    acts = [Action("inc", (), lambda s: s.x < 2 and not (s.broken and s.x == 1), inc)]
    prop = Property("reaches_two", "eventually", lambda s: s.x == 2, "test",
                    trigger=lambda s: s.x == 0, fairness=(("weak", "inc"),))
    return Model("counter", schema, [lambda s: None, _set("broken", 1)], acts, [prop],
                 terminal=lambda s: s.x == 2,
                 at_bound=(lambda s: s.broken == 1) if stuck_state_is_bound else None)


def test_stuttering_in_a_dead_end_fails_but_not_at_the_bound():
    r = explore(counter(False)).get("reaches_two")
    assert r.verdict is Verdict.VIOLATED
    assert r.trace.loop == len(r.trace.steps)  # stays in its last state forever
    assert explore(counter(True)).get("reaches_two").verdict is Verdict.HOLDS


def test_parameterised_goal_reports_the_failing_parameter():
    schema = Schema(Var("sent", Ref.to(2, "m")))
    acts = [Action("send", (Param("m", Ref.to(2, "m", optional=False)),),
                   lambda s, m: s.sent == -1, lambda s, m: setattr(s, "sent", m)),
            Action("spin", (), lambda s: True, lambda s: None)]
    prop = Property("delivered", "eventually", lambda s, m: s.sent != m or m == 0, "test",
                    trigger=lambda s, m: s.sent == m, params=(Param("m", Ref.to(2, "m", optional=False)),),
                    fairness=(("weak", "spin"),))
    r = explore(Model("p", schema, _set("sent", -1), acts, [prop])).get("delivered")
    assert r.verdict is Verdict.VIOLATED and "m=m1" in r.trace.note


def test_incomplete_search_leaves_liveness_open():
    r = explore(server((("strong", "grant"),)), Options(limits=Limits(max_states=2))).get("granted")
    assert r.verdict is Verdict.INCOMPLETE


def test_malformed_liveness_properties_are_rejected():
    with pytest.raises(ModelError, match="trigger"):
        Property("x", "eventually", lambda s: True, "src")
        Model("m", Schema(Var("b", Bool())), lambda s: None, [],
              [Property("x", "eventually", lambda s: True, "src")])
    with pytest.raises(ModelError, match="unknown action"):
        server((("weak", "no_such_action"),))
    with pytest.raises(ModelError, match="weak"):
        server((("sometimes", "grant"),))


def test_weak_fairness_of_a_continuously_enabled_step_forces_it():
    """``spin`` can loop forever, but ``finish`` stays enabled; weak fairness makes it fire."""
    schema = Schema(Var("done", Bool()), Var("phase", Bool()))
    acts = [Action("spin", (), lambda s: not s.done, lambda s: setattr(s, "phase", 1 - s.phase)),
            Action("finish", (), lambda s: not s.done, _set("done", 1))]

    def model(fairness):
        prop = Property("finishes", "eventually", lambda s: s.done, "test",
                        trigger=lambda s: True, fairness=fairness)
        return Model("w", schema, lambda s: None, acts, [prop], terminal=lambda s: s.done)
    assert explore(model((("weak", "finish"),))).get("finishes").verdict is Verdict.HOLDS
    assert explore(model(())).get("finishes").verdict is Verdict.VIOLATED
