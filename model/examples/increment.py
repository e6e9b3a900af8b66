"""Two threads increment a shared counter without a lock: the lost update.

Pseudocode, per thread ``i`` (``x`` shared, ``tmp`` local)::

    tmp := x          -- step read(i)
    x := tmp + 1      -- step write(i)

Atomic steps: ``read(i)`` when ``pc[i] = 0``; ``write(i)`` when ``pc[i] = 1``.
Reachable states with two threads, counted by hand as (x, pc0, pc1, tmp0,
tmp1): 1 initial; 2 with one thread read; 1 with both read; 2 with one done
and the other not started; 2 with one done and the other having read 0
before the write; 2 with one done and the other having read 1 after it;
1 with both done and x = 1 (the lost update); 2 with both done and x = 2:
13 states, depth 4 (see ``tests/model/test_examples.py`` for the enumeration). The invariant
``x = 2 when both are done`` fails: read(t0), read(t1), write(t0), write(t1)
is the shortest counterexample (4 steps).
"""
from ksecheck.checker import Action, Array, Model, Param, Property, Ref, Schema, Var
from ksecheck.checker.core.domains import Domain

DONE = 2


def build(threads: int = 2, locked: bool = False) -> Model:
    """The increment system for ``threads`` threads; ``locked`` makes each increment atomic."""
    who = Ref.to(threads, "t", optional=False)
    schema = Schema(
        Var("x", Domain(0, threads), doc="the shared counter"),
        Array("pc", threads, Domain(0, DONE), "t", doc="0 before read, 1 after read, 2 done"),
        Array("tmp", threads, Domain(0, threads), "t", doc="the value the thread read"),
    )

    def read(s, i):
        s.tmp[i] = s.x
        s.pc[i] = 1
        if locked:
            s.x = s.tmp[i] + 1
            s.pc[i] = DONE

    def write(s, i):
        s.x = s.tmp[i] + 1
        s.pc[i] = DONE

    def all_done(s):
        return all(p == DONE for p in s.pc)

    return Model(
        name="increment",
        schema=schema,
        init=lambda s: None,
        actions=[
            Action("read", (Param("i", who),), lambda s, i: s.pc[i] == 0, read,
                   doc="tmp := x"),
            Action("write", (Param("i", who),), lambda s, i: s.pc[i] == 1, write,
                   doc="x := tmp + 1"),
        ],
        properties=[
            Property("no_lost_update", "always",
                     lambda s: not all_done(s) or s.x == threads,
                     source="the specification of a counter"),
            Property("all_done", "sometimes", all_done, source="progress"),
        ],
        terminal=all_done,
    )


