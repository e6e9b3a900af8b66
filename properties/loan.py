"""Properties of the ``loan`` design (section 2 of the reference model).

Invariants (``always``), each holding in the correct model on every
configuration:

* ``no_thread_leak``: every thread slot is FREE, linked, ZOMBIE, or SPARE and
  the standin of exactly one live thread; every ``standin`` names a SPARE.
* ``mailbox_in_one_place``: each mailbox is in exactly one place.
* ``borrower_stays_in_kernel``: a USER thread runs on a KSE it owns.
* ``one_thread_per_kse``: ``k.thread = t`` iff ``t.kse = k``.
* ``kse_owner_consistent``: ``k.owner = t`` iff ``t.own = k``; every KSE has
  a linked owner.

Reachability goals (``sometimes``), so that no invariant holds only because
its situation never arises: a KSE is lent; a borrower exits; an upcall
delivers completions; a zombie is reaped; an owner sleeps in
``thread_alloc`` while its KSE is lent (the window of the seed's race); an
upcall thread is scheduled.

Predicates are written like the model's steps: plain control flow over a
view, loops over constant ranges only, so a symbolic engine can run them.
"""
from __future__ import annotations

from typing import Mapping

from ksecheck.checker import NONE, Property, has
from ksecheck.model.loan import ALLOC, FREE, RUNQ, SPARE, USER, ZOMBIE, linked


def count(conds) -> int:
    """How many of ``conds`` are true."""
    n = 0
    for c in conds:
        if c:
            n = n + 1
    return n


def properties(consts: Mapping[str, int]) -> list[Property]:
    """The loan design's properties for constants ``NCPU``, ``T``, ``M``."""
    T, NCPU, M = consts["T"], consts["NCPU"], consts["M"]
    threads, kses, mboxes = range(T), range(NCPU), range(M)

    def live(s, t):
        """A thread that can hold a standin: neither FREE nor ZOMBIE."""
        return not (s.loc[t] == FREE or s.loc[t] == ZOMBIE)

    def no_thread_leak(s):
        for x in threads:
            if s.loc[x] == SPARE and count(s.standin[t] == x and live(s, t) for t in threads) != 1:
                return False
            if s.standin[x] != NONE and s.loc[s.standin[x]] != SPARE:
                return False
        return True

    def running(s, k, m):
        """Mailbox ``m`` runs on KSE ``k``: ``k.cur = m`` and a USER thread is on ``k``."""
        return (s.cur[k] == m and s.thread[k] != NONE and s.loc[s.thread[k]] == USER)

    def mailbox_in_one_place(s):
        for m in mboxes:
            places = [has(s.runq, m), has(s.completed, m)]
            places += [has(s.kmc[k], m) for k in kses]
            places += [s.mbox[t] == m for t in threads]
            places += [running(s, k, m) for k in kses]
            if count(places) != 1:
                return False
        return True

    def borrower_stays_in_kernel(s):
        return all(s.loc[t] != USER or (s.kse[t] != NONE and s.own[t] == s.kse[t])
                   for t in threads)

    def one_thread_per_kse(s):
        return all((s.thread[k] == t) == (s.kse[t] == k) for k in kses for t in threads)

    def kse_owner_consistent(s):
        return (all((s.owner[k] == t) == (s.own[t] == k) for k in kses for t in threads)
                and all(s.owner[k] != NONE and linked(s, s.owner[k]) for k in kses))

    def kse_lent(s):
        return any(s.thread[k] != NONE and s.own[s.thread[k]] != k for k in kses)

    def borrower_exits(s):
        return any(s.loc[t] == ZOMBIE for t in threads)

    def completions_delivered(s):
        return any(s.kmc[k] != 0 for k in kses)

    def zombie_reaped(s):
        return any(s.loc[x] == FREE and s.loc[y] != FREE
                   for x in threads for y in range(x + 1, T))

    def lent_while_allocating(s):
        return any(s.thread[k] != NONE and s.thread[k] != s.owner[k]
                   and s.owner[k] != NONE and s.loc[s.owner[k]] == ALLOC for k in kses)

    def upcall_scheduled(s):
        return any(s.loc[t] == RUNQ and s.upcalling[t] for t in threads)

    seed_upcall = ("seed (julian 48bfcddd): \"The owner thread must be blocked, and the borrower "
                   "can not proceed back to user space with the borrowed KSE\"")
    return [
        Property("no_thread_leak", "always", no_thread_leak,
                 source="seed (davidxu 7742d9b2): standin race \"result is a thread leak in "
                        "kernel\"; source-notes I5",
                 doc="every slot is FREE, linked, ZOMBIE, or SPARE and the standin of exactly one "
                     "live thread; every standin names a SPARE slot"),
        Property("mailbox_in_one_place", "always", mailbox_in_one_place,
                 source="kse(2): a completion is \"reported in only one upcall\"; source-notes I4",
                 doc="each mailbox is in exactly one of: runq, completed, one KSE's kmc, one "
                     "thread's mbox, running (k.cur = m with a USER thread on k)"),
        Property("borrower_stays_in_kernel", "always", borrower_stays_in_kernel,
                 source=seed_upcall,
                 doc="every USER thread runs on a KSE it owns"),
        Property("one_thread_per_kse", "always", one_thread_per_kse,
                 source="V1 kse_reassign KASSERT \"bad thread bound state\"; thread_userret "
                        "\"bad thread/kse pointers\"",
                 doc="k.thread = t iff t.kse = k"),
        Property("kse_owner_consistent", "always", kse_owner_consistent,
                 source="V1 thread_schedule_upcall KASSERT \"kse already bound\"; "
                        "kse_wakeup \"KSE with no owner\"",
                 doc="k.owner = t iff t.own = k, and every KSE has a linked owner"),
        Property("kse_lent", "sometimes", kse_lent, source=seed_upcall,
                 doc="a borrower runs on a KSE it does not own"),
        Property("borrower_exits", "sometimes", borrower_exits,
                 source="V1 thread_userret: a borrower exports its context and exits",
                 doc="some slot is a ZOMBIE (in this design only a borrower's exit makes one)"),
        Property("completions_delivered", "sometimes", completions_delivered,
                 source="seed: \"The upcall when it happens will present all the completed "
                        "syscalls to the KSE\"",
                 doc="some KSE's km_completed is not empty"),
        Property("zombie_reaped", "sometimes", zombie_reaped, source="V1 thread_reap",
                 doc="a FREE slot lies below a used one (only reap makes such a hole)"),
        Property("lent_while_allocating", "sometimes", lent_while_allocating,
                 source="seed (davidxu 7742d9b2): thread_alloc() can block the owner while a "
                        "borrower runs",
                 doc="an owner sleeps in thread_alloc while a borrower runs on its KSE"),
        Property("upcall_scheduled", "sometimes", upcall_scheduled,
                 source="V1 thread_schedule_upcall: the standin becomes the upcall thread",
                 doc="a standin is runnable as an upcall thread"),
    ]
