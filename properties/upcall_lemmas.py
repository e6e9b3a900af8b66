"""Strengthening lemmas for proving the ``upcall`` design's invariants by induction.

The invariants of :mod:`properties.upcall` hold in every reachable state but
are not *inductive*: a step from some unreachable state that satisfies them
all can break one (a counterexample to induction, CTI). The lemmas below
rule those states out. Each was found by reading a CTI of
``ksecheck prove --mode induction`` and stating what the kernel guarantees
but the invariants left unsaid. With them, every invariant and every lemma
holds initially and is preserved by every step (``--mode proof``): a proof
for all reachable states of the configuration, without enumerating them.

Every lemma is checked on every reachable state of ``tiny`` and ``small``
(``tests/model/test_upcall_proofs.py``): a lemma must be true, or the proof
would be of the wrong thing. Every lemma is also needed: without any one of
them a CTI comes back on ``small`` (the doc of each names it). They are
written for the design without the ``MAXTHREADS`` option (no ``THRWAIT``).

The predicates are written without branching on state values (truth values
combined with ``&``, ``|``, ``<=`` for implication, counts as sums), so that
symbolic execution gives each one a handful of paths instead of one per
combination of cases.
"""
from __future__ import annotations

import functools
import operator
from typing import Mapping

from ksecheck.checker import NONE, Property
from ksecheck.model.upcall import (ALLOC_ENTER, ALLOC_RET, DONE, FREE, KCREATE, KERNEL, KEXIT, PARKED,
                          RET, RUNQ, SINGLE, SLEEP, SPARE, USER, ZOMBIE, count, is_linked,
                          numthreads, numupcalls)

__all__ = ["lemmas"]


def all_(*conds):
    """Conjunction without branching (``&`` of truth values)."""
    return functools.reduce(operator.and_, conds, True)


def any_(*conds):
    """Disjunction without branching (``|`` of truth values)."""
    return functools.reduce(operator.or_, conds, False)


def implies(a, b):
    """``a`` implies ``b``, for truth values: ``a <= b``."""
    return a <= b


def not_(a):
    """Negation of a truth value without branching."""
    return a == 0


def at(loc, *places):
    """``loc`` is one of ``places``."""
    return any_(*(loc == p for p in places))


