"""Properties of the ``upcall`` design (``model/upcall.py``).

Section 1 of ``shared/protocol/kse-upcall-model.md``: ten invariants (kind
``always``), seven reachability goals (kind ``sometimes``) so that no
invariant passes only because its situation never arises, and one liveness
property (kind ``eventually``). With the ``MAXTHREADS`` option (section 3.1)
there is an eleventh invariant, ``threads_over_limit_stay_in_kernel``:
``numthreads <= MAXTHREADS + #{linked upcalls whose owner is not USER}``. In
words, every linked thread beyond the limit is matched by an upcall whose
owner is held in the kernel (asleep in THRWAIT, or not yet through the check
in ``thread_userret``), so the UTS never gets that upcall back in user mode
while the process is over the limit. Why this reading and not a literal one
is decision 15 of :mod:`model.upcall`; the check itself is step 22 there.
The action ``thrwait`` firing shows that its situation arises. The liveness
property then counts ``thrwait`` among the weakly fair kernel steps.

Absence of deadlock is built into the checker (``checker.results.result.DEADLOCK``).
Every predicate is a pure function of a state view, written in the model's
style (no Python sets, ``len`` or indexing by computed values) so that
symbolic engines can trace it. Inside
one element of an ``all``/``any``, conditions are joined with ``&`` and
``|`` rather than ``and`` and ``or``: a symbolic engine then sees one
condition per element instead of a branch per operand, and the number of
paths stays linear in the slots (``huge`` included).
"""
from __future__ import annotations

from typing import Mapping

from ksecheck.checker import NONE, Param, Property, Ref, has
from ksecheck.model.upcall import (DONE, FREE, NO_PANIC, PARKED, RET, SLEEP, SPARE, USER,
                          ZOMBIE, count, is_linked, numthreads, numupcalls, owns_upcall)

SEED_MAXTHREADS = ("seed: the sysctl kern.threads.max_threads_per_proc; source-notes bug 11 "
                   "(thread explosion): thread_userret (d) \"while p_numthreads > "
                   "max_threads_per_proc: sleep maxthreads\", thread_exit wakes the sleepers")

__all__ = ["properties"]


