"""Why a state has no enabled step: the one end-state classifier of every engine."""
from __future__ import annotations

from ..core.compile import compile_predicate
from ..core.contract import Model
from ..core.schema import State

TERMINAL, AT_BOUND, DEADLOCK_END = "terminal", "at_bound", "deadlock"
"""The kinds of dead end: a finished run, a run stopped by the configuration's bounds
(it ran out of slots), and a deadlock (neither)."""


class Ends:
    """Classifies states without successors with the model's ``terminal`` and ``at_bound``."""

    def __init__(self, model: Model):
        self.terminal = (compile_predicate(model, model.terminal, "terminal")
                         if model.terminal is not None else None)
        self.at_bound = (compile_predicate(model, model.at_bound, "at_bound")
                         if model.at_bound is not None else None)

    def kind(self, state: State) -> str:
        """``terminal``, ``at_bound`` or ``deadlock`` for a state with no enabled step."""
        if self.terminal is not None and self.terminal(state):
            return TERMINAL
        if self.at_bound is not None and self.at_bound(state):
            return AT_BOUND
        return DEADLOCK_END

    def stutters(self, state: State) -> bool:
        """Whether an execution that stops in ``state`` (no enabled step) stays there for
        ever: every dead end but one at the configuration's bound."""
        return self.at_bound is None or not self.at_bound(state)
