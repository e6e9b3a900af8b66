"""What an explicit engine gives the one search loop (:mod:`checker.explicit.search`).

The loop owns the levels, the limits, the stop rule, the progress reports,
the parent pointers and the verdicts. An engine owns the states: how a
frontier is stored, how its successors are computed and deduplicated, and
which are new. The loop hands it a level chunk by chunk; for each chunk the
engine answers with an :class:`Expansion`, in which every new state is
named by its *discovery* ``parent * instances + instance`` (``parent`` its
position in the chunk). New states come sorted by discovery, as a
one-state-at-a-time search meets them, so every engine numbers a level the
same way and every result (counts, verdicts, shortest traces) is the same.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..core.contract import Model
from ..core.schema import State
from ..results.trace import Step


@dataclass
class Expansion:
    """What expanding one chunk of a level found.

    ``new``: the states not seen before, sorted by ``disc`` (their least
    discoveries, ascending). ``events``: for each open property (``?goal`` for a
    ``sometimes`` goal), the index in ``new`` of the first state deciding it.
    ``dead``: ``(parent, kind)`` for the chunk's states without successors, in
    order (kinds of :mod:`checker.explicit.ends`). ``transitions`` and ``counts``
    (steps per instance) cover the whole chunk; ``recount(p, d)`` gives them for
    the parents up to ``p`` only (and, with ``d``, the candidates up to discovery
    ``d``), for a search that stops inside the chunk. ``grew``: at the depth
    limit, some successor was not seen before.
    """

    new: Any
    disc: np.ndarray
    events: dict[str, int]
    dead: list[tuple[int, str]]
    transitions: int
    counts: np.ndarray
    recount: Callable[[int, int | None], tuple[int, np.ndarray]]
    grew: bool = False


class Engine:
    """An explicit engine: one strategy behind :func:`checker.explicit.search.explore`."""

    name: str = ""
    """What ``stats.engine`` reports."""
    workers: int = 1
    chunk: int = 1
    """Parents expanded at once (a whole level for the parallel engine)."""
    model: Model
    not_checked: dict[str, str] = {}
    """Properties this engine cannot check, with the reason (reported NOT CHECKED)."""
    no_liveness: str = ""
    """Why this engine cannot check liveness ("" when it can)."""

    @property
    def instances(self) -> int:
        """How many action instances the model has (discoveries are counted in them)."""
        return len(self.model.instances)

    def keep(self) -> None:
        """Keep every level's states: liveness will ask for them (:meth:`unpack`)."""

    def initial(self) -> Any:
        """Level 0: the initial states (their representatives, under symmetry)."""
        raise NotImplementedError

    def size(self, level: Any) -> int:
        """How many states a level (or a part of one) holds."""
        raise NotImplementedError

    def events(self, states: Any, open_: set[str]) -> dict[str, int]:
        """For each name in ``open_``, the index of the first of ``states`` deciding it."""
        raise NotImplementedError

    def expand(self, level: Any, lo: int, hi: int, at_limit: bool, open_: set[str]) -> Expansion:
        """Expand positions ``lo..hi-1`` of ``level``; at the depth limit add nothing."""
        raise NotImplementedError

    def head(self, states: Any, n: int) -> Any:
        """The first ``n`` of ``states``."""
        raise NotImplementedError

    def join(self, parts: Sequence[Any]) -> Any:
        """Parts of a level, in order, as one level."""
        raise NotImplementedError

    def unpack(self, level: Any) -> list[State]:
        """A level's states as state tuples."""
        raise NotImplementedError

    def index(self, states: list[State]) -> dict[State, int]:
        """Each of ``states`` (every state found, in discovery order) with its number."""
        return {s: i for i, s in enumerate(states)}

    def replay(self, first: int, instances: Sequence[int]) -> tuple[State, list[Step]]:
        """The initial state at level-0 position ``first`` and the steps of ``instances``
        from it, as the model makes them (checked against this engine's own successors)."""
        raise NotImplementedError

    def close(self) -> dict[str, Any]:
        """The search is over: what the engine measured (``phases``, ``set_bytes``, ``rss``
        beyond this process); it may free its set of states."""
        return {}

    def release(self) -> None:
        """End whatever the engine still runs (worker processes), however the search ended."""
