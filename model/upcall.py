"""The ``upcall`` design of FreeBSD's KSE threading (davidxu, 2003): the main model.

A process runs ``M`` user threads on a user-level scheduler (the UTS). The
kernel gives the UTS virtual CPUs called *upcalls* (``struct kse_upcall``);
every upcall is owned by exactly one kernel thread. When a thread that runs a
user thread blocks in the kernel, its upcall passes to a spare thread (its
*standin*), which "upcalls" into the UTS so that another user thread can run.
A thread that lost its upcall cannot go back to user mode: at ``userret`` it
exports its user context to ``completed`` and exits; the next upcall hands
``completed`` to the UTS. This module is section 1 of
``shared/protocol/kse-upcall-model.md``; the kernel functions are described in
``shared/protocol/source-notes.md``.

Protocol, in pseudocode (``k = t.upcall``; "the UTS runs on t" means
``t.loc = USER and k.cur = none``)::

    in user mode (USER):
        UTS:  run a user thread m from runq (k.cur := m) | take k.kmc into runq
              | kse_release: park until there is work | kse_wakeup(j)
              | kse_create: add an upcall | kse_exit: remove k | exit the process
        m:    yield to the UTS (k.cur := none) | enter the kernel | clock tick
    thread_user_enter:  t.mbox := k.cur; if t.mbox: get a standin (may sleep),
                        then t may unbind (can_unbind)
    blocks while unbindable (thread_switchout):
                        k passes to the standin, which runs as an upcall thread
    thread_userret(t):
        1. t.mbox and no upcall:   export t.mbox to completed, wake one parked
                                   UTS, thread_exit
        2. can_unbind:             back to m if there is nothing to report,
                                   else export m and upcall
        (d) option MAXTHREADS:     while more than MAXTHREADS threads are
                                   linked, sleep in "maxthreads" (THRWAIT)
        3. upcalling:              k.kmc += completed, k.cur := none; get a
                                   standin if none (may sleep); to the UTS
        4. otherwise:              back to user mode
    thread_exit(t): stash t's standin, t is a zombie; wake every THRWAIT thread
    exit1:  every other thread exits, upcalls go, the last thread is DONE

Atomic steps (each one ``sched_lock`` critical section; functions that sleep
are split at the sleep):

 1. ``switch_in(t, m)``     the UTS runs user thread ``m``
 2. ``switch_out(t)``       the user thread yields back to the UTS
 3. ``take_completed(t)``   the UTS moves ``k.kmc`` to its run queue
 4. ``syscall(t)``          ``thread_user_enter``; sleeps for a spare if none
 5. ``alloc_spare(t)``      ``thread_alloc`` wakes with a spare
 6. ``finish(t)``           the syscall returns without sleeping
 7. ``block(t)``            ``msleep`` -> ``thread_switchout``
 8. ``wake(t)``             the sleep ends
 9. ``upcall_run(t)``       a new upcall thread gets a CPU
10. ``userret(t, wake)``    ``thread_userret``, cases 1-4 above
11. ``release(t)``          ``kse_release``
12. ``kse_wakeup(t, j)``    ``kse_wakeup``
13. ``create_begin(t)``     ``kse_create`` up to ``upcall_alloc`` (sleeps)
14. ``create_finish(t)``    the rest of ``kse_create``
15. ``exit_begin(t)``       ``kse_exit`` up to its ``suword`` (sleeps)
16. ``exit_finish(t)``      the rest of ``kse_exit``
17. ``proc_exit(t)``        ``exit1`` -> ``thread_single(SINGLE_EXIT)``
18. ``exit_other(t)``       another thread exits while the process exits
19. ``exit_finish_proc(t)`` ``exit1`` after single-threading, ``kse_purge``
20. ``tick(t)``             the statclock upcall (``TDF_USTATCLOCK``)
21. ``reap(x)``             ``thread_reap`` frees a zombie
22. ``thrwait(t)``          ``thread_userret`` (d): over ``max_threads_per_proc``,
                            sleep in "maxthreads" (only with ``MAXTHREADS``)

Bounds: ``NCPU`` (upcalls allowed per group), ``T`` thread slots, ``U`` upcall
slots, ``M`` user threads (mailboxes). KSEs are anonymous: every runnable
thread may run. Properties live in :mod:`properties.upcall`.

Option ``MAXTHREADS`` (section 3.1 of the page; the sysctl
``kern.threads.max_threads_per_proc``, source-notes bug 11): a config option,
``Config(..., options={"MAXTHREADS": 2})``. It adds the location ``THRWAIT``,
step 22, the wakeup in ``thread_exit``, the invariant
``threads_over_limit_stay_in_kernel`` and the variant ``no_maxthreads_wakeup``.
Without it, none of these exist (decision 17).

Decisions (where the reference page is ambiguous, and what this model does):

1.  **Enabledness when ``k = t.upcall`` is none** depends on whether the step
    reads ``k``: ``block`` is disabled only when it would run ``switchout``
    (``can_unbind`` and a standin) without an upcall; ``userret`` cases 2
    and 3 need ``k``, cases 1 and 4 do not; ``exit_other`` and
    ``exit_finish_proc`` test ``t.upcall`` rather than read it. None of this
    is reachable in the correct model.
2.  **``userret``'s ``wake`` parameter** is the parked thread that case 1
    wakes. With a parked thread, exactly the instances ``wake=p`` for PARKED
    ``p`` are enabled; otherwise only ``wake=none``. So every case-1 step
    that must wake somebody is one instance per parked thread, as the
    page's counting asks, and every other ``userret`` is one instance.
3.  **``tick`` is an export.** The kernel's clock-tick path runs
    ``thread_user_enter`` (``td_mailbox = km_curthread``) and then
    ``thread_export_context``; so ``tick`` sets ``t.mbox = m`` and exports.
    In the correct model it ends with ``t.mbox = none``, as the page says;
    under ``keep_td_mailbox`` the ticked thread keeps ``m``, like every
    other export (the shortest counterexample is then 3 steps, not 6).
4.  **An export of no mailbox** adds nothing (unreachable: only threads with
    a mailbox export); this keeps the helper total on every state.
5.  **``alloc_after_unbind``**: ``syscall`` with a mailbox and no standin sets
    ``can_unbind`` and runs ``switchout`` as it goes to sleep in
    ``thread_alloc``; with no standin that always panics "no reserve thread",
    and the thread is left in ``ALLOC_ENTER`` (the caller's remaining effect).
6.  **``owner_exits_at_userret``** clears the exiting owner's ``t.upcall`` as
    well as ``k.owner``, so that the broken property is ``upcall_has_owner``
    alone and not, as a side effect, ``owner_link_consistent``.
7.  **``create_finish``** links the lowest unlinked upcall slot, sets its
    ``cur``, ``doupcall`` and ``exiting`` clear (its ``kmc`` is empty
    already: ``upcall_remove`` empties it), and uses ``t``'s standin before
    taking a FREE slot. Without a slot for either it does nothing
    (ENOMEM/EPROCLIM) and returns to the UTS.
8.  **``exit_finish``'s "only linked thread"** counts ``t`` itself (KEXIT is
    linked): ``t`` ends threading exactly when no other thread is linked.
9.  **Liveness goal.** "Delivered, unless the process exits" reads: some
    ``kmc`` holds ``m``, or ``exiting``, or not ``sa``. The last ``kse_exit``
    also ends threading (``kse_purge``, P_SA cleared) and may leave
    completions behind (``exit_begin`` tests ``runq`` and ``kmc``, not
    ``completed``); without "not ``sa``" the correct model would fail there.
10. **Reachability goals** are read from the state, never from history (see
    :mod:`properties.upcall`): a zombie was reaped when a FREE slot lies
    below a used one (slots are taken lowest first); ``kse_exit`` removed an
    upcall while others remain when, not exiting, an unlinked upcall slot
    lies below a linked one; a parked thread is woken when it is PARKED and
    a step that must wake it is enabled (a case-1 ``userret`` or a
    ``kse_wakeup`` of its upcall; the reading is that of the correct model,
    where case 1 must wake). "The process finishes exiting" is a DONE
    thread with ``exiting`` set (``exit1``; the last ``kse_exit`` is
    covered by the action ``exit_finish``).
11. **Counting without branching.** Counts (``numupcalls``, linked threads)
    are sums of truth values, so symbolic engines need not split on each
    term; effects index arrays with references (``s.cur[s.upcall[t]]``)
    only where their guard excludes none.
12. **Where the thread limit is checked** (``MAXTHREADS``). V3's
    ``thread_userret`` runs (b) the ``can_unbind`` fast path, which returns
    straight to the user thread, and (c) the exit of a thread that lost its
    upcall, *before* (d) the "maxthreads" loop; (e) the upcall and (f) the
    spare allocation come after it. So ``thrwait(t)`` is enabled exactly when
    ``t`` is RET, ``userret`` case 1 does not apply, ``can_unbind`` is clear
    and more than ``MAXTHREADS`` threads are linked (``p_numthreads`` counts
    every linked thread, THRWAIT ones too); ``userret`` cases 3 and 4 are
    then disabled. Case 2's export leaves ``t`` in RET with ``upcalling``,
    so the check runs before its upcall on the next ``userret``, as in the
    source. ``thrwait`` does not test ``exiting`` (only the six steps the page
    names do); ``exit_other`` takes a THRWAIT thread like any linked one
    (``thread_single`` aborts the sleep). ``p_maxthrwaits`` is not modelled: it only
    saves a ``wakeup`` call when nobody waits.
13. **The wakeup re-checks.** ``thread_exit`` wakes *every* THRWAIT thread
    (``wakeup(&p->p_numthreads)``) to RET, not to USER: ``msleep`` returns
    into the ``while`` loop, so a woken thread checks again, and sleeps
    again (``thrwait``) if the process is still over the limit. A THRWAIT
    thread keeps its upcall and has ``can_unbind`` clear, so from RET it comes
    back to ``thrwait`` or to cases 3 or 4. The wakeup happens wherever
    ``thread_exit`` runs (``userret`` case 1, ``exit_finish`` of a thread that
    is not the last, ``exit_other``); the two steps that end in DONE have no
    other thread to wake.
14. **Routes to user mode that skip the check**, as in the source or the
    page: the (b) fast path, (f) (``alloc_spare`` from ALLOC_RET: the check
    ran before ``thread_alloc`` slept and is not repeated), and
    ``create_finish`` and ``kse_wakeup``, which the page returns straight to
    USER (in the kernel every syscall return runs ``thread_userret``; they are
    not rerouted, so the option adds only ``thrwait`` and its wakeup). A
    thread therefore *can* reach USER while the process is over the limit:
    shortest on ``limits``, by ``create_finish`` in 9 steps, by
    ``alloc_spare`` in 9, by the fast path in 13. With ``MAXTHREADS >= NCPU``
    rerouting the two syscalls could add no deadlock: over the limit some
    linked thread owns no upcall (owners <= NCPU), and such a thread always
    reaches ``thread_exit`` and wakes the waiters.
15. **Reading of the limit property.** The page's "the linked threads exceed
    MAXTHREADS only by threads blocked in the kernel or in THRWAIT (they
    never return to user mode while over the limit)" is read as
    ``numthreads <= MAXTHREADS + #{linked upcalls whose owner is not USER}``:
    every thread beyond the limit is matched by an upcall held in the kernel
    (in THRWAIT, or not yet through the check), so the UTS cannot run on
    it. Two literal readings fail on the correct model, and rightly.
    ``numthreads - MAXTHREADS <= #SLEEP + #THRWAIT`` fails in 7 steps:
    a woken worker in RET on its way to exit, and new upcall threads in
    RUNQ, are neither. "No step enters USER while over the limit" fails by
    the routes of decision 14. The chosen reading is not vacuous. With the
    check removed (a model with ``MAXTHREADS`` above ``T``, judged at 2), it
    fails in 11 steps: one worker asleep with its mailbox, and both upcalls
    running the UTS in user mode, makes three threads.
16. **``MAXTHREADS >= NCPU``.** With fewer, the upcall owners alone can
    exceed the limit. All of them then sleep in THRWAIT and no thread is left
    to exit: the *correct* model deadlocks (``MAXTHREADS = 1`` on ``limits``:
    7 steps). The later kernel's escape from the loop ("if upcalls >=
    max_threads_per_proc, break") is not in the V3 notes and is not
    modelled. Neither is ``PCATCH`` (a signal ending the sleep): the model
    has no signals.
17. **Option off, model unchanged.** Without ``MAXTHREADS`` the ``loc``
    domain is ``LOC_NO_LIMIT`` (every location but THRWAIT, same numbers),
    and there is no ``thrwait`` action, no wakeup, no limit property and no
    ``thrwait`` in the fairness. Every number below except ``limits`` is as
    it was before the option existed.

Thread-slot, upcall-slot and mailbox counts are constants of the
configuration, never state.

Measured by breadth-first search (distinct states / transitions / depth;
transitions count every enabled instance): ``tiny`` 940 / 2,081 / 36;
``small`` 169,440 / 530,550 / 46, with 144 at-the-bound and 30 terminal
states; ``medium`` 1,788,032 / 6,826,528 / 50; ``exit2`` (``medium`` with
one mailbox) 273,528 / 1,022,336 / 42; ``race3`` 6,738,848 /
32,124,756 / 57 (liveness not run there). No deadlock, every invariant
and the liveness property hold; every goal is reached and every action
fires on ``small`` (``tiny`` has NCPU = 1: no ``kse_create``, so no second
upcall). Shortest counterexamples: ``alloc_after_unbind`` 2 steps,
``keep_td_mailbox`` 3, ``owner_exits_at_userret`` 5 (all three on ``tiny``
and ``small``); ``no_wake_parked`` 11 on ``tiny`` and 20 on ``medium``
(a deadlock; on ``small`` the three thread slots never leave a parked UTS
with nobody to wake it); ``no_exiting_count`` 24 on ``medium`` and 15 on
``exit2`` (``kse_exit`` needs an empty run queue, so on ``medium`` the
second mailbox must leave it first); ``no_limit_recheck`` 9 on ``race3``.

``limits`` (``MAXTHREADS = 2``, NCPU 2, T 4, U 2, M 2): 1,185,616 / 4,143,544
/ 47, with 32 terminal states and none at the bound, about 40 s (tier
``slow``). No deadlock; every invariant holds, ``threads_over_limit_stay_in_kernel``
included, and so does the liveness property. Every goal is reached and every
action fires, ``thrwait`` included. ``no_maxthreads_wakeup`` deadlocks in 13
steps: ``kse_create`` and a blocking worker make three threads, and both
upcall threads sleep in maxthreads. The worker exits at ``userret`` without
waking them, and once it is reaped nothing can run. ``completed_delivered``
fails too: the worker's completion is never delivered.
"""
from __future__ import annotations

