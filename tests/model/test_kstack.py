"""Tests of the kernel-stack model (``model/kstack.py``, ``properties/kstack.py``).

Per-step guard and effect tests on hand-built states, the properties on
hand-built broken states, then full searches: both correct configurations
verify, each variant is violated with a shortest counterexample. The state
counts, transitions, depths and counterexample lengths pinned here are
regression data (section 4 of the reference model): a model change that
moves them must say why.
"""
import pytest

from ksecheck.checker import NONE, ModelError
from ksecheck.checker.explicit.options import Options
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.result import DEADLOCK, Verdict
from ksecheck.checker.results.text import format_trace
from ksecheck.model.kstack import (CACHED, CONTIGMALLOC_FAILED, EXITED, INUSE,
                                   KMEM_FREE_WITHOUT_GIANT, NO_PANIC, NOBODY, UMA_DRAIN, UNALLOC)
from ksecheck.registry import KSTACK as FAMILY

from .states import edit, enabled, holds, read, step

T3 = {"T": 3}
IA64 = {"contigmalloc": True, "prealloc": True}
INVARIANTS = ["kmem_free_under_giant", "no_alloc_panic", "stack_accounting",
              "constructed_has_stack"]
ACTIONS = ["thread_alloc", "fragment", "thread_exit", "reap", "drain", "free_stack", "drain_done"]


@pytest.fixture(scope="module")
def i386():
    return FAMILY.model(T3)


@pytest.fixture(scope="module")
def ia64():
    return FAMILY.model(T3, frozenset(), IA64)


def inuse(m, s, t):
    """``t`` constructed with a stack and running (kmem counts it)."""
    v = read(m, s)
    return edit(m, s, obj={t: INUSE}, stack={t: 1}, kmem=v.kmem + 1)


# -- initial states and the family --------------------------------------------

def test_initial_states(i386, ia64):
    v = read(i386, i386.initial_states[0])
    assert len(i386.initial_states) == 1
    assert list(v.obj) == [UNALLOC] * 3 and list(v.stack) == [0] * 3
    assert (v.kmem, v.giant, v.dtor, v.panic, v.fragmented) == (0, NOBODY, NONE, NO_PANIC, 0)
    w = read(ia64, ia64.initial_states[0])
    assert list(w.obj) == [CACHED] * 3 and list(w.stack) == [1] * 3 and w.kmem == 3
    for name in INVARIANTS:
        assert holds(i386, name, i386.initial_states[0])
        assert holds(ia64, name, ia64.initial_states[0])


def test_family_declares_configs_and_variants():
    assert FAMILY.default_config == "kstack"
    assert [c.name for c in FAMILY.configs] == ["kstack", "kstack-ia64"]
    assert dict(FAMILY.config("kstack-ia64").options) == IA64
    assert {v.name: v.violates for v in FAMILY.variants} == {
        "free_stack_in_exit": ("kmem_free_under_giant",), "no_prealloc": ("no_alloc_panic",)}
    for v in FAMILY.variants:
        assert v.history.startswith("seed: ")
    for a in FAMILY.instantiate("kstack").actions:
        assert a.source and a.doc


def test_build_rejects_bad_input():
    with pytest.raises(ModelError, match="T >= 1"):
        FAMILY.model({})
    with pytest.raises(ModelError, match="unknown variant"):
        FAMILY.model(T3, frozenset({"nope"}))
    with pytest.raises(ModelError, match="unknown option"):
        FAMILY.model(T3, frozenset(), {"arch": "ia64"})


def test_goals_depend_on_options(i386, ia64):
    names = lambda m: [p.name for p in m.properties if p.kind == "sometimes"]  # noqa: E731
    assert names(i386) == ["memory_fragmented", "cached_thread_reused", "all_threads_in_use",
                           "stack_freed_by_drain"]
    assert names(ia64) == ["memory_fragmented", "cached_thread_reused", "all_threads_in_use"]
    assert names(FAMILY.instantiate("kstack-ia64", ["no_prealloc"]))[-1] == "alloc_fails_gracefully"