def properties(consts: Mapping[str, int], maxthreads: int | None = None) -> list[Property]:
    """Every property of the ``upcall`` design for the constants NCPU, T, U, M.

    With ``maxthreads`` (the ``MAXTHREADS`` option) there is one invariant more,
    ``threads_over_limit_stay_in_kernel``, and ``thrwait`` joins the weakly fair steps.
    """
    NCPU, T, U, M = (consts[c] for c in ("NCPU", "T", "U", "M"))

    def owner_in_user(s, j):
        """Upcall ``j``'s owner is a USER thread (so ``j.cur`` is the running user thread)."""
        return count((s.owner[j] == t) & (s.loc[t] == USER) for t in range(T)) == 1

    # --- invariants ---

    def upcall_has_owner(s):
        return all((s.linked[j] == 0) | (s.owner[j] != NONE) for j in range(U))

    def owner_link_consistent(s):
        return all(((s.owner[j] == t) == (s.upcall[t] == j))
                   & ((s.owner[j] != t) | is_linked(s.loc[t]))
                   for j in range(U) for t in range(T))

    def user_mode_owns_upcall(s):
        return not s.sa or all((s.loc[t] != USER) | owns_upcall(s, t, U) for t in range(T))

    def places(s, m) -> int:
        """In how many places mailbox ``m`` is."""
        return (has(s.runq, m) + has(s.completed, m)
                + count(has(s.kmc[j], m) for j in range(U))
                + count(s.mbox[t] == m for t in range(T))
                + count((s.cur[j] == m) & owner_in_user(s, j) for j in range(U)))

    def mailbox_in_one_place(s):
        if s.exiting:
            return True
        return (all(places(s, m) == 1 for m in range(M))
                and not any((s.cur[i] != NONE) & (s.cur[i] == s.cur[j])
                            & owner_in_user(s, i) & owner_in_user(s, j)
                            for i in range(U) for j in range(i + 1, U)))

    def no_thread_leak(s):
        # loc partitions the slots, so "exactly one of linked, SPARE, ZOMBIE"
        # reduces to: every SPARE is the standin of exactly one live thread
        # (loc neither ZOMBIE nor FREE), and every standin is a SPARE.
        held_once = all(
            (s.loc[x] != SPARE)
            | (count((s.standin[t] == x) & (s.loc[t] != ZOMBIE) & (s.loc[t] != FREE)
                     for t in range(T)) == 1)
            for x in range(T))
        return held_once and all((s.standin[t] != x) | (s.loc[x] == SPARE)
                                 for t in range(T) for x in range(T))

    def unbind_clear_in_user(s):
        return all((s.loc[t] != USER) | (s.can_unbind[t] == 0) for t in range(T))

    def upcalls_while_threads(s):
        return not s.sa or s.exiting or numupcalls(s, U) >= 1

    def upcall_limit(s):
        return numupcalls(s, U) <= NCPU

    def clean_exit(s):
        alone = (numthreads(s, T) == 1) & (numupcalls(s, U) == 0)
        return all((s.loc[t] != DONE) | alone for t in range(T))

    def no_panic(s):
        return s.panic == NO_PANIC

    def threads_over_limit_stay_in_kernel(s):
        """numthreads <= MAXTHREADS + #(owners of linked upcalls that are not USER)."""
        held = count(s.linked[j] & (s.owner[j] == t) & (s.loc[t] != USER)
                     for j in range(U) for t in range(T))
        return numthreads(s, T) <= maxthreads + held

    # --- reachability goals ---

    def standin_takes_upcall(s):
        return any((s.loc[t] == SLEEP) & (s.mbox[t] != NONE) & (s.upcall[t] == NONE)
                   for t in range(T))

    def upcall_delivers_completed(s):
        return any(s.kmc[j] != 0 for j in range(U))

    def second_upcall_linked(s):
        return numupcalls(s, U) >= 2

    def kse_exit_leaves_others(s):
        return not s.exiting and any((s.linked[i] == 0) & (s.linked[j] == 1)
                                     for i in range(U) for j in range(i + 1, U))

    def process_exits(s):
        return s.exiting and any(s.loc[t] == DONE for t in range(T))

    def zombie_reaped(s):
        return any((s.loc[x] == FREE) & (s.loc[y] != FREE)
                   for x in range(T) for y in range(x + 1, T))

    def exporter_at_userret(s):
        """Some thread is at ``userret`` case 1: it must wake a parked thread."""
        return count((s.loc[t] == RET) & (s.mbox[t] != NONE) & (s.upcall[t] == NONE)
                     for t in range(T)) > 0

    def uts_running(s):
        """The UTS runs on some thread (and so may call ``kse_wakeup``)."""
        return count((s.loc[t] == USER) & (s.upcall[t] == j) & (s.cur[j] == NONE)
                     for t in range(T) for j in range(U)) > 0

    def parked_then_woken(s):
        if s.panic != NO_PANIC:
            return False
        return any((s.loc[p] == PARKED) & (exporter_at_userret(s)
                                           | (owns_upcall(s, p, U) & uts_running(s)))
                   for p in range(T))

    # --- liveness ---

    def completion_pending(s, m):
        return has(s.completed, m)

    def delivered_or_gone(s, m):
        """Delivered, or the process left threading; a panic ends the obligation too
        (the kernel stopped, and ``no_panic`` reports it)."""
        return (any(has(s.kmc[j], m) for j in range(U)) or s.exiting or not s.sa
                or s.panic != NO_PANIC)

    kernel_steps = ("finish", "wake", "alloc_spare", "upcall_run", "userret", "create_finish",
                    "exit_finish", "exit_other", "exit_finish_proc", "reap")
    if maxthreads is not None:
        kernel_steps += ("thrwait",)
    fairness = (tuple(("weak", a) for a in kernel_steps)
                + (("strong", "tick"),)
                + tuple(("strong", a) for a in ("switch_in", "take_completed", "release")))

    limit = [] if maxthreads is None else [
        Property("threads_over_limit_stay_in_kernel", "always", threads_over_limit_stay_in_kernel,
                 source=SEED_MAXTHREADS,
                 doc=f"the linked threads exceed MAXTHREADS ({maxthreads}) by at most the number "
                     "of linked upcalls whose owner is not in user mode (held in the kernel: in "
                     "THRWAIT, or not yet through the check in thread_userret): a thread beyond "
                     "the limit never takes an upcall back to user mode"),
    ]

    return [
        Property("upcall_has_owner", "always", upcall_has_owner,
                 source='seed: "Each upcall always has an owner thread"; upcall_unlink KASSERT; '
                        'kse_wakeup panic',
                 doc="every linked upcall has an owner"),
        Property("owner_link_consistent", "always", owner_link_consistent,
                 source='thread_user_enter KASSERTs "wrong owner"',
                 doc="j.owner = t <=> t.upcall = j for all slots, and owners are linked threads"),
        Property("user_mode_owns_upcall", "always", user_mode_owns_upcall,
                 source='seed: "Any thread running in user mode owns an upcall structure"',
                 doc="a USER thread of an sa process owns a linked upcall"),
        Property("mailbox_in_one_place", "always", mailbox_in_one_place,
                 source='kse(2): a completion is "reported in only one upcall"',
                 doc="while not exiting, each mailbox is in exactly one of runq, completed, one "
                     "kmc, one thread's mbox, or running (j.cur with a USER owner); no two "
                     "upcalls with USER owners share a cur"),
        Property("no_thread_leak", "always", no_thread_leak,
                 source='seed: standin race "result is a thread leak in kernel"',
                 doc="every non-FREE slot is linked, a SPARE held as standin by exactly one "
                     "live thread, or a ZOMBIE; every standin is a SPARE"),
        Property("unbind_clear_in_user", "always", unbind_clear_in_user,
                 source='thread_userret KASSERT "can unbind"',
                 doc="a USER thread has can_unbind clear"),
        Property("upcalls_while_threads", "always", upcalls_while_threads,
                 source="seed: group shuts down only when all upcalls are gone; kse_exit EDEADLK",
                 doc="sa and not exiting => numupcalls >= 1"),
        Property("upcall_limit", "always", upcall_limit,
                 source="kse_create EPROCLIM",
                 doc=f"numupcalls <= NCPU ({NCPU})"),
        Property("clean_exit", "always", clean_exit,
                 source='ksegrp_unlink KASSERT "residual threads/kses/upcalls"; '
                        'seed: "ksetest now does not leak"',
                 doc="a DONE thread is the only linked thread and no upcall is linked"),
        Property("no_panic", "always", no_panic,
                 source='every KASSERT above; thread_schedule_upcall KASSERT "upcall has owner" '
                        'and panic "no reserve thread when scheduling an upcall"; '
                        'kse_wakeup panic "no owner"',
                 doc="panic is none"),
        *limit,
        Property("standin_takes_upcall", "sometimes", standin_takes_upcall,
                 source="seed: \"the upcall structure is transfered to the new UPCALL thread\"; "
                        "thread_switchout",
                 doc="an upcall was handed to a standin: a SLEEP thread with a mailbox and no "
                     "upcall"),
        Property("upcall_delivers_completed", "sometimes", upcall_delivers_completed,
                 source="thread_userret (e): thread_link_mboxes",
                 doc="an upcall delivered a non-empty completed: some kmc is not empty"),
        Property("second_upcall_linked", "sometimes", second_upcall_linked,
                 source="seed: \"Userland calls kse_create to add more upcall structures\"",
                 doc="two upcalls are linked"),
        Property("kse_exit_leaves_others", "sometimes", kse_exit_leaves_others,
                 source="seed: \"Userland can remove an upcall by calling kse_exit\"",
                 doc="not exiting, an unlinked upcall slot lies below a linked one: kse_exit "
                     "removed an upcall while another remained"),
        Property("process_exits", "sometimes", process_exits,
                 source="exit1 after thread_single(SINGLE_EXIT); kse_purge",
                 doc="the process finished exiting: exiting and a DONE thread"),
        Property("zombie_reaped", "sometimes", zombie_reaped,
                 source="thread_reap",
                 doc="a FREE slot lies below a used one: a zombie was reaped"),
        Property("parked_then_woken", "sometimes", parked_then_woken,
                 source="kse_release msleep on kg_completed; thread_userret (c) wakeup_one; "
                        "kse_wakeup abortsleep",
                 doc="a thread is PARKED and a step that wakes it is enabled: a case-1 userret "
                     "(which must wake a parked thread) or a kse_wakeup of its upcall"),
        Property("completed_delivered", "eventually", delivered_or_gone,
                 source="kse(2): a completion is \"linked into exactly one KSE's km_completed "
                        "list\"; source-notes bug 10 (lost wakeup)",
                 doc="every mailbox put in completed is eventually delivered to some upcall's "
                     "kmc, unless the process exits (exiting), stops being threaded (not sa) "
                     "or the kernel panicked; "
                     "weak fairness of the kernel-internal steps, strong fairness of tick and, "
                     "per thread, of the UTS steps switch_in, take_completed and release",
                 trigger=completion_pending,
                 params=(Param("m", Ref.to(M, "m", optional=False)),),
                 fairness=fairness),
    ]