import functools
from typing import Iterable, Mapping

from ksecheck.checker import (NONE, Action, Array, Bool, Enum, Model, ModelError, Param, Ref, Schema,
                     Set, Var, bit, has)
from ksecheck.checker.core.catalogue import Config, Variant
from ksecheck.checker.results.result import DEADLOCK

LOC = Enum("FREE", "SPARE", "ZOMBIE", "USER", "KERNEL", "SLEEP", "ALLOC_ENTER", "ALLOC_RET",
           "RUNQ", "RET", "PARKED", "KCREATE", "KEXIT", "SINGLE", "DONE", "THRWAIT")
"""Where a thread slot is; the first three are the unlinked ones. ``THRWAIT`` (asleep
in "maxthreads") comes last so that the others keep their numbers."""
(FREE, SPARE, ZOMBIE, USER, KERNEL, SLEEP, ALLOC_ENTER, ALLOC_RET,
 RUNQ, RET, PARKED, KCREATE, KEXIT, SINGLE, DONE, THRWAIT) = LOC.values()

LOC_NO_LIMIT = Enum(*LOC.names[:THRWAIT])
"""The domain of ``loc`` without the ``MAXTHREADS`` option: every location but THRWAIT,
so that the model without the option is the one it was before (same domain, same
states; an unreachable THRWAIT value would only weaken inductive proofs)."""

