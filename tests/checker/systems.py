"""Small test-only transition systems whose state spaces are counted by hand.

Each builder's docstring gives the reachable states, transitions and depth
that the tests assert, derived by hand (not by running the checker).
"""
from __future__ import annotations

from typing import Sequence

from ksecheck.checker import Action, Array, Bool, Domain, Enum, Model, Param, Property, Ref, Schema, Var

SRC = "test system"


def one_var(*, actions=None, properties=(), init=None, domain=None, **kw) -> Model:
    """A model over one variable ``x`` in ``0..3`` with a step ``inc`` (x < 3 -> x += 1)."""
    def inc(s):
        s.x = s.x + 1

    return Model(
        name="one_var",
        schema=Schema(Var("x", domain or Domain(0, 3))),
        init=init if init is not None else (lambda s: None),
        actions=actions if actions is not None else [Action("inc", (), lambda s: s.x < 3, inc)],
        properties=properties,
        **kw,
    )


def counter(n: int, *, goal: int | None = None, limit: int | None = None,
            at_bound: bool = False, terminal: bool = False) -> Model:
    """A counter ``x = 0..n`` with one step ``inc`` while ``x < n``.

    Hand count: n + 1 states (0..n), n transitions, depth n; the single dead
    end is ``x = n``, a deadlock unless ``terminal`` or ``at_bound`` says so.
    ``limit`` adds the invariant ``x < limit``; ``goal`` adds ``sometimes x = goal``.
    """
    def inc(s):
        s.x = s.x + 1

    props = []
    if limit is not None:
        props.append(Property("below_limit", "always", lambda s: s.x < limit, SRC))
    if goal is not None:
        props.append(Property("hits_goal", "sometimes", lambda s: s.x == goal, SRC))
    return Model(
        name="counter",
        schema=Schema(Var("x", Domain(0, n))),
        init=lambda s: None,
        actions=[Action("inc", (), lambda s: s.x < n, inc)],
        properties=props,
        terminal=(lambda s: s.x == n) if terminal else None,
        at_bound=(lambda s: s.x == n) if at_bound else None,
    )


def ring(n: int, *, modulo: bool = False) -> Model:
    """``x := (x + 1) mod n``: n states, n transitions, depth n - 1, no dead end.

    ``modulo`` writes the step with Python's ``%`` instead of a conditional.
    """
    def tick(s):
        if modulo:
            s.x = (s.x + 1) % n
        else:
            s.x = 0 if s.x == n - 1 else s.x + 1

    return Model(name="ring", schema=Schema(Var("x", Domain(0, n - 1))), init=lambda s: None,
                 actions=[Action("tick", (), lambda s: True, tick)])


PHASE = Enum("start", "done", "full", "stuck")


def dead_ends(check_deadlock: bool = True) -> Model:
    """One step ``go(k)`` from ``start`` to ``done``, ``full`` or ``stuck``.

    Hand count: 4 states, 3 transitions, depth 1. Three dead ends: ``done``
    is terminal, ``full`` is at the bound, ``stuck`` is a real deadlock
    (shortest trace: ``go(2)``).
    """
    def go(s, k):
        s.phase = k + 1

    return Model(
        name="dead_ends",
        schema=Schema(Var("phase", PHASE)),
        init=lambda s: None,
        actions=[Action("go", (Param("k", Domain(0, 2)),), lambda s, k: s.phase == 0, go)],
        terminal=lambda s: s.phase == 1,
        at_bound=lambda s: s.phase in (1, 2),  # overlaps terminal on `done`: terminal wins
        check_deadlock=check_deadlock,
    )


PC = Enum("idle", "checked", "crit")


