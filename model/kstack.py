"""Kernel stacks of KSE threads: who frees them, under which lock, and when allocation fails.

This is section 3.2 of ``shared/protocol/kse-upcall-model.md``. Thread
objects come from a UMA zone. Constructing one (the zone's init) allocates
its kernel stack; a constructed object keeps the stack while it cycles
through the zone's cache, and only the zone's drain (the object is destroyed
and its memory given back) frees the stack. Two commits of the seed fixed
bugs here:

* i386: the stack was freed in ``cpu_thread_exit()``, which no longer holds
  Giant, and ``kmem_free()`` needs Giant: "a panic with WITNESS". The free
  moved to ``cpu_thread_dtor()``, called by ``thread_dtor()`` on the drain
  path, which holds Giant.
* ia64: kernel stacks come from ``contigmalloc()``, which "eventually fails at
  a critical momemt and panics the system" once physical memory is
  fragmented. The fix preallocates the thread objects (and so their stacks)
  at boot, "while contigmalloc() still works", and never frees them.

Pseudocode (``T`` thread objects; ``contig``: stacks need physically
contiguous memory, as on ia64; ``prealloc``: the ia64 fix)::

    boot:
        if prealloc: construct all T objects (stacks from contigmalloc)
    thread_alloc(critical):                       -- uma_zalloc(thread_zone)
        if the zone caches a constructed object: take it   (thread_ctor)
        else construct a new one:                 -- thread_init -> pmap_new_thread
            stack := contig ? contigmalloc() : kmem_alloc()
            if contigmalloc failed (memory fragmented):
                critical (upcall scheduling): panic
                otherwise: return ENOMEM
    thread_exit(td):                              -- no Giant held
        ... cpu_thread_exit(td)                   -- the zombie keeps its stack
    thread_reap():                                -- thread_free -> uma_zfree
        a zombie goes back to the zone's cache
    uma zone drain (low memory), unless prealloc: -- zone_drain; never for ia64's zone
        mtx_lock(&Giant)
        take a cached object off the free list
        thread_dtor(td) -> cpu_thread_dtor(td) -> kmem_free(stack)  -- needs Giant
        release the object's memory
        mtx_unlock(&Giant)
    memory fragments at some point and stays fragmented

Atomic steps (one critical section each; the drain is split where it holds
Giant, so other steps interleave while it does):

1. ``thread_alloc(t, critical)``: ``t`` is ``CACHED`` and not being drained:
   ``INUSE`` (``reused``). Or no object is cached and ``t`` is ``UNALLOC``:
   construct it. Without ``contig`` or while memory is not ``fragmented``
   it gets a stack (``kmem`` + 1) and is ``INUSE``; otherwise ``contigmalloc``
   fails: ``critical`` panics "contigmalloc failed", a non-critical caller
   gets ENOMEM (``enomem``) and ``t`` stays ``UNALLOC``.
2. ``fragment()``: ``fragmented`` becomes true (once).
3. ``thread_exit(t)``: ``INUSE`` -> ``EXITED``; ``cpu_thread_exit`` frees
   nothing (variant ``free_stack_in_exit``: it calls ``kmem_free`` on the
   stack without owning Giant and panics "kmem_free without Giant").
4. ``reap(t)``: ``EXITED`` -> ``CACHED``, stack still attached.
5. ``drain(t)``: not ``prealloc``; ``t`` is ``CACHED``, Giant is free: the
   drain takes Giant (``giant = uma_drain``) and ``t`` off the free list
   (``dtor = t``).
6. ``free_stack(t)``: ``dtor = t`` with a stack: ``thread_dtor`` ->
   ``cpu_thread_dtor`` -> ``kmem_free``; the drain path owns Giant, so the
   stack is freed (``kmem`` - 1). A caller not owning Giant would panic.
7. ``drain_done(t)``: ``dtor = t``, stack freed: ``t`` -> ``UNALLOC``,
   ``dtor = none``, Giant dropped.

Every step needs ``panic = none``: a panic state has no successors and is
terminal. No other state lacks an enabled step (some object is always
``INUSE``, ``EXITED``, ``CACHED``, being drained, or ``UNALLOC`` with no cached
object, where ``thread_alloc`` constructs or fails), so ``deadlock_free`` holds.

Measured by breadth-first search with ``T = 3`` (distinct states /
transitions / depth): ``kstack`` 640 / 2,936 / 15; ``kstack-ia64`` 56 / 256 /
7. Every invariant holds on both, and every goal is reached. On ``kstack``
every action fires; on ``kstack-ia64`` ``drain``, ``free_stack`` and
``drain_done`` never fire (the zone keeps its preallocated objects) and
``thread_alloc`` never constructs. The 56 states of ``kstack-ia64``, counted
by hand: each object ``CACHED``, ``INUSE`` or ``EXITED`` (27) with ``reused``
true, times ``fragmented`` (54), plus the boot state and the boot state
fragmented, where nothing has been allocated yet.

Variants: ``free_stack_in_exit`` breaks ``kmem_free_under_giant`` in 2 steps
(``thread_alloc(t0, false)``, ``thread_exit(t0)``) on both configurations
(40 states each); ``no_prealloc`` on ``kstack-ia64`` breaks ``no_alloc_panic``
in 2 (``fragment()``, ``thread_alloc(t0, true)``; 994 states) and holds on
``kstack``.

Decisions (ambiguities of the reference page and what this model does):

1.  **i386 kernel stacks cannot fail from fragmentation.** On i386 a kernel
    stack is kernel virtual memory backed by pages taken one at a time
    (``pmap_new_thread``: ``kmem_alloc``-style, no physical contiguity), so
    fragmentation does not make it fail; only ia64 takes stacks from
    ``contigmalloc``. The option ``contigmalloc`` (true on ``kstack-ia64``)
    says which; ``fragment`` exists on both configurations, so on ``kstack``
    ``no_alloc_panic`` holds *although* memory does fragment (the goal
    ``memory_fragmented`` is reached), not because it never does. Other
    reasons a stack allocation could fail (kernel map exhausted) are not
    modelled.
2.  **The WITNESS complaint is a panic.** The seed says the free without
    Giant "resulted in a panic with WITNESS", so a ``kmem_free`` by a path
    that does not own Giant sets ``panic = kmem_free without Giant`` (the
    page's rule: a KASSERT or panic is a reachable panic state) before
    anything is freed, and ``kmem_free_under_giant`` is "that panic never
    happens". A kernel without WITNESS would free silently; that kernel is
    not modelled.
3.  **Giant records which path holds it**, ``nobody`` or ``uma_drain`` (the
    only path in this model that takes it). ``kmem_free`` asks whether the
    *calling path* owns Giant (``mtx_assert(&Giant, MA_OWNED)``), not whether
    Giant is locked: in the variant, a thread exiting while the drain holds
    Giant still panics (tested). ``dtor`` (the object being drained) is set
    exactly while ``giant = uma_drain``; Giant is kept as its own variable
    because it is the lock the property is about.
4.  **The drain is three steps** (take Giant and the object; free the stack;
    release the object and Giant) so that Giant is observably held while
    other threads run, and the goal ``stack_freed_by_drain`` is a state
    (stack freed, object not yet ``UNALLOC``). Giant is not free while a
    drain runs, so two drains never overlap.
5.  **UMA prefers its cache.** ``thread_alloc`` constructs a new object only
    when no object is cached (the zone allocates a new slab only when its
    free list is empty); when several are cached any one may be taken (one
    instance per object). The object being drained is off the free list.
6.  **``critical`` is a parameter of every ``thread_alloc``**, although it
    matters only when ``contigmalloc`` fails: the cached path and the i386
    path have two instances reaching the same state (both counted as
    transitions). Only upcall scheduling is named critical by the page; the
    model lets any allocation be either.
7.  **ENOMEM leaves everything as it was** except the sticky flag ``enomem``
    (the goal ``alloc_fails_gracefully``); a later non-critical failure is a
    self-loop.
8.  **Preallocation** (``prealloc``) starts with all ``T`` objects ``CACHED``
    with stacks and ``fragmented`` false (boot, "while contigmalloc() still
    works"); ``drain`` is disabled (the zone never gives them back, as
    ``UMA_ZONE_NOFREE`` does). ``T`` bounds the objects, so with every
    object ``INUSE`` or ``EXITED`` ``thread_alloc`` waits (no instance
    enabled); the "bunch" preallocated is all the threads there are.
9.  **``no_prealloc``** switches ``prealloc`` off (stacks on demand); on
    ``kstack``, which does not preallocate, it changes nothing and holds.
10. **``free_stack_in_exit``** adds the ``kmem_free`` to ``cpu_thread_exit``
    and leaves the drain path as it is: the exit panics before freeing, so
    no object ever reaches the drain without its stack (the drain path is
    unreachable in the variant: only exited objects are ever drained).
11. **What "stack" stands for.** The page abstracts: in the i386 sources of
    the time the memory ``cpu_thread_dtor`` hands to ``kmem_free`` is the
    thread's MD extension of its PCB rather than the stack proper, and
    ``thread_dtor`` is the zone's destructor. The model follows the page:
    one "stack" per object, allocated at construction, freed by
    ``thread_dtor`` -> ``cpu_thread_dtor`` on the drain path.
12. **Stack accounting** uses a count ``kmem`` of stacks allocated from the
    kernel memory allocator and not yet freed, beside each object's
    ``stack`` bit: a leak (an object dropped without its free) makes ``kmem``
    exceed the objects holding a stack, a double free or a shared stack
    makes it fall short. ``reused`` is a history flag kept only for the
    goal ``cached_thread_reused``.
"""
from __future__ import annotations