OPTIONS = ("MAXTHREADS",)
"""Configuration options: ``MAXTHREADS`` (an int >= 1) turns on the thread limit."""

PANIC = Enum("none", "kse_wakeup: no owner", "no reserve thread when scheduling an upcall",
             "upcall has owner")
"""The reason of the first panic, or none."""
NO_PANIC, NO_OWNER, NO_RESERVE, HAS_OWNER = PANIC.values()

VARIANTS = ("alloc_after_unbind", "no_exiting_count", "no_limit_recheck", "no_wake_parked",
            "keep_td_mailbox", "owner_exits_at_userret", "no_maxthreads_wakeup")


# --- state helpers, shared with properties.upcall ----------------------------

def count(conditions: Iterable[object]) -> int:
    """How many of ``conditions`` are true (a sum, so a symbolic engine need not branch)."""
    return sum(conditions)


def is_linked(loc) -> bool:
    """A thread is linked unless it is FREE, SPARE or ZOMBIE (the first three locations)."""
    return loc > ZOMBIE


def numupcalls(s, U: int) -> int:
    """The number of linked upcall slots (``kg_numupcalls``)."""
    return count(s.linked[j] for j in range(U))


def numthreads(s, T: int) -> int:
    """The number of linked threads (``kg_numthreads``)."""
    return count(is_linked(s.loc[t]) for t in range(T))