# -- 1. thread_alloc ------------------------------------------------------------

def test_alloc_constructs_when_cache_empty(i386):
    s = step(i386, i386.initial_states[0], "thread_alloc", 1, 0)
    v = read(i386, s)
    assert (v.obj[1], v.stack[1], v.kmem, v.reused) == (INUSE, 1, 1, 0)


def test_alloc_prefers_the_cache(i386):
    s = edit(i386, i386.initial_states[0], obj={2: CACHED}, stack={2: 1}, kmem=1)
    assert not enabled(i386, s, "thread_alloc", 0, 0)  # UNALLOC, but t2 is cached
    assert enabled(i386, s, "thread_alloc", 2, 1)
    v = read(i386, step(i386, s, "thread_alloc", 2, 1))
    assert (v.obj[2], v.stack[2], v.kmem, v.reused) == (INUSE, 1, 1, 1)


def test_alloc_skips_the_object_being_drained(i386):
    s = edit(i386, i386.initial_states[0], obj={2: CACHED}, stack={2: 1}, kmem=1,
             dtor=2, giant=UMA_DRAIN)
    assert not enabled(i386, s, "thread_alloc", 2, 0)
    assert enabled(i386, s, "thread_alloc", 0, 0)  # the free list is empty: construct


def test_alloc_waits_when_every_object_is_busy(ia64):
    s = edit(ia64, ia64.initial_states[0], obj={0: INUSE, 1: EXITED, 2: INUSE})
    assert not any(enabled(ia64, s, "thread_alloc", t, c) for t in range(3) for c in (0, 1))


def test_i386_alloc_ignores_fragmentation(i386):
    s = edit(i386, i386.initial_states[0], fragmented=1)
    v = read(i386, step(i386, s, "thread_alloc", 0, 1))
    assert (v.obj[0], v.stack[0], v.panic) == (INUSE, 1, NO_PANIC)


def test_contigmalloc_failure_critical_and_not():
    m = FAMILY.instantiate("kstack-ia64", ["no_prealloc"])
    s = edit(m, m.initial_states[0], fragmented=1)
    v = read(m, step(m, s, "thread_alloc", 0, 1))
    assert (v.panic, v.obj[0], v.stack[0], v.kmem) == (CONTIGMALLOC_FAILED, UNALLOC, 0, 0)
    v = read(m, step(m, s, "thread_alloc", 0, 0))
    assert (v.panic, v.enomem, v.obj[0], v.kmem) == (NO_PANIC, 1, UNALLOC, 0)
    again = step(m, tuple(v._v), "thread_alloc", 0, 0)
    assert again == tuple(v._v)  # a second ENOMEM changes nothing
    unfragmented = read(m, step(m, m.initial_states[0], "thread_alloc", 0, 1))
    assert (unfragmented.obj[0], unfragmented.kmem) == (INUSE, 1)


# -- 2. fragment ------------------------------------------------------------------

def test_fragment_once(i386):
    s = step(i386, i386.initial_states[0], "fragment")
    assert read(i386, s).fragmented == 1
    assert not enabled(i386, s, "fragment")


# -- 3. thread_exit and 4. reap ------------------------------------------------------

def test_exit_keeps_the_stack_and_reap_caches(i386):
    s = inuse(i386, i386.initial_states[0], 0)
    assert not enabled(i386, s, "thread_exit", 1)
    s = step(i386, s, "thread_exit", 0)
    v = read(i386, s)
    assert (v.obj[0], v.stack[0], v.kmem, v.panic) == (EXITED, 1, 1, NO_PANIC)
    assert not enabled(i386, s, "reap", 1)
    v = read(i386, step(i386, s, "reap", 0))
    assert (v.obj[0], v.stack[0], v.kmem) == (CACHED, 1, 1)