def lemmas(consts: Mapping[str, int]) -> list[Property]:
    """The strengthening lemmas for constants NCPU, T, U, M."""
    T, U = consts["T"], consts["U"]
    threads, upcalls = range(T), range(U)

    def every_thread(fn):
        return lambda s: all(fn(s, t) for t in threads)

    def every_upcall(fn):
        return lambda s: all(fn(s, j) for j in upcalls)

    def every_owner(fn):
        return lambda s: all(fn(s, t, j) for t in threads for j in upcalls)

    def detached(s, t):
        return all_(s.upcall[t] == NONE, s.standin[t] == NONE, s.mbox[t] == NONE)

    def clear_flags(s, t):
        return all_(not_(s.can_unbind[t]), not_(s.upcalling[t]))

    # -- per thread: what each location implies --

    def unlinked_clean(s, t):
        return implies(at(s.loc[t], FREE, SPARE), all_(detached(s, t), clear_flags(s, t)))

    def zombie_detached(s, t):
        return implies(s.loc[t] == ZOMBIE, detached(s, t))

    def holds_upcall(s, t):
        return implies(at(s.loc[t], USER, KERNEL, ALLOC_ENTER, ALLOC_RET, RUNQ, PARKED, KCREATE,
                          KEXIT, SINGLE), s.upcall[t] != NONE)

    def lost_upcall_shape(s, t):
        return implies(at(s.loc[t], SLEEP, RET) & (s.upcall[t] == NONE),
                       all_(s.mbox[t] != NONE, s.standin[t] == NONE, clear_flags(s, t)))

    def mbox_holders(s, t):
        return implies(s.mbox[t] != NONE,
                       any_(s.can_unbind[t] == 1, s.loc[t] == ALLOC_ENTER,
                            at(s.loc[t], SLEEP, RET) & (s.upcall[t] == NONE)))

    def unbind_shape(s, t):
        return implies(s.can_unbind[t] == 1, any_(
            all_(at(s.loc[t], KERNEL, RET), s.mbox[t] != NONE, s.standin[t] != NONE,
                 s.upcall[t] != NONE, not_(s.upcalling[t])),
            (s.loc[t] == ZOMBIE) & (s.exiting == 1)))

    def upcalling_shape(s, t):
        return implies(s.upcalling[t] == 1, any_(
            all_(at(s.loc[t], RUNQ, RET), s.upcall[t] != NONE, s.mbox[t] == NONE),
            (s.loc[t] == ZOMBIE) & (s.exiting == 1)))

    def no_standin_while_allocating(s, t):
        return implies(at(s.loc[t], ALLOC_ENTER, ALLOC_RET, RUNQ), s.standin[t] == NONE)

    def alloc_enter_carries(s, t):
        return implies(s.loc[t] == ALLOC_ENTER, s.mbox[t] != NONE)

    # -- per thread t and upcall j it owns --

    def cur_is_mbox(s, t, j):
        return implies((s.upcall[t] == j) & ((s.can_unbind[t] == 1) | (s.loc[t] == ALLOC_ENTER)),
                       s.cur[j] == s.mbox[t])

    def cur_clear_in_kernel(s, t, j):
        return implies((s.upcall[t] == j) & (s.cur[j] != NONE),
                       any_(at(s.loc[t], USER, ALLOC_ENTER, SINGLE), s.upcalling[t] == 1,
                            s.can_unbind[t] == 1))

    def idle_owner_nothing_pending(s, t, j):
        return all_(implies((s.owner[j] == t) & at(s.loc[t], PARKED, KEXIT), s.kmc[j] == 0),
                    implies((s.owner[j] == t) & (s.loc[t] == PARKED), not_(s.doupcall[j])))

    # -- per upcall --

    def unlinked_upcall_clean(s, j):
        return implies(not_(s.linked[j]),
                       all_(s.owner[j] == NONE, s.cur[j] == NONE, s.kmc[j] == 0,
                            not_(s.doupcall[j]), not_(s.u_exiting[j])))

    def exiting_upcall_in_kexit(s, t, j):
        return implies(s.owner[j] == t, (s.u_exiting[j] == 1) == (s.loc[t] == KEXIT))

    # -- global --

    def sa_until_done(s):
        return count(s.loc[t] == DONE for t in threads) == 1 - s.sa

    def single_exits(s):
        singles = count(s.loc[t] == SINGLE for t in threads)
        dones = count(s.loc[t] == DONE for t in threads)
        return all_(singles + dones <= 1, s.exiting >= singles,
                    implies(s.exiting == 1, singles + dones == 1))

    def a_upcall_stays(s):
        left = numupcalls(s, U) - count(s.linked[j] & s.u_exiting[j] for j in upcalls)
        return implies(s.sa & not_(s.exiting), (left >= 1) | (numthreads(s, T) == 1))

    def parked_means_idle(s):
        parked = count(s.loc[t] == PARKED for t in threads)
        awake = count(is_linked(s.loc[t]) & (s.loc[t] != PARKED) & (s.loc[t] != KEXIT)
                      for t in threads)
        return implies((parked > 0) & (awake == 0), (s.runq == 0) & (s.completed == 0))

    def completion_delivered_before_parking(s):
        parked = count(s.loc[t] == PARKED for t in threads)
        upcalling = count(at(s.loc[t], RUNQ, RET) & (s.upcalling[t] == 1) for t in threads)
        return implies((s.completed != 0) & (parked > 0) & not_(s.exiting), upcalling > 0)

    # (predicate, scope, what it says, why the proof needs it: the CTI it rules out, source)
    table = [
        (unlinked_clean, "thread",
         "a FREE or SPARE slot has no upcall, standin, mailbox or flag",
         "alloc_spare, block and create_finish turn such a slot into a standin or a live thread; "
         "a stale standin there breaks no_thread_leak (CTI alloc_spare/no_thread_leak)",
         "thread_alloc hands out clean threads; thread_reap clears every field"),
        (zombie_detached, "thread",
         "a ZOMBIE has no upcall, standin or mailbox",
         "a zombie still naming a standin keeps a SPARE counted twice or not at all "
         "(CTIs block/ and exit_finish/no_thread_leak)",
         "thread_exit stashes the standin; upcall_remove and the export clear the rest"),
        (holds_upcall, "thread",
         "a thread in USER, KERNEL, ALLOC_*, RUNQ, PARKED, KCREATE, KEXIT or SINGLE owns an upcall "
         "(only SLEEP and RET threads may have lost theirs)",
         "without it a step returns a thread with no upcall to user mode "
         "(CTI alloc_spare/user_mode_owns_upcall)",
         "thread_switchout, run from msleep, is the only place td_upcall moves"),
        (lost_upcall_shape, "thread",
         "a SLEEP or RET thread without an upcall carries a mailbox, no standin and no flag",
         "userret must take case 1 (export and exit) for such a thread, never case 4 back to user "
         "mode "
         "(CTI userret/user_mode_owns_upcall)",
         "thread_switchout hands the upcall to the standin; thread_userret (c)"),
        (mbox_holders, "thread",
         "only an unbindable thread, one asleep in thread_alloc at syscall entry, or one that lost "
         "its upcall carries a mailbox",
         "a stray td_mailbox is counted as a second place of its mailbox "
         "(CTIs syscall/ and userret/mailbox_in_one_place)",
         "thread_user_enter sets td_mailbox; every return to user mode clears it"),
        (unbind_shape, "thread",
         "can_unbind is set only on a KERNEL or RET thread with a mailbox, a standin and an upcall "
         "(or on a zombie of an exiting process)",
         "block runs thread_switchout on it, which panics without a standin (CTI block/no_panic); "
         "a USER thread must have it clear (CTI alloc_spare/unbind_clear_in_user)",
         "thread_user_enter sets TDF_CAN_UNBIND only after thread_alloc"),
        (upcalling_shape, "thread",
         "upcalling is set only on a RUNQ or RET thread with an upcall and no mailbox "
         "(or on a zombie of an exiting process)",
         "userret case 3 hands completed to the upcall and returns to the UTS "
         "(CTIs alloc_spare/ and create_finish/mailbox_in_one_place)",
         "thread_schedule_upcall, kse_release and thread_userret set TDF_UPCALLING"),
        (no_standin_while_allocating, "thread",
         "a thread in thread_alloc, or a new upcall thread, has no standin",
         "alloc_spare overwrites td_standin; an old one would leak: the seed's standin race "
         "(CTI alloc_spare/no_thread_leak)",
         "thread_alloc is called only when td_standin is NULL"),
        (alloc_enter_carries, "thread",
         "a thread asleep in thread_alloc at syscall entry carries the mailbox it entered with",
         "alloc_spare from there sets can_unbind, which needs the mailbox "
         "(CTI alloc_spare/lemma_unbind_shape)",
         "thread_user_enter sets td_mailbox before it calls thread_alloc"),
        (cur_is_mbox, "owner",
         "an unbindable thread, or one asleep in thread_alloc at syscall entry, carries the "
         "mailbox its upcall's cur names",
         "userret case 2 resumes the user thread: its mailbox becomes running again "
         "(CTI userret/mailbox_in_one_place)",
         "thread_user_enter: td_mailbox = km_curthread"),
        (cur_clear_in_kernel, "owner",
         "an owner whose upcall's cur is set is in user mode, entering the kernel with it, "
         "upcalling, or single-threading the exit",
         "a stale cur becomes a running mailbox when its owner returns to user mode "
         "(CTIs alloc_spare/, userret/ and create_finish/mailbox_in_one_place)",
         "km_curthread is cleared only by the upcall, thread_userret (e)"),
        (idle_owner_nothing_pending, "owner",
         "the upcall of a PARKED or KEXIT owner has an empty kmc, and a PARKED owner's has no "
         "DOUPCALL",
         "exit_finish drops the upcall's kmc (CTI exit_finish/mailbox_in_one_place); a parked "
         "UTS with work is stuck (CTIs release/ and reap/deadlock_free)",
         "kse_release and kse_exit need km_completed empty; kse_wakeup wakes a parked owner "
         "instead of setting KUF_DOUPCALL"),
        (unlinked_upcall_clean, "upcall",
         "an unlinked upcall slot has no owner, cur, kmc or flag",
         "create_finish links such a slot as it is (CTI create_finish/user_mode_owns_upcall)",
         "upcall_remove clears the upcall; kse_create links a clean one"),
        (exiting_upcall_in_kexit, "owner",
         "an upcall is exiting exactly while its owner sleeps in kse_exit",
         "the EDEADLK count of lemma_a_upcall_stays subtracts exiting upcalls "
         "(CTI exit_finish/upcalls_while_threads)",
         "kse_exit sets KUF_EXITING before suword; upcall_remove comes after it"),
        (sa_until_done, "global",
         "threading is over (not sa) exactly when one thread is DONE",
         "a process with sa clear and no DONE thread has no step and is not terminal "
         "(CTI reap/deadlock_free)",
         "the last kse_exit and exit1 clear P_SA as the thread finishes"),
        (single_exits, "global",
         "at most one thread is SINGLE or DONE; SINGLE only while exiting, and while exiting one "
         "thread is SINGLE or DONE",
         "an exiting process needs the thread that finishes the exit "
         "(CTIs release/ and proc_exit/deadlock_free)",
         "exit1 -> thread_single(SINGLE_EXIT), by one thread"),
        (a_upcall_stays, "global",
         "while threaded and not exiting, some linked upcall is not exiting, unless one thread is "
         "left",
         "exit_finish of a thread that is not the last must leave an upcall behind "
         "(CTI exit_finish/upcalls_while_threads)",
         "kse_exit's EDEADLK check counts the upcalls that are not exiting"),
        (parked_means_idle, "global",
         "when some thread is PARKED and every other linked thread is PARKED or in kse_exit, "
         "runq and completed are empty",
         "without it every UTS may sleep while work waits: a deadlock (CTI reap/deadlock_free)",
         "kse_release parks only with nothing to run; an export wakes a parked UTS "
         "(wakeup_one on kg_completed)"),
        (completion_delivered_before_parking, "global",
         "while a thread is PARKED and the process is not exiting, a non-empty completed has an "
         "upcalling thread on its way to deliver it",
         "the last awake UTS may leave by kse_exit with completions pending "
         "(CTI exit_begin/lemma_parked_means_idle)",
         "kse_release upcalls instead of parking when kg_completed is not empty; every export is "
         "followed by an upcall or a wakeup_one"),
    ]
    quantify = {"thread": every_thread, "upcall": every_upcall, "owner": every_owner,
                "global": lambda fn: fn}
    return [Property(f"lemma_{fn.__name__}", "always", quantify[scope](fn), source=source,
                     doc=f"{says}. Needed because {needed}.")
            for fn, scope, says, needed, source in table]