def owns_upcall(s, t: int, U: int) -> bool:
    """Whether some linked upcall has ``t`` as its owner."""
    return count(s.linked[j] & (s.owner[j] == t) for j in range(U)) > 0


def uts_runs(s, t: int) -> bool:
    """The UTS runs on ``t``: ``t`` is USER and its upcall's ``cur`` is none."""
    if s.loc[t] != USER:
        return False
    k = s.upcall[t]
    return k != NONE and s.cur[k] == NONE


def over_limit(s, T: int, maxthreads: int) -> bool:
    """More linked threads than ``max_threads_per_proc`` (``p_numthreads > max``)."""
    return numthreads(s, T) > maxthreads


def free_slot(s, T: int) -> int:
    """The lowest FREE thread slot, or NONE: the allocator's fixed choice."""
    for x in range(T):
        if s.loc[x] == FREE:
            return x
    return NONE


def panic(s, reason: int) -> None:
    """Record ``reason`` unless an earlier panic already did."""
    if s.panic == NO_PANIC:
        s.panic = reason


def unless_panicked(guard):
    """The guard, and no panic yet: a panic state has no successors."""
    @functools.wraps(guard)
    def checked(s, *args):
        return guard(s, *args) and s.panic == NO_PANIC
    return checked


# --- the protocol at one configuration ----------------------------------------

