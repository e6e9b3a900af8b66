"""Reachable state graphs as data: a networkx graph of every state and edge, DOT text.

:func:`state_graph` keeps every state and edge of a small
configuration (:func:`checker.explicit.graph.reachable`) as a
:class:`networkx.MultiDiGraph` whose nodes are numbered in discovery order; :func:`to_dot` writes it for Graphviz users (Graphviz itself
is not needed: :mod:`reports.svg` lays the graph out).
"""
from __future__ import annotations

from typing import Any

import networkx as nx

from ksecheck.checker.core.schema import State


def state_graph(data: dict[str, Any], initial: list[State]) -> nx.MultiDiGraph:
    """The graph of :func:`checker.explicit.graph.reachable` data; node attributes ``state``, ``end``, ``depth``.

    ``depth`` is the node's BFS level, computed by :func:`networkx.bfs_layers`
    from the ``initial`` states.
    """
    g = nx.MultiDiGraph()
    for n, state in enumerate(data["states"]):
        g.add_node(n, state=state, end=data["ends"].get(n, ""))
    for a, b, label in data["edges"]:
        g.add_edge(a, b, action=label)
    number = {s: n for n, s in enumerate(data["states"])}
    sources = [number[s] for s in initial]
    for depth, layer in enumerate(nx.bfs_layers(g, sources)):
        for n in layer:
            g.nodes[n]["depth"] = depth
    return g


def path_nodes(g: nx.MultiDiGraph, states: list[State]) -> list[int]:
    """The node numbers of a trace's states (initial state first)."""
    number = {d["state"]: n for n, d in g.nodes(data=True)}
    return [number[s] for s in states]


def to_dot(g: nx.MultiDiGraph, name: str, path: list[int], *, extra: set[int] = frozenset(),
           describe=lambda state: "") -> str:
    """Graphviz DOT text: states as points, the ``path`` red and labelled with its steps.

    ``extra`` nodes (states the correct model never reaches) are orange;
    ``describe(state)`` gives the tooltip of the path's states.
    """
    on_path = set(zip(path, path[1:]))
    step_of = {n: i for i, n in enumerate(path)}
    lines = [f"digraph {_q(name)} {{",
             '  graph [rankdir=TB, ranksep=0.3, nodesep=0.05, outputorder=edgesfirst];',
             '  node [shape=point, width=0.05, color="#64748b"];',
             '  edge [color="#94a3b855", arrowsize=0.3];']
    for n, d in g.nodes(data=True):
        attrs = [f"depth={d['depth']}"]
        if n in step_of:
            attrs += ['shape=circle', 'width=0.25', 'fixedsize=true', 'color="#dc2626"',
                      'fontsize=8', f'label="{step_of[n]}"', f"tooltip={_q(describe(d['state']))}"]
        elif d["end"] == "deadlock":
            attrs += ['shape=square', 'width=0.08', 'color="#000000"']
        elif d["end"]:
            attrs += ['color="#2563eb"']
        elif n in extra:
            attrs += ['color="#ea580c"']
        lines.append(f"  {n} [{', '.join(attrs)}];")
    used: set[tuple[int, int]] = set()
    for a, b, d in g.edges(data=True):
        if (a, b) in on_path and (a, b) not in used:
            used.add((a, b))
            lines.append(f'  {a} -> {b} [color="#dc2626", penwidth=3, label={_q(d["action"])}, '
                         f'fontcolor="#dc2626", fontsize=8];')
        else:
            lines.append(f"  {a} -> {b} [tooltip={_q(d['action'])}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