from typing import Mapping

from ksecheck.checker import (NONE, Action, Array, Bool, Domain, Enum, Model, ModelError, Param, Ref,
                     Schema, Var)
from ksecheck.checker.core.catalogue import Config, Variant

OBJ = Enum("UNALLOC", "CACHED", "INUSE", "EXITED")
"""A thread object: no memory, constructed in the zone's cache, a running thread, a zombie."""
UNALLOC, CACHED, INUSE, EXITED = OBJ.values()

GIANT = Enum("nobody", "uma_drain")
"""Which code path holds Giant."""
NOBODY, UMA_DRAIN = GIANT.values()

PANIC = Enum("none", "kmem_free without Giant", "contigmalloc failed")
"""The first panic's reason."""
NO_PANIC, KMEM_FREE_WITHOUT_GIANT, CONTIGMALLOC_FAILED = PANIC.values()

VARIANTS = ("free_stack_in_exit", "no_prealloc")
OPTIONS = ("contigmalloc", "prealloc")


def schema(T: int) -> Schema:
    """Globals (memory, Giant, the drain, panic, history) then the thread objects ``t0..``."""
    return Schema(
        Var("fragmented", Bool(), doc="physical memory is fragmented (stays so)"),
        Var("kmem", Domain(0, T), doc="stacks allocated from the kernel and not freed"),
        Var("giant", GIANT, doc="the code path holding Giant"),
        Var("dtor", Ref.to(T, "t"), doc="the object the zone drain is destroying"),
        Var("panic", PANIC, doc="the first panic's reason"),
        Var("enomem", Bool(), doc="a non-critical thread_alloc has returned ENOMEM"),
        Var("reused", Bool(), doc="history: some thread_alloc took a cached object"),
        Array("obj", T, OBJ, "t", doc="the thread object's state"),
        Array("stack", T, Bool(), "t", doc="a kernel stack is attached to it"),
    )