class Upcall:
    """Guards, effects and kernel helpers of the ``upcall`` design for given bounds and variants."""

    def __init__(self, consts: Mapping[str, int], variants: frozenset[str],
                 maxthreads: int | None = None):
        unknown = sorted(set(variants) - set(VARIANTS))
        if unknown:
            raise ModelError(f"unknown variant(s) {unknown} of the upcall model; "
                             f"choose from {', '.join(VARIANTS)}")
        missing = [c for c in ("NCPU", "T", "U", "M") if c not in consts]
        if missing or any(consts[c] < 1 for c in ("NCPU", "T", "U", "M")):
            raise ModelError(f"the upcall model needs constants NCPU, T, U, M of at least 1 "
                             f"(missing {missing}, got {dict(consts)})")
        self.NCPU, self.T, self.U, self.M = (consts[c] for c in ("NCPU", "T", "U", "M"))
        self.alloc_after_unbind = "alloc_after_unbind" in variants
        self.no_exiting_count = "no_exiting_count" in variants
        self.no_limit_recheck = "no_limit_recheck" in variants
        self.no_wake_parked = "no_wake_parked" in variants
        self.keep_td_mailbox = "keep_td_mailbox" in variants
        self.owner_exits_at_userret = "owner_exits_at_userret" in variants
        self.no_maxthreads_wakeup = "no_maxthreads_wakeup" in variants
        self.MAXTHREADS = maxthreads
        """``max_threads_per_proc``, or None: the option is off and the model is section 1's."""

    # state layout and initial state

    def schema(self) -> Schema:
        """Proc, group, user memory, upcalls, threads, in that order."""
        T, U, M = self.T, self.U, self.M
        thread, upcall, mbox, mboxes = Ref.to(T, "t"), Ref.to(U, "u"), Ref.to(M, "m"), Set.of(M, "m")
        return Schema(
            Var("sa", Bool(), doc="P_SA: the process is threaded"),
            Var("exiting", Bool(), doc="P_SINGLE_EXIT: the process is exiting"),
            Var("panic", PANIC, doc="the first panic's reason"),
            Var("completed", mboxes, doc="kg_completed: exported, not yet handed to the UTS"),
            Var("runq", mboxes, doc="the UTS's queue of runnable user threads"),
            Array("linked", U, Bool(), "u", doc="the upcall is in kg_upcalls"),
            Array("owner", U, thread, "u", doc="ku_owner"),
            Array("doupcall", U, Bool(), "u", doc="KUF_DOUPCALL"),
            Array("u_exiting", U, Bool(), "u", label="exiting", doc="KUF_EXITING"),
            Array("cur", U, mbox, "u", doc="km_curthread of the upcall's kse_mailbox"),
            Array("kmc", U, mboxes, "u", doc="km_completed: delivered, not yet taken by the UTS"),
            Array("loc", T, LOC if self.MAXTHREADS is not None else LOC_NO_LIMIT, "t",
                  doc="where the thread is"),
            Array("upcall", T, upcall, "t", doc="td_upcall"),
            Array("standin", T, thread, "t", doc="td_standin"),
            Array("mbox", T, mbox, "t", doc="td_mailbox"),
            Array("can_unbind", T, Bool(), "t", doc="TDF_CAN_UNBIND"),
            Array("upcalling", T, Bool(), "t", doc="TDF_UPCALLING"),
        )

    def init(self, s) -> None:
        """Right after the first kse_create: t0 runs the UTS on u0, every mailbox in runq."""
        s.sa = True
        s.runq = (1 << self.M) - 1
        s.linked[0] = True
        s.owner[0] = 0
        s.loc[0] = USER
        s.upcall[0] = 0

    # kernel helpers

    def stash_standin(self, s, t) -> None:
        """``thread_stash`` of ``t``'s standin, if any: it becomes a zombie."""
        x = s.standin[t]
        if x != NONE:
            s.loc[x] = ZOMBIE
            s.standin[t] = NONE

    def thread_exit(self, s, t) -> None:
        """``thread_exit``: drop the standin, become a zombie; with ``MAXTHREADS``, wake
        every thread asleep in "maxthreads" (``wakeup(&p->p_numthreads)``): it re-checks."""
        self.stash_standin(s, t)
        s.loc[t] = ZOMBIE
        if self.MAXTHREADS is not None and not self.no_maxthreads_wakeup:
            for x in range(self.T):
                if s.loc[x] == THRWAIT:
                    s.loc[x] = RET

    def upcall_remove(self, s, j) -> None:
        """``upcall_remove``: unlink ``j``, clear it, and clear its owner's ``td_upcall``."""
        o = s.owner[j]
        if o != NONE:
            s.upcall[o] = NONE
        s.linked[j] = False
        s.owner[j] = NONE
        s.doupcall[j] = False
        s.u_exiting[j] = False
        s.cur[j] = NONE
        s.kmc[j] = 0

    def schedule_upcall(self, s, t, j, x) -> None:
        """``thread_schedule_upcall``: thread slot ``x`` becomes the upcall thread owning ``j``."""
        if s.owner[j] != NONE:
            panic(s, HAS_OWNER)
            return
        s.standin[t] = NONE
        s.loc[x] = RUNQ
        s.upcalling[x] = True
        s.upcall[x] = j
        s.owner[j] = x

    def switchout(self, s, t) -> None:
        """``thread_switchout``: hand ``t``'s upcall to its standin."""
        x = s.standin[t]
        if x == NONE:
            panic(s, NO_RESERVE)
            return
        k = s.upcall[t]
        s.owner[k] = NONE
        s.upcall[t] = NONE
        self.schedule_upcall(s, t, k, x)
        s.can_unbind[t] = False

    def export(self, s, t) -> None:
        """``thread_export_context``: ``t.mbox`` joins ``completed`` and ``t`` forgets it."""
        m = s.mbox[t]
        if m != NONE:
            s.completed = s.completed | bit(m)
        if not self.keep_td_mailbox:
            s.mbox[t] = NONE

    def lost_upcall(self, s, t) -> bool:
        """``userret`` case 1 applies: ``t`` has a mailbox and no upcall (any mailbox, with the bug)."""
        if s.mbox[t] == NONE:
            return False
        return self.owner_exits_at_userret or s.upcall[t] == NONE

    def must_wake(self, s) -> bool:
        """Case 1 must wake a parked thread (``wakeup_one(&kg_completed)``)."""
        return not self.no_wake_parked and any(s.loc[p] == PARKED for p in range(self.T))

    # 1. switch_in(t, m)
    def switch_in_guard(self, s, t, m):
        return uts_runs(s, t) and has(s.runq, m)

    def switch_in(self, s, t, m):
        s.runq = s.runq & ~bit(m)
        s.cur[s.upcall[t]] = m

    # 2. switch_out(t)
    def switch_out_guard(self, s, t):
        if s.loc[t] != USER:
            return False
        k = s.upcall[t]
        return k != NONE and s.cur[k] != NONE

    def switch_out(self, s, t):
        k = s.upcall[t]
        s.runq = s.runq | bit(s.cur[k])
        s.cur[k] = NONE

    # 3. take_completed(t)
    def take_completed_guard(self, s, t):
        return uts_runs(s, t) and s.kmc[s.upcall[t]] != 0

    def take_completed(self, s, t):
        k = s.upcall[t]
        s.runq = s.runq | s.kmc[k]
        s.kmc[k] = 0

    # 4. syscall(t)
    def syscall_guard(self, s, t):
        return s.loc[t] == USER and not s.exiting and s.upcall[t] != NONE

    def syscall(self, s, t):
        m = s.cur[s.upcall[t]]
        if m == NONE:
            s.mbox[t] = NONE
            s.loc[t] = KERNEL
        else:
            s.mbox[t] = m
            if s.standin[t] == NONE:
                if self.alloc_after_unbind:
                    s.can_unbind[t] = True
                    self.switchout(s, t)  # it sleeps in thread_alloc
                s.loc[t] = ALLOC_ENTER
            else:
                s.can_unbind[t] = True
                s.loc[t] = KERNEL

    # 5. alloc_spare(t)
    def alloc_spare_guard(self, s, t):
        return (s.loc[t] == ALLOC_ENTER or s.loc[t] == ALLOC_RET) and free_slot(s, self.T) != NONE

    def alloc_spare(self, s, t):
        x = free_slot(s, self.T)
        s.loc[x] = SPARE
        s.standin[t] = x
        if s.loc[t] == ALLOC_ENTER:
            s.can_unbind[t] = True
            s.loc[t] = KERNEL
        else:
            s.mbox[t] = NONE
            s.loc[t] = USER

    # 6. finish(t)
    def finish_guard(self, s, t):
        return s.loc[t] == KERNEL

    def finish(self, s, t):
        s.loc[t] = RET

    # 7. block(t)
    def block_guard(self, s, t):
        if s.loc[t] != KERNEL:
            return False
        return not s.can_unbind[t] or s.standin[t] == NONE or s.upcall[t] != NONE

    def block(self, s, t):
        if s.can_unbind[t]:
            self.switchout(s, t)
        s.loc[t] = SLEEP

    # 8. wake(t)
    def wake_guard(self, s, t):
        return s.loc[t] == SLEEP

    def wake(self, s, t):
        s.loc[t] = RET

    # 9. upcall_run(t)
    def upcall_run_guard(self, s, t):
        return s.loc[t] == RUNQ

    def upcall_run(self, s, t):
        s.loc[t] = RET

    # 10. userret(t, wake)
    def userret_guard(self, s, t, w):
        if s.loc[t] != RET:
            return False
        if self.lost_upcall(s, t):
            if self.must_wake(s):
                return w != NONE and s.loc[w] == PARKED
            return w == NONE
        if w != NONE:
            return False
        if self.MAXTHREADS is not None and not s.can_unbind[t]:
            if over_limit(s, self.T, self.MAXTHREADS):
                return False  # (d) comes first: thrwait(t)
        if s.can_unbind[t] or s.upcalling[t]:
            return s.upcall[t] != NONE
        return True

    def userret(self, s, t, w):
        k = s.upcall[t]
        if self.lost_upcall(s, t):
            self.export(s, t)
            if w != NONE:
                s.loc[w] = RET
                s.upcalling[w] = True
            if k != NONE:  # only with owner_exits_at_userret: no upcall_remove
                s.owner[k] = NONE
                s.upcall[t] = NONE
            self.thread_exit(s, t)
        elif s.can_unbind[t]:
            s.can_unbind[t] = False
            if s.completed == 0 and not s.doupcall[k]:
                s.mbox[t] = NONE
                s.loc[t] = USER
            else:
                self.export(s, t)
                s.upcalling[t] = True
        elif s.upcalling[t]:
            s.upcalling[t] = False
            s.doupcall[k] = False
            s.cur[k] = NONE
            s.kmc[k] = s.kmc[k] | s.completed  # thread_link_mboxes
            s.completed = 0
            if s.standin[t] == NONE:
                s.loc[t] = ALLOC_RET
            else:
                s.mbox[t] = NONE
                s.loc[t] = USER
        else:
            s.mbox[t] = NONE
            s.loc[t] = USER

    # 11. release(t)
    def release_guard(self, s, t):
        return (uts_runs(s, t) and not s.exiting and s.runq == 0
                and s.kmc[s.upcall[t]] == 0)

    def release(self, s, t):
        if s.doupcall[s.upcall[t]] or s.completed != 0:
            s.upcalling[t] = True
            s.loc[t] = RET
        else:
            s.loc[t] = PARKED

    # 12. kse_wakeup(t, j)
    def kse_wakeup_guard(self, s, t, j):
        return s.linked[j] and uts_runs(s, t)

    def kse_wakeup(self, s, t, j):
        o = s.owner[j]
        if o == NONE:
            panic(s, NO_OWNER)
        elif s.loc[o] == PARKED:
            s.loc[o] = RET
            s.upcalling[o] = True
        else:
            s.doupcall[j] = True

    # 13. create_begin(t)
    def create_begin_guard(self, s, t):
        return uts_runs(s, t) and not s.exiting and numupcalls(s, self.U) < self.NCPU

    def create_begin(self, s, t):
        s.loc[t] = KCREATE

    # 14. create_finish(t)
    def create_finish_guard(self, s, t):
        return s.loc[t] == KCREATE

    def create_finish(self, s, t):
        if self.no_limit_recheck or numupcalls(s, self.U) < self.NCPU:
            j = next((j for j in range(self.U) if not s.linked[j]), NONE)
            x = s.standin[t]
            if x == NONE:
                x = free_slot(s, self.T)
            if j != NONE and x != NONE:
                s.linked[j] = True
                s.cur[j] = NONE
                s.doupcall[j] = False
                s.u_exiting[j] = False
                self.schedule_upcall(s, t, j, x)
        s.loc[t] = USER

    # 15. exit_begin(t)
    def exit_begin_guard(self, s, t):
        if not uts_runs(s, t) or s.exiting or s.runq != 0 or s.kmc[s.upcall[t]] != 0:
            return False
        left = numupcalls(s, self.U)
        if not self.no_exiting_count:
            left = left - count(s.linked[j] & s.u_exiting[j] for j in range(self.U))
        return not (left == 1 and numthreads(s, self.T) > 1)  # else EDEADLK

    def exit_begin(self, s, t):
        s.u_exiting[s.upcall[t]] = True
        s.loc[t] = KEXIT

    # 16. exit_finish(t)
    def exit_finish_guard(self, s, t):
        return s.loc[t] == KEXIT and s.upcall[t] != NONE

    def exit_finish(self, s, t):
        self.upcall_remove(s, s.upcall[t])
        if numthreads(s, self.T) == 1:
            self.stash_standin(s, t)
            s.sa = False
            s.loc[t] = DONE
        else:
            self.thread_exit(s, t)

    # 17. proc_exit(t)
    def proc_exit_guard(self, s, t):
        return s.loc[t] == USER and not s.exiting

    def proc_exit(self, s, t):
        s.exiting = True
        s.loc[t] = SINGLE

    # 18. exit_other(t)
    def exit_other_guard(self, s, t):
        loc = s.loc[t]
        return is_linked(loc) and loc != SINGLE and loc != DONE and s.exiting

    def exit_other(self, s, t):
        if s.upcall[t] != NONE:
            self.upcall_remove(s, s.upcall[t])
        s.mbox[t] = NONE
        self.thread_exit(s, t)

    # 19. exit_finish_proc(t)
    def exit_finish_proc_guard(self, s, t):
        return s.loc[t] == SINGLE and numthreads(s, self.T) == 1

    def exit_finish_proc(self, s, t):
        if s.upcall[t] != NONE:
            self.upcall_remove(s, s.upcall[t])
        self.stash_standin(s, t)
        s.sa = False
        s.loc[t] = DONE

    # 20. tick(t)
    def tick_guard(self, s, t):
        if s.loc[t] != USER or s.exiting:
            return False
        k = s.upcall[t]
        return k != NONE and s.cur[k] != NONE and (s.completed != 0 or s.doupcall[k])

    def tick(self, s, t):
        s.mbox[t] = s.cur[s.upcall[t]]  # thread_user_enter, then thread_export_context
        self.export(s, t)
        s.upcalling[t] = True
        s.loc[t] = RET

    # 21. reap(x)
    def reap_guard(self, s, x):
        return s.loc[x] == ZOMBIE

    def reap(self, s, x):
        s.loc[x] = FREE
        s.upcall[x] = NONE
        s.standin[x] = NONE
        s.mbox[x] = NONE
        s.can_unbind[x] = False
        s.upcalling[x] = False

    # 22. thrwait(t), only with MAXTHREADS
    def thrwait_guard(self, s, t):
        if s.loc[t] != RET or self.lost_upcall(s, t) or s.can_unbind[t]:
            return False
        return over_limit(s, self.T, self.MAXTHREADS)  # userret cases 3 and 4 wait for this

    def thrwait(self, s, t):
        s.loc[t] = THRWAIT

    # the model

    def actions(self) -> list[Action]:
        """The 21 steps (22 with ``MAXTHREADS``), each with the kernel function it abstracts."""
        t = Param("t", Ref.to(self.T, "t", optional=False))
        x = Param("x", Ref.to(self.T, "t", optional=False))
        m = Param("m", Ref.to(self.M, "m", optional=False))
        j = Param("j", Ref.to(self.U, "u", optional=False))
        w = Param("wake", Ref.to(self.T, "t"))
        table = [
            ("switch_in", (t, m), "UTS (libkse): runs a thread, sets km_curthread",
             "the UTS on t takes user thread m from runq and runs it"),
            ("switch_out", (t,), "UTS (libkse): a user thread yields, km_curthread cleared",
             "the running user thread yields back to runq"),
            ("take_completed", (t,), "UTS (libkse): reads km_completed",
             "the UTS moves its upcall's km_completed into runq"),
            ("syscall", (t,), "thread_user_enter",
             "enter the kernel; with a running user thread, get a standin, then may unbind"),
            ("alloc_spare", (t,), "thread_alloc",
             "thread_alloc wakes with the lowest FREE slot as t's standin"),
            ("finish", (t,), "syscall return", "the syscall returns without sleeping"),
            ("block", (t,), "msleep -> mi_switch -> thread_switchout",
             "sleep in the kernel; an unbindable thread hands its upcall to its standin"),
            ("wake", (t,), "wakeup", "the sleep ends"),
            ("upcall_run", (t,), "setrunqueue / thread_schedule_upcall",
             "the new upcall thread gets a CPU"),
            ("userret", (t, w), "thread_userret",
             "return to user mode: exit, resume, or upcall (cases 1-4)"),
            ("release", (t,), "kse_release", "the idle UTS upcalls if there is work, else parks"),
            ("kse_wakeup", (t, j), "kse_wakeup",
             "the UTS wakes upcall j's parked owner or sets its DOUPCALL"),
            ("create_begin", (t,), "kse_create (up to upcall_alloc)",
             "kse_create passes the EPROCLIM check and sleeps in upcall_alloc"),
            ("create_finish", (t,), "kse_create (after upcall_alloc): upcall_link, thread_schedule_upcall",
             "recheck the limit, link a new upcall and schedule its thread"),
            ("exit_begin", (t,), "kse_exit (EDEADLK check, KUF_EXITING, suword)",
             "kse_exit passes the EDEADLK check and sleeps in suword"),
            ("exit_finish", (t,), "kse_exit (after suword): upcall_remove, thread_exit or kse_purge",
             "remove the upcall; exit, or end threading if t is the last thread"),
            ("proc_exit", (t,), "exit1 -> thread_single(SINGLE_EXIT)",
             "a user thread calls exit and waits for the others"),
            ("exit_other", (t,), "thread_suspend_check / aborted sleeps -> thread_exit",
             "another thread exits while the process exits"),
            ("exit_finish_proc", (t,), "exit1 after single-threading, kse_purge",
             "the exiting thread, alone, removes its upcall and finishes"),
            ("tick", (t,), "thread_userret (a): statclock upcall, TDF_USTATCLOCK",
             "a clock tick exports the running user thread and upcalls"),
            ("reap", (x,), "thread_reap", "a zombie slot goes back to the allocator"),
            ("thrwait", (t,), "thread_userret (d): msleep(&p->p_numthreads, \"maxthreads\")",
             "over max_threads_per_proc: sleep in maxthreads until a thread exits"),
        ]
        if self.MAXTHREADS is None:
            table = [row for row in table if row[0] != "thrwait"]
        return [Action(name, params, unless_panicked(getattr(self, name + "_guard")),
                       getattr(self, name), doc=doc, source=source)
                for name, params, source, doc in table]

    def terminal(self, s) -> bool:
        """A panic, or the only linked thread is DONE."""
        if s.panic != NO_PANIC:
            return True
        return any(s.loc[t] == DONE for t in range(self.T)) and numthreads(s, self.T) == 1

    def at_bound(self, s) -> bool:
        """Some thread waits in thread_alloc and no FREE slot is left."""
        waiting = any(s.loc[t] == ALLOC_ENTER or s.loc[t] == ALLOC_RET for t in range(self.T))
        return waiting and free_slot(s, self.T) == NONE


