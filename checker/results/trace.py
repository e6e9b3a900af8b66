"""Traces: sequences of steps, replayed through the model before being believed.

A trace is an initial state and a list of steps (an action instance and the
state it leads to). It saves to JSON that :func:`from_json` reads back and
re-validates against the model; :mod:`checker.results.text` prints it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..core.contract import Instance, Model, Origin
from ..core.schema import State
from ..errors import CheckerBug, TraceError
from .files import read_json, whole_number, write_atomic

FORMAT = "ksecheck-trace/1"


@dataclass(frozen=True)
class Step:
    """One step: the instance that fired and the state it reached."""

    instance: Instance
    state: State

    @property
    def label(self) -> str:
        """The step as printed, e.g. ``block(t1)``."""
        return self.instance.label


@dataclass
class Trace:
    """A path from an initial state, ending where ``goal`` is violated or reached."""

    model: Model = field(repr=False)
    initial: State
    steps: list[Step]
    goal: str = ""
    kind: str = "counterexample"  # or "witness"
    loop: int | None = None  # a lasso: the final state is the state after step ``loop``
    note: str = ""

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def states(self) -> list[State]:
        """Every state along the trace, the initial one first."""
        return [self.initial, *(s.state for s in self.steps)]

    @property
    def final(self) -> State:
        """The last state."""
        return self.steps[-1].state if self.steps else self.initial

    def broken_at_end(self) -> list[str]:
        """Every ``always`` property the final state violates."""
        view = self.model.schema.view(self.final)
        return [p.name for p in self.model.properties
                if p.kind == "always" and not p.check(view)]

    def validate(self) -> None:
        """Replay the trace; raise CheckerBug if the model does not produce it."""
        try:
            replay(self.model, self.initial, [(s.instance, s.state) for s in self.steps])
        except TraceError as exc:
            raise CheckerBug(f"a trace built by the checker does not replay: {exc}") from None
        if self.loop is not None and self.states[self.loop] != self.final:
            raise CheckerBug(f"lasso trace for {self.goal} does not return to step {self.loop}")


def replay(model: Model, initial: State, steps: Sequence[tuple[Instance, State]]) -> None:
    """Check that ``initial`` is initial and each step is enabled and reaches its state."""
    if initial not in model.initial_states:
        raise TraceError("the trace's initial state is not an initial state of the model")
    state = initial
    for n, (inst, expected) in enumerate(steps, 1):
        if not model.enabled(inst, state):
            raise TraceError(f"step {n}: {inst.label} is not enabled in the state before it")
        got = model.apply(inst, state)
        if got != expected:
            diffs = model.schema.diff(got, expected)
            name, model_says, trace_says = diffs[0]
            raise TraceError(f"step {n}: {inst.label}: the model sets {name} = {model_says} "
                             f"but the trace says {trace_says}"
                             + (f" (and {len(diffs) - 1} more difference(s))" if len(diffs) > 1 else ""))
        state = got


# ---- JSON -------------------------------------------------------------------

def to_json(trace: Trace) -> dict[str, Any]:
    """A JSON-ready dict: readable initial state, then each step's action and changes."""
    schema = trace.model.schema
    steps, prev = [], trace.initial
    for step in trace.steps:
        inst = step.instance
        steps.append({
            "action": inst.action.name,
            "args": {p.name: p.fmt(a) for p, a in zip(inst.action.params, inst.args)},
            "changes": {name: new for name, _, new in schema.diff(prev, step.state)},
        })
        prev = step.state
    origin = trace.model.origin
    named = ({"config": origin.config, "variants": list(origin.variants),
              "constants": dict(origin.constants)} if origin is not None else {})
    out = {"format": FORMAT, **named, "model": trace.model.name, "kind": trace.kind,
           "goal": trace.goal, "initial": schema.readable(trace.initial), "steps": steps}
    if trace.loop is not None:
        out.update(loop=trace.loop, note=trace.note)
    return out


def save(trace: Trace, path: str | Path) -> None:
    """Write the trace as JSON to ``path``, replacing it all at once."""
    write_atomic(path, json.dumps(to_json(trace), indent=1) + "\n")


def read(path: str | Path) -> dict[str, Any]:
    """Read a saved trace file's JSON; TraceError if it is not one."""
    data = read_json(path, "a file written by `ksecheck check --save-traces`", TraceError)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceError(f"{path} is not a ksecheck trace (expected \"format\": \"{FORMAT}\")")
    return data