# -- helpers over a view ---------------------------------------------------

def panic(s, reason: int) -> None:
    """Record ``reason`` unless an earlier panic already did."""
    if s.panic == NO_PANIC:
        s.panic = reason


def available(s, t) -> bool:
    """``t`` is on the zone's free list: cached and not being drained."""
    return s.obj[t] == CACHED and s.dtor != t


def cache_empty(s) -> bool:
    """No object is on the zone's free list: an allocation must construct one."""
    for t in range(len(s.obj)):
        if available(s, t):
            return False
    return True


def kmem_free(s, t, owns_giant) -> None:
    """``kmem_free(stack of t)``: panics unless the calling path owns Giant."""
    if not owns_giant:
        panic(s, KMEM_FREE_WITHOUT_GIANT)
        return
    s.stack[t] = 0
    s.kmem = s.kmem - 1


# -- the subsystem at one configuration ------------------------------------

class Kstack:
    """Guards and effects for ``T`` objects and the build-time switches."""

    def __init__(self, T: int, contig: bool, prealloc: bool, free_in_exit: bool):
        self.T, self.contig, self.prealloc, self.free_in_exit = T, contig, prealloc, free_in_exit

    def init(self, s) -> None:
        """Boot: with ``prealloc`` every object is constructed, with its stack."""
        if self.prealloc:
            for t in range(self.T):
                s.obj[t] = CACHED
                s.stack[t] = 1
            s.kmem = self.T

    def terminal(self, s) -> bool:
        """A panic."""
        return s.panic != NO_PANIC

    def construct(self, s, t, critical) -> None:
        """``thread_init`` -> ``pmap_new_thread``: a stack, or contigmalloc fails."""
        if self.contig and s.fragmented:
            if critical:
                panic(s, CONTIGMALLOC_FAILED)
            else:
                s.enomem = 1
            return
        s.stack[t] = 1
        s.kmem = s.kmem + 1
        s.obj[t] = INUSE

    # 1. thread_alloc
    def thread_alloc_guard(self, s, t, critical):
        return available(s, t) or (s.obj[t] == UNALLOC and cache_empty(s))

    def thread_alloc(self, s, t, critical):
        if s.obj[t] == CACHED:
            s.obj[t] = INUSE
            s.reused = 1
        else:
            self.construct(s, t, critical)

    # 2. fragment
    def fragment_guard(self, s):
        return not s.fragmented

    def fragment(self, s):
        s.fragmented = 1

    # 3. thread_exit
    def thread_exit_guard(self, s, t):
        return s.obj[t] == INUSE

    def thread_exit(self, s, t):
        if self.free_in_exit:
            kmem_free(s, t, False)  # cpu_thread_exit runs without Giant
        s.obj[t] = EXITED

    # 4. reap
    def reap_guard(self, s, t):
        return s.obj[t] == EXITED

    def reap(self, s, t):
        s.obj[t] = CACHED

    # 5. drain
    def drain_guard(self, s, t):
        return not self.prealloc and s.obj[t] == CACHED and s.giant == NOBODY

    def drain(self, s, t):
        s.giant = UMA_DRAIN
        s.dtor = t

    # 6. free_stack
    def free_stack_guard(self, s, t):
        return s.dtor == t and s.stack[t] == 1

    def free_stack(self, s, t):
        kmem_free(s, t, s.giant == UMA_DRAIN)

    # 7. drain_done
    def drain_done_guard(self, s, t):
        return s.dtor == t and s.stack[t] == 0

    def drain_done(self, s, t):
        s.obj[t] = UNALLOC
        s.dtor = NONE
        s.giant = NOBODY

    def actions(self) -> list[Action]:
        """The seven steps, each guarded by ``panic = none``."""
        obj = Ref.to(self.T, "t", optional=False)
        t, critical = Param("t", obj), Param("critical", Bool())
        table = [
            ("thread_alloc", (t, critical),
             "thread_alloc -> uma_zalloc: thread_ctor, or thread_init -> pmap_new_thread "
             "(contigmalloc on ia64)",
             "take a cached object, or construct one with a new stack (may fail when fragmented)"),
            ("fragment", (), "contigmalloc: physical memory fragments as the system runs",
             "memory becomes fragmented, for good"),
            ("thread_exit", (t,), "thread_exit -> cpu_thread_exit (no Giant held)",
             "a running thread exits and becomes a zombie, keeping its stack"),
            ("reap", (t,), "thread_reap -> thread_free -> uma_zfree",
             "a zombie goes back to the zone's cache"),
            ("drain", (t,), "uma zone drain (zone_drain), mtx_lock(&Giant)",
             "the zone drain takes Giant and a cached object off the free list"),
            ("free_stack", (t,), "thread_dtor -> cpu_thread_dtor -> kmem_free",
             "the destructor frees the object's stack, under Giant"),
            ("drain_done", (t,), "uma zone drain: slab freed, mtx_unlock(&Giant)",
             "the object's memory goes back to the system; Giant is dropped"),
        ]
        out = []
        for name, params, source, doc in table:
            guard = getattr(self, name + "_guard")
            out.append(Action(name, params, _unless_panicked(guard), getattr(self, name),
                              doc=doc, source=source))
        return out


