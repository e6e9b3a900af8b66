"""Leads-to properties under weak and strong fairness, on the explored graph.

A property ``p ~> q`` fails when some reachable state satisfies ``p`` and
not ``q``, and from it an execution continues forever without ``q`` while
being fair. Such an execution ends in a strongly connected set of ``not q``
states in which every fair action that stays enabled is also taken (a fair
cycle), or in a state with no enabled step at all, where it stutters for
ever. At-bound states (no step enabled only because the configuration ran
out of slots) are not counted as stuttering: the bound, not the protocol,
stopped them there.

Strong fairness is handled as in Emerson-Lei: a component in which a
strongly fair action is enabled somewhere but never taken is pruned of the
states enabling it, and its sub-components are searched again.
"""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import Callable

import networkx as nx

from ..core.contract import Model, Property
from ..core.schema import State
from ..results.trace import Step, Trace
from .ends import Ends


@dataclass
class Graph:
    """The explored states with BFS parent pointers and the successor function."""

    model: Model
    states: list[State]
    index: dict[State, int]
    parent: list[int]
    via: list[int]
    successors: Callable[[State], list[tuple[int, State]]]


def check_leads_to(g: Graph, prop: Property) -> Trace | None:
    """A lasso counterexample to ``prop`` (kind ``eventually``), or None if it holds."""
    model = g.model
    view = model.schema.view(g.states[0])
    groups = _fairness_groups(model, prop)
    ends = Ends(model)
    for args in itertools.product(*(p.domain.values() for p in prop.params)):
        def goal(sid: int) -> bool:
            view._v = g.states[sid]
            return bool(prop.check(view, *args))

        def due(sid: int) -> bool:
            view._v = g.states[sid]
            return bool(prop.trigger(view, *args)) and not prop.check(view, *args)

        trace = _lasso(g, prop, groups, goal, due, args, ends)
        if trace is not None:
            return trace
    return None


def _fairness_groups(model: Model, prop: Property) -> list[tuple[str, object] | None]:
    """Per instance: its fairness group ``(kind, (action, first arg))`` or None."""
    kinds = {}
    for kind, action in prop.fairness:
        if kinds.get(action) != "strong":
            kinds[action] = kind
    out = []
    for inst in model.instances:
        kind = kinds.get(inst.action.name)
        key = (inst.action.name, inst.args[0] if inst.args else None)
        out.append((kind, key) if kind else None)
    return out


def _lasso(g: Graph, prop, groups, goal, due, args, ends: Ends) -> Trace | None:
    # Region: "not goal" states reachable from a due state through "not goal" states.
    origin: dict[int, int] = {}
    queue = deque()
    for sid in range(len(g.states)):
        if due(sid):
            origin[sid] = -1
            queue.append(sid)
    if not queue:
        return None
    edges: dict[int, list[tuple[int, int]]] = {}
    while queue:
        sid = queue.popleft()
        out = [(i, g.index[nxt]) for i, nxt in g.successors(g.states[sid])]
        edges[sid] = out
        for _, dst in out:
            if dst not in origin and not goal(dst):
                origin[dst] = sid
                queue.append(dst)
    for sid in sorted(edges):
        if not edges[sid] and ends.stutters(g.states[sid]):
            return _build(g, prop, origin, sid, [], args, "stutters")
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(edges))
    for src in sorted(edges):
        graph.add_edges_from((src, dst) for _, dst in edges[src] if dst in edges)
    cycle = _fair_component(graph, edges, groups)
    if cycle is None:
        return None
    entry = min(cycle)
    return _build(g, prop, origin, entry, _cycle(edges, groups, cycle, entry), args, "loops")


def _fair_component(graph: nx.DiGraph, edges, groups) -> set[int] | None:
    """A node set containing a fair cycle, or None (Emerson-Lei pruning)."""
    for comp in sorted(nx.strongly_connected_components(graph), key=min):
        if len(comp) == 1:
            (v,) = comp
            if not graph.has_edge(v, v):
                continue
        taken, enabled_some, enabled_all = set(), set(), None
        for v in comp:
            here = {groups[i] for i, _ in edges[v] if groups[i] is not None}
            enabled_some |= here
            enabled_all = here if enabled_all is None else enabled_all & here
            taken |= {groups[i] for i, dst in edges[v] if dst in comp and groups[i] is not None}
        if any(grp[0] == "weak" and grp not in taken for grp in (enabled_all or ())):
            continue  # a weakly fair action stays enabled and is never taken
        starved = {grp for grp in enabled_some if grp[0] == "strong" and grp not in taken}
        if not starved:
            return comp
        keep = [v for v in comp if not any(groups[i] in starved for i, _ in edges[v])]
        found = _fair_component(graph.subgraph(keep), edges, groups)
        if found is not None:
            return found
    return None


def _cycle(edges, groups, comp: set[int], entry: int) -> list[tuple[int, int]]:
    """A cycle from ``entry`` inside ``comp`` taking one edge of every fair group taken there."""
    wanted: dict[object, tuple[int, int, int]] = {}
    for v in sorted(comp):
        for i, dst in edges[v]:
            if dst in comp and groups[i] is not None and groups[i] not in wanted:
                wanted[groups[i]] = (v, i, dst)
    if not wanted:  # no fairness involved: any edge inside the component closes a loop
        v = min(comp)
        i, dst = next((i, d) for i, d in edges[v] if d in comp)
        wanted[None] = (v, i, dst)
    path: list[tuple[int, int]] = []
    cur = entry
    for src, i, dst in wanted.values():
        path += _path_within(edges, comp, cur, src)
        path.append((i, dst))
        cur = dst
    path += _path_within(edges, comp, cur, entry)
    return path


def _path_within(edges, comp, src: int, dst: int) -> list[tuple[int, int]]:
    """Shortest path src -> dst inside comp as (instance, state) steps."""
    if src == dst:
        return []
    back = {src: None}
    queue = deque([src])
    while queue:
        v = queue.popleft()
        for i, w in edges[v]:
            if w in comp and w not in back:
                back[w] = (v, i)
                if w == dst:
                    steps = []
                    while back[w] is not None:
                        v, i = back[w]
                        steps.append((i, w))
                        w = v
                    return steps[::-1]
                queue.append(w)
    raise AssertionError("component is not strongly connected")


def _build(g: Graph, prop, origin, entry: int, cycle, args, how: str) -> Trace:
    """Prefix (init -> due state -> entry) then the cycle, as a validated Trace."""
    inside = []
    v = entry
    while origin[v] != -1:
        inside.append(v)
        v = origin[v]
    due_state = v
    prefix_ids = []
    while g.parent[v] >= 0:
        prefix_ids.append(v)
        v = g.parent[v]
    steps = [Step(g.model.instances[g.via[s]], g.states[s]) for s in reversed(prefix_ids)]
    prev = due_state
    for s in reversed(inside):
        inst = next(i for i, nxt in g.successors(g.states[prev]) if g.index[nxt] == s)
        steps.append(Step(g.model.instances[inst], g.states[s]))
        prev = s
    loop = len(steps)
    steps += [Step(g.model.instances[i], g.states[s]) for i, s in cycle]
    label = ", ".join(f"{p.name}={p.fmt(a)}" for p, a in zip(prop.params, args))
    trace = Trace(g.model, g.states[v], steps, goal=prop.name, kind="counterexample",
                  loop=loop, note=(f"for {label}: " if label else "")
                  + ("no step is enabled: the execution stays here forever" if how == "stutters"
                     else "the steps after the loop point repeat forever, fairly"))
    trace.validate()
    return trace