def origin(data: dict[str, Any]) -> Origin:
    """Where a saved trace says it comes from: its model (``family``, "" if unnamed),
    configuration, variants and constants (empty if unsaid); TraceError if malformed."""
    model, config = data.get("model", ""), data.get("config")
    if not isinstance(config, str) or not isinstance(model, str):
        raise TraceError("the trace must name its \"model\" and \"config\" as strings")
    variants = data.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        raise TraceError("\"variants\" must be a list of names")
    constants = data.get("constants", {})
    if not isinstance(constants, dict) or not all(whole_number(v) for v in constants.values()):
        raise TraceError("\"constants\" must be an object {name: whole number}")
    return Origin(model, config, tuple(variants), constants)


def from_json(model: Model, data: dict[str, Any]) -> Trace:
    """Rebuild and replay a trace from :func:`to_json` data; TraceError where it stops matching.

    Every field is checked for its type; the steps must replay. What the trace
    claims (that its end violates or reaches ``goal``) is for the caller to check.
    """
    schema = model.schema
    raw_steps, loop = data.get("steps"), data.get("loop")
    if not isinstance(data.get("initial"), dict) or not isinstance(raw_steps, list):
        raise TraceError("malformed trace: initial state or steps unreadable (need \"initial\": "
                         "{variable: value} and \"steps\": [...])")
    kind, goal = data.get("kind", "counterexample"), data.get("goal", "")
    note = data.get("note", "")
    if kind not in ("counterexample", "witness"):
        raise TraceError(f"\"kind\" must be \"counterexample\" or \"witness\"; got {kind!r}")
    if not isinstance(goal, str) or not isinstance(note, str):
        raise TraceError("\"goal\" and \"note\" must be strings")
    if loop is not None and not (whole_number(loop) and 0 <= loop <= len(raw_steps)):
        raise TraceError(f"\"loop\" must be a step number 0..{len(raw_steps)}; got {loop!r}")
    try:
        initial = schema.parse(data["initial"])
    except ValueError as exc:
        raise TraceError(f"malformed trace: initial state unreadable ({exc})") from None
    if initial not in model.initial_states:
        raise TraceError("the trace's initial state is not an initial state of the model "
                         "(wrong configuration, or the model changed since the trace was saved)")
    steps: list[Step] = []
    state = initial
    for n, raw in enumerate(raw_steps, 1):
        inst, said = _instance(model, n, raw)
        if not model.enabled(inst, state):
            raise TraceError(f"step {n}: {inst.label} is not enabled in the state before it; "
                             "the trace is stale or was edited")
        nxt = model.apply(inst, state)
        got = {name: new for name, _, new in schema.diff(state, nxt)}
        if got != said:
            bad = sorted(set(got) ^ set(said) | {k for k in got if k in said and got[k] != said[k]})
            k = bad[0]
            raise TraceError(f"step {n}: {inst.label}: the model changes "
                             f"{k} to {got.get(k, '(nothing)')} but the trace says {said.get(k, '(nothing)')}")
        steps.append(Step(inst, nxt))
        state = nxt
    trace = Trace(model, initial, steps, goal=goal, kind=kind, loop=loop, note=note)
    if loop is not None and trace.states[loop] != trace.final:
        raise TraceError(f"the trace claims to loop back to step {loop}, but its final state differs")
    return trace


def _strings(value: Any) -> bool:
    """Whether a JSON value is an object of strings."""
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _instance(model: Model, n: int, raw: Any) -> tuple[Instance, dict[str, str]]:
    """Step ``n``'s instance and the changes it records."""
    if not isinstance(raw, dict) or not isinstance(raw.get("action"), str) \
            or not _strings(raw.get("args", {})):
        raise TraceError(f"step {n}: malformed (need {{\"action\": ..., \"args\": {{...}}, \"changes\": {{...}}}})")
    said = raw.get("changes", {})
    if not _strings(said):
        raise TraceError(f"step {n}: \"changes\" must be an object {{variable: new value}}")
    name, args = raw["action"], raw.get("args", {})
    action = next((a for a in model.actions if a.name == name), None)
    if action is None:
        raise TraceError(f"step {n}: the model has no action {name!r}")
    values = []
    for p in action.params:
        try:
            values.append(p.domain.parse(args[p.name]))
        except (KeyError, ValueError):
            raise TraceError(f"step {n}: {name} needs parameter {p.name} "
                             f"({p.domain.describe()}); got {args.get(p.name)!r}") from None
    return Instance(action, tuple(values)), said