def build(consts: Mapping[str, int], variants: frozenset[str] = frozenset(),
          options: Mapping[str, object] | None = None) -> Model:
    """The ``upcall`` model for constants NCPU, T, U, M and the given bug variants; its
    properties are :mod:`properties.upcall` (the registry puts them together)."""
    options = dict(options or {})
    extra = sorted(set(options) - set(OPTIONS))
    if extra:
        raise ModelError(f"the upcall model has no option(s) {extra}; choose from {list(OPTIONS)}")
    maxthreads = options.get("MAXTHREADS")
    if maxthreads is not None and (not isinstance(maxthreads, int) or isinstance(maxthreads, bool)
                                   or maxthreads < 1):
        raise ModelError(f"option MAXTHREADS (max_threads_per_proc) must be an int of at least 1 "
                         f"(got {maxthreads!r})")
    p = Upcall(consts, frozenset(variants), maxthreads)
    return Model(
        name="upcall",
        schema=p.schema(),
        init=p.init,
        actions=p.actions(),
        terminal=p.terminal,
        at_bound=p.at_bound,
        doc=__doc__.split("\n\n")[0],
    )


DOC = "the kse_upcall design (2003): upcalls owned by threads, handed to standins on blocking"
"""The design in one line."""

CONFIGS = [
    Config("tiny", {"NCPU": 1, "T": 3, "U": 1, "M": 1}, "unit tests; about a thousand states"),
    Config("small", {"NCPU": 2, "T": 3, "U": 2, "M": 2},
           "the default run and CI; reaches an at-the-bound state"),
    Config("medium", {"NCPU": 2, "T": 4, "U": 2, "M": 2}, "slow tests", tier="slow"),
    Config("large", {"NCPU": 2, "T": 5, "U": 2, "M": 3}, "benchmark", tier="benchmark"),
    Config("huge", {"NCPU": 3, "T": 6, "U": 3, "M": 3},
           "beyond plain exhaustive search: symmetry reduction and proofs", tier="benchmark"),
    Config("exit2", {"NCPU": 2, "T": 4, "U": 2, "M": 1},
           "two UTSs in kse_exit at once with one mailbox: no_exiting_count in 15 steps",
           tier="slow"),
    Config("race3", {"NCPU": 3, "T": 4, "U": 4, "M": 1},
           "two UTSs in kse_create at once: the no_limit_recheck variant", tier="slow"),
    Config("limits", {"NCPU": 2, "T": 4, "U": 2, "M": 2},
           "thread limits (max_threads_per_proc = 2): the maxthreads sleep in thread_userret",
           options={"MAXTHREADS": 2}, tier="slow"),
]
"""The named configurations (``small`` is the default)."""