def test_free_in_exit_panics_even_while_the_drain_holds_giant():
    m = FAMILY.instantiate("kstack", ["free_stack_in_exit"])
    s = inuse(m, m.initial_states[0], 0)
    s = edit(m, s, obj={1: CACHED}, stack={1: 1}, kmem=2, giant=UMA_DRAIN, dtor=1)
    v = read(m, step(m, s, "thread_exit", 0))
    # Giant is locked, but not by the exiting thread's path.
    assert (v.panic, v.obj[0], v.stack[0], v.kmem) == (KMEM_FREE_WITHOUT_GIANT, EXITED, 1, 2)
    assert not m.successors(tuple(v._v))  # a panic state has no successors
    assert m.terminal(read(m, tuple(v._v)))


# -- 5.-7. the drain -----------------------------------------------------------

def test_drain_path(i386):
    s = edit(i386, i386.initial_states[0], obj={1: CACHED}, stack={1: 1}, kmem=1)
    assert not enabled(i386, s, "drain", 0)
    assert not enabled(i386, s, "free_stack", 1) and not enabled(i386, s, "drain_done", 1)
    s = step(i386, s, "drain", 1)
    v = read(i386, s)
    assert (v.giant, v.dtor, v.obj[1]) == (UMA_DRAIN, 1, CACHED)
    assert not enabled(i386, s, "drain_done", 1)  # stack not freed yet
    s = step(i386, s, "free_stack", 1)
    v = read(i386, s)
    assert (v.stack[1], v.kmem, v.panic, v.giant) == (0, 0, NO_PANIC, UMA_DRAIN)
    assert not enabled(i386, s, "free_stack", 1)  # no double free
    s = step(i386, s, "drain_done", 1)
    v = read(i386, s)
    assert (v.obj[1], v.dtor, v.giant) == (UNALLOC, NONE, NOBODY)


def test_giant_serialises_drains(i386):
    s = edit(i386, i386.initial_states[0], obj={0: CACHED, 1: CACHED}, stack={0: 1, 1: 1},
             kmem=2)
    s = step(i386, s, "drain", 0)
    assert not enabled(i386, s, "drain", 1)


def test_free_stack_without_giant_panics(i386):
    # Not reachable (the drain always owns Giant here): the check itself, on a built state.
    s = edit(i386, i386.initial_states[0], obj={0: CACHED}, stack={0: 1}, kmem=1, dtor=0)
    v = read(i386, step(i386, s, "free_stack", 0))
    assert (v.panic, v.stack[0], v.kmem) == (KMEM_FREE_WITHOUT_GIANT, 1, 1)


def test_prealloc_never_drains(ia64):
    s = ia64.initial_states[0]
    assert not any(enabled(ia64, s, "drain", t) for t in range(3))


def test_panic_disables_everything(i386):
    s = edit(i386, i386.initial_states[0], panic=CONTIGMALLOC_FAILED)
    assert i386.successors(s) == []


# -- properties on broken states -----------------------------------------------

def test_invariants_catch_broken_states(i386):
    s0 = i386.initial_states[0]
    assert not holds(i386, "kmem_free_under_giant", edit(i386, s0, panic=KMEM_FREE_WITHOUT_GIANT))
    assert holds(i386, "no_alloc_panic", edit(i386, s0, panic=KMEM_FREE_WITHOUT_GIANT))
    assert not holds(i386, "no_alloc_panic", edit(i386, s0, panic=CONTIGMALLOC_FAILED))
    leak = edit(i386, s0, kmem=1)  # a stack allocated, held by nobody
    double_free = edit(i386, s0, obj={0: CACHED}, stack={0: 1})  # held, but counted freed
    unalloc_holds = edit(i386, s0, stack={0: 1}, kmem=1)
    for bad in (leak, double_free, unalloc_holds):
        assert not holds(i386, "stack_accounting", bad)
    stackless = edit(i386, s0, obj={0: EXITED})
    assert not holds(i386, "constructed_has_stack", stackless)
    draining = edit(i386, s0, obj={0: CACHED}, dtor=0, giant=UMA_DRAIN)
    assert holds(i386, "constructed_has_stack", draining)
    assert holds(i386, "stack_accounting", draining)