def _unless_panicked(guard):
    """The guard, and no panic yet: a panic state has no successors."""
    def checked(s, *args):
        return s.panic == NO_PANIC and guard(s, *args)
    return checked


def in_force(variants: frozenset[str], options: Mapping[str, object] | None) -> dict[str, bool]:
    """The options that hold once the variants are on: ``no_prealloc`` turns ``prealloc`` off."""
    options = options or {}
    return {"contigmalloc": bool(options.get("contigmalloc", False)),
            "prealloc": bool(options.get("prealloc", False)) and "no_prealloc" not in variants}


def build(consts: Mapping[str, int], variants: frozenset[str] = frozenset(),
          options: Mapping[str, object] | None = None) -> Model:
    """The kstack model for constant ``T``, options ``contigmalloc``/``prealloc``, and variants;
    its properties are :mod:`properties.kstack`, for :func:`in_force` options."""
    options = dict(options or {})
    if "T" not in consts or consts["T"] < 1:
        raise ModelError("model kstack: give the constant T >= 1 (thread objects), e.g. T=3")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ModelError(f"model kstack: unknown variant(s) {unknown}; "
                         f"choose from {list(VARIANTS)}")
    extra = sorted(set(options) - set(OPTIONS))
    if extra:
        raise ModelError(f"model kstack: unknown option(s) {extra}; choose from {list(OPTIONS)}")
    force = in_force(variants, options)
    k = Kstack(consts["T"], force["contigmalloc"], force["prealloc"], "free_stack_in_exit" in variants)
    return Model(
        name="kstack",
        schema=schema(k.T),
        init=k.init,
        actions=k.actions(),
        terminal=k.terminal,
        doc=__doc__.split("\n\n")[0],
    )


