"""Traces: printing as diffs, JSON round trip, tampered traces rejected, validation."""
import copy
import json

import pytest

from ksecheck.checker import CheckerBug, TraceError
from ksecheck.checker.results import trace as tracing
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.text import format_state, format_trace
from ksecheck.checker.results.trace import Step, Trace, from_json, to_json
from ksecheck.model.examples import FAMILIES, increment


@pytest.fixture(scope="module")
def model():
    return increment.build(2)


@pytest.fixture(scope="module")
def lost(model):
    """The 4-step lost-update counterexample of inc2."""
    return explore(model).get("no_lost_update").trace


def test_format_shows_numbered_steps_with_only_changed_variables(lost):
    text = format_trace(lost)
    assert text.splitlines() == [
        "Counterexample to no_lost_update (4 steps)",
        "  initial state:",
        "    global: x=0",
        "    t0: pc=0 tmp=0",
        "    t1: pc=0 tmp=0",
        "    1. read(t0)  (tmp := x)",
        "         t0.pc   0 -> 1",  # tmp stays 0: unchanged, so not shown
        "    2. read(t1)  (tmp := x)",
        "         t1.pc   0 -> 1",
        "    3. write(t0)  (x := tmp + 1)",
        "         x       0 -> 1",
        "         t0.pc   1 -> 2",
        "    4. write(t1)  (x := tmp + 1)",
        "         t1.pc   1 -> 2",  # x stays 1: the lost update
        "  violated in the final state: no_lost_update",
    ]


def test_format_state_groups_slots_by_entity(model, lost):
    assert format_state(model, lost.final) == ["global: x=1", "t0: pc=2 tmp=0", "t1: pc=2 tmp=0"]


def test_witness_is_titled_as_such(model):
    t = explore(model).get("all_done").trace
    text = format_trace(t)
    assert text.startswith("Witness for all_done (4 steps)") and "violated" not in text


def test_style_hook_sees_every_role(lost):
    roles = set()
    format_trace(lost, style=lambda text, role: roles.add(role) or text)
    assert roles == {"title", "action", "old", "new", "bad"}


def test_json_round_trip(model, lost):
    data = json.loads(json.dumps(to_json(lost)))
    assert data["format"] == "ksecheck-trace/1"
    assert data["model"] == "increment" and data["goal"] == "no_lost_update"
    assert data["steps"][2] == {"action": "write", "args": {"i": "t0"},
                                "changes": {"x": "1", "t0.pc": "2"}}
    back = from_json(model, data)
    assert back.steps == lost.steps and back.states == lost.states
    assert (back.goal, back.kind) == (lost.goal, lost.kind)
    assert format_trace(back) == format_trace(lost)


def test_save_and_read_round_trip(tmp_path, model, lost):
    path = tmp_path / "t.json"
    tracing.save(lost, path)
    assert from_json(model, tracing.read(path)).states == lost.states


def test_json_names_the_configuration_the_model_came_from():
    meta = {"config": "inc2", "variants": [], "constants": {"threads": 2}}
    model = FAMILIES[0].instantiate("inc2")
    t = explore(model).get("no_lost_update").trace
    data = to_json(t)
    assert {k: data[k] for k in meta} == meta
    assert from_json(model, data).model.origin.config == "inc2"


def _tamper(lost, edit):
    data = copy.deepcopy(to_json(lost))
    edit(data)
    return data


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["steps"][2]["changes"].update(x="2"),
     "step 3: write(t0): the model changes x to 1 but the trace says 2"),
    (lambda d: d["steps"][0]["changes"].pop("t0.pc"),
     "step 1: read(t0): the model changes t0.pc to 1 but the trace says (nothing)"),
    (lambda d: d["steps"][1]["changes"].update({"t1.tmp": "0"}),
     "step 2: read(t1): the model changes t1.tmp to (nothing) but the trace says 0"),
    (lambda d: d["steps"][1].update(action="jump"), "step 2: the model has no action 'jump'"),
    (lambda d: d["steps"][1]["args"].update(i="t7"), "step 2: read needs parameter i (t0..t1); got 't7'"),
    (lambda d: d["steps"][1].update(args={}), "step 2: read needs parameter i"),
    (lambda d: d["steps"].insert(0, d["steps"][2]),
     "step 1: write(t0) is not enabled in the state before it; the trace is stale or was edited"),
    (lambda d: d["steps"].__setitem__(3, "write(t1)"), "step 4: malformed"),
    (lambda d: d["steps"][3].pop("action"), "step 4: malformed"),
    (lambda d: d["initial"].update(x="1"), "initial state is not an initial state of the model"),
    (lambda d: d["initial"].update(x="9"), "x: '9' is not a value of 0..2"),
    (lambda d: d["initial"].pop("t1.tmp"), "missing ['t1.tmp']"),
    (lambda d: d["initial"].update(y="0"), "unknown ['y']"),
    (lambda d: d.pop("initial"), "malformed trace: initial state or steps unreadable"),
    (lambda d: d.pop("steps"), "malformed trace: initial state or steps unreadable"),
    (lambda d: d.update(steps=3), "malformed trace: initial state or steps unreadable"),
])
def test_tampered_trace_is_rejected_naming_the_step(lost, model, edit, message):
    with pytest.raises(TraceError) as exc:
        from_json(model, _tamper(lost, edit))
    assert message in str(exc.value)


def test_a_shortened_trace_still_replays(model, lost):
    data = _tamper(lost, lambda d: d["steps"].pop())
    assert len(from_json(model, data)) == 3


@pytest.mark.parametrize("changes", ["x", ["t0.pc"], 7])
def test_changes_that_are_not_an_object_are_rejected(model, lost, changes):
    data = _tamper(lost, lambda d: d["steps"][0].update(changes=changes))
    with pytest.raises(TraceError, match="step 1"):
        from_json(model, data)


def test_read_rejects_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("{not json")
    with pytest.raises(TraceError, match="is not JSON"):
        tracing.read(path)


def test_read_error_names_the_real_option(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("{not json")
    with pytest.raises(TraceError, match="--save-traces"):
        tracing.read(path)


@pytest.mark.parametrize("content", ['{"format": "ksecheck-trace/2"}', "[1, 2]", '{"steps": []}'])
def test_read_rejects_a_wrong_format_tag(tmp_path, content):
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(TraceError, match=r"is not a ksecheck trace \(expected \"format\": \"ksecheck-trace/1\"\)"):
        tracing.read(path)


def test_read_rejects_a_missing_file(tmp_path):
    with pytest.raises(TraceError, match="cannot read .*nope.json: No such file"):
        tracing.read(tmp_path / "nope.json")


def test_validate_accepts_what_the_checker_built(lost):
    lost.validate()


def test_validate_raises_checker_bug_on_a_trace_that_does_not_replay(model, lost):
    steps = list(lost.steps)
    wrong = tuple(v + 1 if i == 0 else v for i, v in enumerate(steps[2].state))  # x off by one
    steps[2] = Step(steps[2].instance, wrong)
    with pytest.raises(CheckerBug, match="step 3: write"):
        Trace(model, lost.initial, steps, goal=lost.goal).validate()


def test_validate_raises_checker_bug_on_a_disabled_step(model, lost):
    steps = [lost.steps[2], *lost.steps]
    with pytest.raises(CheckerBug, match="step 1: write.t0. is not enabled"):
        Trace(model, lost.initial, steps).validate()


def test_validate_raises_checker_bug_on_a_wrong_initial_state(model, lost):
    with pytest.raises(CheckerBug, match="not an initial state"):
        Trace(model, lost.steps[0].state, lost.steps[1:]).validate()
