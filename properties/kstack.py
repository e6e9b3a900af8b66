"""Properties of the kernel-stack subsystem (section 3.2 of the reference model).

Invariants (``always``), each holding in the correct model on ``kstack`` and
``kstack-ia64``:

* ``kmem_free_under_giant``: no ``kmem_free`` by a path that does not own
  Giant (the WITNESS panic never happens).
* ``no_alloc_panic``: no critical ``thread_alloc`` panics on a failed
  ``contigmalloc``.
* ``stack_accounting``: every allocated stack belongs to exactly one thread
  object (``kmem`` equals the number of objects holding a stack) and no
  ``UNALLOC`` object holds one.
* ``constructed_has_stack``: every constructed object holds its stack, except
  the one the drain is destroying once ``cpu_thread_dtor`` has freed it.

Reachability goals (``sometimes``), so that no invariant holds only because
its situation never arises: memory becomes fragmented; a cached object is
reused; every object is in use at once; and, where the configuration allows
them, a stack is freed by the drain (not with ``prealloc``) and a
non-critical allocation fails with ENOMEM (only ``contigmalloc`` without
``prealloc``).
"""
from __future__ import annotations

from typing import Mapping

from ksecheck.checker import Property
from ksecheck.model.kstack import (CONTIGMALLOC_FAILED, INUSE, KMEM_FREE_WITHOUT_GIANT, UNALLOC)


def properties(consts: Mapping[str, int], options: Mapping[str, object]) -> list[Property]:
    """The kstack properties for constant ``T`` and the effective options."""
    T = consts["T"]
    contig, prealloc = bool(options.get("contigmalloc")), bool(options.get("prealloc"))

    def kmem_free_under_giant(s):
        return s.panic != KMEM_FREE_WITHOUT_GIANT

    def no_alloc_panic(s):
        return s.panic != CONTIGMALLOC_FAILED

    def stack_accounting(s):
        held = 0
        for t in range(T):
            if s.stack[t] == 1:
                held = held + 1
                if s.obj[t] == UNALLOC:
                    return False
        return s.kmem == held

    def constructed_has_stack(s):
        for t in range(T):
            if s.obj[t] != UNALLOC and s.dtor != t and s.stack[t] == 0:
                return False
        return True

    def memory_fragmented(s):
        return s.fragmented == 1

    def cached_thread_reused(s):
        return s.reused == 1

    def all_threads_in_use(s):
        for t in range(T):
            if s.obj[t] != INUSE:
                return False
        return True

    def stack_freed_by_drain(s):
        for t in range(T):
            if s.dtor == t and s.stack[t] == 0:
                return True
        return False

    def alloc_fails_gracefully(s):
        return s.enomem == 1

    out = [
        Property("kmem_free_under_giant", "always", kmem_free_under_giant,
                 source="seed: \"we need to hold Giant to call kmem_free(), and we weren't "
                        "helding it anymore in cpu_thread_exit()\"; the WITNESS/"
                        "mtx_assert(&Giant, MA_OWNED) check that the caller owns Giant",
                 doc="no kmem_free by a path that does not own Giant (no WITNESS panic)"),
        Property("no_alloc_panic", "always", no_alloc_panic,
                 source="seed: \"contigmalloc() eventually fails at a critical momemt and "
                        "panics the system\"",
                 doc="no critical thread_alloc panics because contigmalloc failed"),
        Property("stack_accounting", "always", stack_accounting,
                 source="reference model 3.2: \"every allocated stack belongs to exactly one "
                        "thread object\"",
                 doc="kmem equals the number of objects holding a stack; no UNALLOC object "
                     "holds one (a leak or double free breaks the count)"),
        Property("constructed_has_stack", "always", constructed_has_stack,
                 source="reference model 3.2: CACHED \"stack attached\", EXITED \"stack still "
                        "attached\"; a thread runs on its kernel stack",
                 doc="every object that is not UNALLOC holds its stack, except the one being "
                     "drained after its stack was freed"),
        Property("memory_fragmented", "sometimes", memory_fragmented,
                 source="seed: \"After the system has been running for a while\"",
                 doc="physical memory is fragmented"),
        Property("cached_thread_reused", "sometimes", cached_thread_reused,
                 source="thread_alloc -> uma_zalloc: a cached object is handed out again",
                 doc="some thread_alloc took a cached object"),
        Property("all_threads_in_use", "sometimes", all_threads_in_use,
                 source="reference model 3.2: T thread objects",
                 doc="every thread object runs a thread at once"),
    ]
    if not prealloc:
        out.append(Property(
            "stack_freed_by_drain", "sometimes", stack_freed_by_drain,
            source="seed: \"We now do this from a new MD function, cpu_thread_dtor(), called "
                   "by thread_dtor()\"",
            doc="the drain has freed the stack of the object it destroys"))
    if contig and not prealloc:
        out.append(Property(
            "alloc_fails_gracefully", "sometimes", alloc_fails_gracefully,
            source="reference model 3.2: \"a non-critical one gets an error\"",
            doc="a non-critical thread_alloc returned ENOMEM when contigmalloc failed"))
    return out