SEED_WITNESS = ("seed: \"[...] i386 cpu_thread_exit(). This resulted in a panic with WITNESS "
                "since we need to hold Giant to call kmem_free(), and we weren't helding it "
                "anymore in cpu_thread_exit(). We now do this from a new MD function, "
                "cpu_thread_dtor(), called by thread_dtor().\"")
SEED_IA64 = ("seed: \"[...] around limitations in the ia64 kernel stack handling code. "
             "Basically preallocate a bunch of threads (and hence kstacks) while contigmalloc() "
             "still works, and never free them back to the general memory pool. After the system "
             "has been running for a while, contigmalloc() eventually fails at a critical momemt "
             "and panics the system.\"")

DOC = ("kernel stacks of thread objects: freed under Giant by cpu_thread_dtor; "
       "preallocated on ia64 where contigmalloc fails")
"""The design in one line."""

CONFIGS = [
    Config("kstack", {"T": 3},
           "i386-like: three objects, stacks on demand from pages that fragmentation "
           "cannot fail, drained under Giant"),
    Config("kstack-ia64", {"T": 3},
           "ia64 with the fix: stacks from contigmalloc, all three objects preallocated "
           "at boot and never drained",
           {"contigmalloc": True, "prealloc": True}),
]
"""The named configurations."""

BUG_VARIANTS = [
    Variant("free_stack_in_exit",
            "cpu_thread_exit frees the stack with kmem_free, without owning Giant",
            violates=("kmem_free_under_giant",),
            history=SEED_WITNESS, check_on=("kstack", "kstack-ia64")),
    Variant("no_prealloc",
            "stacks are allocated on demand (no preallocation at boot); on kstack-ia64 a "
            "critical allocation after fragmentation panics",
            violates=("no_alloc_panic",),
            history=SEED_IA64, check_on=("kstack", "kstack-ia64")),
]
"""The historic bugs, each switched on by its name."""
