"""The state-at-a-time engine: successors of one state tuple at a time, a dict of states seen.

Successors come from the source compiled from the traced model
(:mod:`checker.core.compile`) or, for a model the tracer cannot follow, from
the model's own functions (:meth:`Model.successor_indices
<checker.core.contract.Model.successor_indices>`). States are kept as tuples,
in discovery order, for traces and liveness.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..core.compile import compile_predicate, compile_successors
from ..core.contract import Model
from ..core.schema import State
from ..errors import Unsupported
from ..results.trace import Step
from .engine import Engine, Expansion
from .ends import Ends

CHUNK = 1024
"""States expanded between two checks of the limits and the progress clock."""


def successor_function(model: Model, engine: str = "auto"):
    """``(successors, validate, engine used)``; ``successors(state) -> [(instance, next)]``.

    ``validate(state)`` (compiled engine only) raises ModelError if a computed
    value left its domain; the interpreted engine checks every assignment itself.
    """
    if engine in ("auto", "compiled"):
        try:
            return (*compile_successors(model), "compiled")
        except Unsupported:
            if engine == "compiled":
                raise
    return model.successor_indices, None, "interpreted"


class StateEngine(Engine):
    """Compiled (or interpreted) successors of state tuples; a level is a list of tuples."""

    def __init__(self, model: Model, engine: str = "auto", chunk: int | None = None):
        self.model = model
        self.succ, self.valid, self.name = successor_function(model, engine)
        self.chunk = chunk or CHUNK
        self.seen: dict[State, int] = {}  # every state found, numbered in discovery order
        self.ends = Ends(model)
        make: Callable = ((lambda p: compile_predicate(model, p.check, p.name))
                          if self.name == "compiled" else (lambda p: _interpreted(model, p.check)))
        self.checks = {p.name if p.kind == "always" else "?" + p.name: (make(p), p.kind == "always")
                       for p in model.properties if p.kind in ("always", "sometimes")}

    def initial(self) -> list[State]:
        level = list(self.model.initial_states)
        self.seen.update((s, i) for i, s in enumerate(level))
        return level

    def size(self, level: list[State]) -> int:
        return len(level)

    def events(self, states: list[State], open_: set[str]) -> dict[str, int]:
        found = {}
        for name in open_:
            check, invariant = self.checks[name]
            for i, state in enumerate(states):
                if bool(check(state)) != invariant:
                    found[name] = i
                    break
        return found

    def expand(self, level: list[State], lo: int, hi: int, at_limit: bool,
               open_: set[str]) -> Expansion:
        succ, valid, seen, n = self.succ, self.valid, self.seen, self.instances
        new, disc, insts, ends = [], [], [], []
        dead: list[tuple[int, str]] = []
        grew = False
        for p in range(hi - lo):
            state = level[lo + p]
            out = succ(state)
            ends.append(len(insts) + len(out))
            for i, nxt in out:
                insts.append(i)
                if nxt not in seen:
                    if at_limit:  # expand the last allowed level, add nothing beyond it
                        grew = True
                        continue
                    if valid is not None:
                        valid(nxt)
                    seen[nxt] = len(seen)
                    new.append(nxt)
                    disc.append(p * n + i)
            if not out:
                dead.append((p, self.ends.kind(state)))
        inst = np.array(insts, np.int64)

        def recount(p_stop: int, cut_disc: int | None) -> tuple[int, np.ndarray]:
            parent = np.repeat(np.arange(len(ends)), np.diff(ends, prepend=0))
            keep = parent <= p_stop
            transitions = int(np.count_nonzero(keep))
            if cut_disc is not None:
                keep &= parent * n + inst <= cut_disc
            return transitions, np.bincount(inst[keep], minlength=n)
        return Expansion(new, np.array(disc, np.int64), self.events(new, open_), dead, len(insts),
                         np.bincount(inst, minlength=n), recount, grew)

    def head(self, states: list[State], n: int) -> list[State]:
        return states[:n]

    def join(self, parts: Sequence[list[State]]) -> list[State]:
        return [s for part in parts for s in part]

    def unpack(self, level: list[State]) -> list[State]:
        return level

    def index(self, states: list[State]) -> dict[State, int]:
        return self.seen  # numbered as found: the numbering of ``states`` up to any cut

    def replay(self, first: int, instances: Sequence[int]) -> tuple[State, list[Step]]:
        model = self.model
        state = initial = model.initial_states[first]
        steps = []
        for k in instances:
            inst = model.instances[k]
            state = model.apply(inst, state)
            steps.append(Step(inst, state))
        return initial, steps


def _interpreted(model: Model, predicate) -> Callable[[State], object]:
    """A state predicate run on a view of the state, as the model wrote it."""
    view = model.schema.view(model.initial_states[0])

    def check(state: State):
        view._v = state
        return predicate(view)
    return check
