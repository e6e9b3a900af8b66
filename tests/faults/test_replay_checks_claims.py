"""``replay`` believes a trace only if it shows what it claims; names from the file are
printed escaped.

Each trace here replays step by step: only its claim is wrong. A counterexample must end
where its property is violated, a witness where its goal holds, a lasso in a fair loop (or
a dead end) where its goal, once due, never happens.
"""
import json

import pytest

from tests.faults.commands import one_line, run


@pytest.fixture
def saved(capsys, tmp_path):
    """``saved(config)``: the JSON of the traces ``check --save-traces`` writes for ``config``,
    by property; ``saved.replay(data)`` replays it and returns (code, out, err)."""
    class Saved:
        def __call__(self, config):
            run(capsys, "check", "--config", config, "--save-traces", tmp_path / config)
            return {p.stem: json.loads(p.read_text()) for p in (tmp_path / config).iterdir()}

        def replay(self, data):
            path = tmp_path / "edited.json"
            path.write_text(json.dumps(data))
            return run(capsys, "replay", path)
    return Saved()


def test_every_trace_check_writes_replays_with_its_claim(saved):
    for config in ("inc2", "server", "spin", "counter", "stuck"):
        for name, data in saved(config).items():
            code, out, err = saved.replay(data)
            assert code == 0 and err == "", (config, name, err)
            assert "The trace replays" in out


def _grant_on_the_loop(data):
    """request, grant, request: back to the state after the first request, granted on the way."""
    request = data["steps"][0]
    data["steps"] = [request, {"action": "grant", "args": {}, "changes": {"req": "false"}}, request]


def _a_witness_one_step_short(data):
    data.update(kind="witness", goal="all_done")
    data["steps"].pop()


@pytest.mark.parametrize("config, goal, edit, says", [
    ("inc2", "no_lost_update", lambda d: d["steps"].pop(),
     "its last state satisfies no_lost_update: the trace shows no violation"),
    ("inc2", "no_lost_update", lambda d: d.update(steps=[]),
     "its last state satisfies no_lost_update"),
    ("inc2", "no_lost_update", lambda d: d.update(goal="no_lost_updates"),
     "the trace is for 'no_lost_updates', which is not a property of model increment"),
    ("inc2", "no_lost_update", lambda d: d.update(goal="deadlock_free"),
     "the trace claims a deadlock, but its last state is terminal, not a deadlock"),
    ("inc2", "no_lost_update", lambda d: d.update(goal="all_done"),
     "all_done is a goal: its traces are witnesses without a loop, not a counterexample"),
    ("inc2", "no_lost_update", lambda d: d.update(kind="witness"),
     "no_lost_update is an invariant: its traces are counterexamples without a loop, not a "
     "witness"),
    ("inc2", "no_lost_update", lambda d: d.update(kind="proof"),
     "\"kind\" must be \"counterexample\" or \"witness\""),
    ("inc2", "no_lost_update", lambda d: d.update(loop=4),
     "its traces are counterexamples without a loop, not a counterexample with a loop"),
    ("inc2", "no_lost_update", lambda d: d.update(loop=True),
     "\"loop\" must be a step number 0..4; got True"),
    ("inc2", "no_lost_update", lambda d: d.update(goal=7),
     "\"goal\" and \"note\" must be strings"),
    ("inc2", "no_lost_update", _a_witness_one_step_short,
     "its last state does not reach all_done: the trace is no witness"),
    ("stuck", "deadlock_free", lambda d: d["steps"].pop(),
     "the trace claims a deadlock, but go() is enabled in its last state"),
    ("server", "granted", lambda d: d.update(goal="deadlock_free"),
     "a trace for deadlock_free is a counterexample without a loop"),
    ("server", "granted", lambda d: d.update(loop=0),
     "claims to loop back to step 0, but its final state differs"),
    ("server", "granted", _grant_on_the_loop,
     "claims that granted never happens once due, but does it fall due and then never happen"),
    ("stuck", "arrives", lambda d: d.update(steps=[], loop=0),
     "claims to stay in its last state forever, but go() is enabled there"),
])
def test_a_trace_that_does_not_show_its_claim_exits_2(saved, config, goal, edit, says):
    data = saved(config)[goal]
    edit(data)
    code, out, err = saved.replay(data)
    assert code == 2 and out == ""
    assert says in one_line(err)


def test_a_counterexample_that_ends_where_every_thread_is_done_is_also_a_witness(saved):
    data = saved("inc2")["no_lost_update"]
    data.update(kind="witness", goal="all_done")
    assert saved.replay(data)[0] == 0


@pytest.mark.parametrize("config, goal, other, says", [
    ("server", "granted", "server-strong",  # grant is enabled whenever busy is false
     "the loop is not fair: grant is strongly fair and enabled on the loop but never taken"),
    ("spin", "finishes", "spin-fair",
     "the loop is not fair: finish is weakly fair and enabled all around the loop but never "
     "taken"),
    ("counter", "reaches_two", "counter-bound",
     "claims to stay in its last state forever, but that state is at the configuration's bound"),
])
def test_a_lasso_must_be_fair_and_end_where_the_protocol_stops(saved, config, goal, other, says):
    """A lasso of one configuration is no counterexample in another that differs only in
    fairness (the loop starves a fair step) or in its bound (the dead end is at the bound)."""
    data = saved(config)[goal]
    data["config"] = other
    code, _, err = saved.replay(data)
    assert code == 2 and says in one_line(err)


def test_names_from_the_file_are_escaped(saved):
    data = saved("server")["granted"]
    data["note"] = "fair\x1b[2J\x1b]0;owned\x07 loop\nnext line"
    code, out, _ = saved.replay(data)
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "fair\\x1b[2J\\x1b]0;owned\\x07 loop\\nnext line" in out
    data["goal"] = "granted\x1b[31m"
    code, out, err = saved.replay(data)
    assert code == 2 and "\x1b" not in err and "'granted\\x1b[31m'" in one_line(err)


@pytest.mark.parametrize("edit, says", [
    (lambda d: d.update(constants={"threads": "2"}), "\"constants\" must be an object"),
    (lambda d: d.update(constants={"threads": 3}), "saved with the constants {'threads': 3}"),
    (lambda d: d["steps"][0].update(args={"i": 0}), "step 1: malformed"),
    (lambda d: d["steps"][0].update(action=["read"]), "step 1: malformed"),
    (lambda d: d["steps"][0]["changes"].update({"t0.pc": 1}), "\"changes\" must be an object"),
    (lambda d: d["initial"].update(x=0), "x: value 0 must be a string"),
    (lambda d: d.update(initial=[]), "malformed trace: initial state or steps unreadable"),
])
def test_every_field_is_checked_for_its_type(saved, edit, says):
    data = saved("inc2")["no_lost_update"]
    edit(data)
    code, _, err = saved.replay(data)
    assert code == 2 and says in one_line(err)
