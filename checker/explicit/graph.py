"""Reachable state graphs as data: every state and every edge, in breadth-first order.

:func:`breadth_first` walks any successor function (a model's, or a
relational system's finite instance) and keeps the states in discovery
order and, if asked, every edge. :func:`reachable` is a model's whole graph
with its dead ends classified, as plain picklable data: the report draws it,
and the relational tie compares its states with the relational system's.
Checking properties is :func:`checker.explicit.search.explore`'s job; this
is the graph itself, for small configurations.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterable

from ..core.contract import Model
from .compiled import successor_function
from .ends import Ends


@dataclass
class Reachable:
    """What :func:`breadth_first` found."""

    states: list                     # in discovery order
    transitions: int                 # edges walked
    depth: int
    complete: bool                   # False when a limit stopped the walk
    edges: list[tuple[int, int, object]] = field(default_factory=list)  # (from, to, label)
    seconds: float = 0.0


def breadth_first(initial: Iterable[Hashable],
                  successors: Callable[[Hashable], Iterable[tuple[object, Hashable]]], *,
                  edges: bool = False, max_states: int | None = None,
                  timeout: float | None = None) -> Reachable:
    """Every state reachable from ``initial`` by ``successors(state) -> [(label, next)]``.

    With ``edges`` every edge is kept as ``(from, to, label)`` by state
    number. ``max_states`` and ``timeout`` (seconds) stop the walk early:
    the result then says it is not complete.
    """
    start = time.perf_counter()
    index: dict = {}
    states: list = []
    for s in initial:
        if s not in index:
            index[s] = len(states)
            states.append(s)
    found = Reachable(states, 0, 0, True)
    level_end, n = len(states), 0
    while n < len(states):
        if n == level_end:
            found.depth += 1
            level_end = len(states)
        if (max_states is not None and len(states) >= max_states) or (
                timeout is not None and time.perf_counter() - start > timeout):
            found.complete = False
            break
        for label, nxt in successors(states[n]):
            found.transitions += 1
            if nxt not in index:
                index[nxt] = len(states)
                states.append(nxt)
            if edges:
                found.edges.append((n, index[nxt], label))
        n += 1
    found.seconds = time.perf_counter() - start
    return found


def reachable(model: Model) -> dict:
    """Every reachable state of ``model`` in discovery order, every edge and the dead ends.

    Plain data (picklable): ``states`` (state tuples), ``edges`` (``(from, to,
    step label)`` by state number) and ``ends`` (``{state number: "terminal" |
    "at_bound" | "deadlock"}`` for states with no enabled step).
    """
    succ = successor_function(model)[0]
    labels = [inst.label for inst in model.instances]
    graph = breadth_first(model.initial_states,
                          lambda s: [(labels[i], nxt) for i, nxt in succ(s)], edges=True)
    ends = Ends(model)
    moved = {a for a, _, _ in graph.edges}
    return {"states": graph.states, "edges": graph.edges,
            "ends": {n: ends.kind(s) for n, s in enumerate(graph.states) if n not in moved}}