# -- full searches: regression data ------------------------------------------------

def verdicts(r):
    return {p.name: p.verdict for p in r.properties}


@pytest.mark.parametrize("engine", ["compiled", "interpreted"])
def test_kstack_verifies(i386, engine):
    r = explore(i386, Options(engine=engine))
    st = r.stats
    assert (st.states, st.transitions, st.depth) == (640, 2936, 15)
    assert st.complete and st.terminal_states == 0 and st.deadlock_states == 0
    v = verdicts(r)
    for name in INVARIANTS + [DEADLOCK]:
        assert v[name] is Verdict.HOLDS, name
    assert all(p.verdict is Verdict.REACHED for p in r.properties if p.kind == "sometimes")
    assert st.unfired == []
    assert r.get("memory_fragmented").verdict is Verdict.REACHED  # no_alloc_panic is not vacuous
    assert len(r.get("stack_freed_by_drain").trace) == 5


def test_kstack_ia64_verifies(ia64):
    r = explore(ia64)
    st = r.stats
    assert (st.states, st.transitions, st.depth) == (56, 256, 7)
    assert st.complete and st.terminal_states == 0 and st.deadlock_states == 0
    v = verdicts(r)
    for name in INVARIANTS + [DEADLOCK]:
        assert v[name] is Verdict.HOLDS, name
    assert all(p.verdict is Verdict.REACHED for p in r.properties if p.kind == "sometimes")
    # The zone keeps its preallocated objects: the drain path never runs.
    assert st.unfired == ["drain", "free_stack", "drain_done"]


def test_kstack_ia64_never_constructs(ia64):
    """Every reachable state has all three stacks: thread_alloc only reuses."""
    seen, todo = set(ia64.initial_states), list(ia64.initial_states)
    while todo:
        s = todo.pop()
        assert read(ia64, s).kmem == 3 and UNALLOC not in read(ia64, s).obj
        for _, nxt in ia64.successors(s):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert len(seen) == 56


@pytest.mark.parametrize("config", ["kstack", "kstack-ia64"])
def test_free_stack_in_exit_violates(config):
    r = explore(FAMILY.instantiate(config, ["free_stack_in_exit"]))
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (40, 80, 5)
    assert [p.name for p in r.violated] == ["kmem_free_under_giant"] + (
        ["cached_thread_reused", "stack_freed_by_drain"] if config == "kstack" else [])
    trace = r.get("kmem_free_under_giant").trace
    assert [s.label for s in trace.steps] == ["thread_alloc(t0, false)", "thread_exit(t0)"]
    for name in ["no_alloc_panic", "stack_accounting", "constructed_has_stack", DEADLOCK]:
        assert r.get(name).verdict is Verdict.HOLDS


def test_no_prealloc_violates_on_ia64():
    r = explore(FAMILY.instantiate("kstack-ia64", ["no_prealloc"]))
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (994, 3578, 15)
    assert [p.name for p in r.violated] == ["no_alloc_panic"]
    trace = r.get("no_alloc_panic").trace
    assert [s.label for s in trace.steps] == ["fragment()", "thread_alloc(t0, true)"]
    assert r.get("alloc_fails_gracefully").verdict is Verdict.REACHED
    assert len(r.get("alloc_fails_gracefully").trace) == 2
    assert "contigmalloc failed" in format_trace(trace)


def test_no_prealloc_changes_nothing_on_i386():
    r = explore(FAMILY.instantiate("kstack", ["no_prealloc"]))
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (640, 2936, 15)
    assert r.outcome is Verdict.HOLDS