BUG_VARIANTS = [
    Variant("alloc_after_unbind",
            "syscall sets can_unbind before the spare exists; sleeping in thread_alloc runs switchout",
            ("no_panic",),
            "V0: upcall creation from inside msleep, thread_alloc sleeping in it",
            check_on=("tiny", "small", "medium")),
    Variant("no_exiting_count",
            "exit_begin does not subtract upcalls already exiting from the EDEADLK count",
            ("upcalls_while_threads",),
            "two UTSs both pass the EDEADLK check across the sleeping suword",
            check_on=("tiny", "small", "exit2", "medium")),
    Variant("no_limit_recheck",
            "create_finish does not recheck numupcalls < NCPU after upcall_alloc",
            ("upcall_limit",),
            "check-then-act across upcall_alloc",
            check_on=("small", "race3")),
    Variant("no_wake_parked",
            "userret case 1 exports without waking a parked UTS",
            (DEADLOCK, "completed_delivered"),
            "lost wakeup on kg_completed",
            check_on=("tiny", "small", "medium")),
    Variant("keep_td_mailbox",
            "exporting a context leaves td_mailbox set",
            ("mailbox_in_one_place",),
            "stale td_mailbox after export",
            check_on=("tiny", "small", "medium")),
    Variant("owner_exits_at_userret",
            "userret case 1 applies to any thread with a mailbox; an owner exits leaving its upcall ownerless",
            ("upcall_has_owner",),
            "\"owner thread exits only when process is in exiting state\"",
            check_on=("tiny", "small", "medium")),
    Variant("no_maxthreads_wakeup",
            "thread_exit wakes nobody asleep in maxthreads (needs the MAXTHREADS option)",
            (DEADLOCK,),
            "thread_exit: \"wake maxthreads waiters\" (wakeup(&p->p_numthreads)); "
            "source-notes bug 11, thread explosion",
            check_on=("limits",)),
]
"""The historic bugs, each switched on by its name (the names are :data:`VARIANTS`)."""