def naive_mutex() -> Model:
    """Two processes; each checks the other's flag, *then* sets its own (not atomic).

    Per process i: ``check(i)`` idle -> checked when ``not flag[1-i]``;
    ``set(i)`` checked -> crit, ``flag[i] := true``; ``exit(i)`` crit -> idle,
    ``flag[i] := false``. ``flag[i]`` is true exactly when ``pc[i] = crit``, so
    a state is the pair (pc0, pc1): all 9 pairs are reachable.
    By BFS level: (i,i) | (c,i) (i,c) | (c,c) (k,i) (i,k) | (k,c) (c,k) | (k,k)
    (i idle, c checked, k crit): depth 4.
    Transitions: a process is disabled only when idle while the other is in
    crit, which happens in (i,k) and (k,i): 7 * 2 + 2 * 1 = 16.
    Mutual exclusion fails; the shortest path to (k,k) has 4 steps, both
    checks before either set (a set blocks the other's check).
    """
    who = Ref.to(2, "p", optional=False)
    i_ = (Param("i", who),)

    def check(s, i):
        s.pc[i] = 1

    def set_(s, i):
        s.flag[i] = 1
        s.pc[i] = 2

    def exit_(s, i):
        s.flag[i] = 0
        s.pc[i] = 0

    return Model(
        name="naive_mutex",
        schema=Schema(Array("pc", 2, PC, "p"), Array("flag", 2, Bool(), "p")),
        init=lambda s: None,
        actions=[
            Action("check", i_, lambda s, i: s.pc[i] == 0 and not s.flag[1 - i], check),
            Action("set", i_, lambda s, i: s.pc[i] == 1, set_),
            Action("exit", i_, lambda s, i: s.pc[i] == 2, exit_),
        ],
        properties=[
            Property("mutex", "always", lambda s: not (s.pc[0] == 2 and s.pc[1] == 2), SRC),
            Property("both_critical", "sometimes", lambda s: s.pc[0] == 2 and s.pc[1] == 2, SRC),
        ],
    )


def tas_mutex() -> Model:
    """Two processes with an atomic test-and-set lock.

    ``acquire(i)``: idle and lock free -> crit, lock taken; ``release(i)``.
    Hand count: 3 states (nobody / p0 / p1 in crit), 4 transitions, depth 1.
    Mutual exclusion holds; ``both_critical`` is never reached (UNREACHED);
    ``someone_critical`` is reached in 1 step.
    """
    who = Ref.to(2, "p", optional=False)
    i_ = (Param("i", who),)

    def acquire(s, i):
        s.lock = 1
        s.crit[i] = 1

    def release(s, i):
        s.lock = 0
        s.crit[i] = 0

    return Model(
        name="tas_mutex",
        schema=Schema(Var("lock", Bool()), Array("crit", 2, Bool(), "p")),
        init=lambda s: None,
        actions=[Action("acquire", i_, lambda s, i: not s.crit[i] and not s.lock, acquire),
                 Action("release", i_, lambda s, i: s.crit[i], release)],
        properties=[
            Property("mutex", "always", lambda s: not (s.crit[0] and s.crit[1]), SRC),
            Property("both_critical", "sometimes", lambda s: s.crit[0] and s.crit[1], SRC),
            Property("someone_critical", "sometimes", lambda s: s.crit[0] or s.crit[1], SRC),
        ],
    )


def graph(succ: Sequence[Sequence[int]], bad: frozenset[int] = frozenset()) -> Model:
    """Walk a digraph from node 0: ``edge(k)`` follows the k-th out-edge of the node.

    ``succ[u]`` lists u's out-neighbours (repeats are parallel edges). With
    ``bad`` nodes: ``avoid_bad`` (always) and ``find_bad`` (sometimes).
    """
    n = len(succ)
    width = max(1, max(len(s) for s in succ))

    def follow(s, k):
        s.node = succ[s.node][k]

    return Model(
        name="graph",
        schema=Schema(Var("node", Domain(0, n - 1))),
        init=lambda s: None,
        actions=[Action("edge", (Param("k", Domain(0, width - 1)),),
                        lambda s, k: k < len(succ[s.node]), follow)],
        properties=[Property("avoid_bad", "always", lambda s: s.node not in bad, SRC),
                    Property("find_bad", "sometimes", lambda s: s.node in bad, SRC)],
    )
