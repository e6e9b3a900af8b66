"""The ``loan`` design of KSE (Julian, Oct-Dec 2002): KSEs owned and lent.

This is section 2 of ``shared/protocol/kse-upcall-model.md``, abstracted
from the V1 sources (``kern_thread.c``, ``kern_switch.c``, ``sys/proc.h``,
``i386/trap.c`` of October 2002). The KSE is the virtual CPU and carries the
upcall: it has an owner thread (``ke_bound``), and while the owner is blocked
in the kernel the KSE may be lent to another thread of the group so that it
can finish its in-kernel work. The borrower gives the KSE back at its next
switch and may not take it to user mode: it exports its user context and
exits. The spare thread (``td_standin``) belongs to the thread doing a
syscall, which allocates it at syscall entry, asleep in ``thread_alloc``.

Pseudocode (``k = t.kse``, the KSE thread ``t`` runs on)::

    UTS, on an owner t in user mode with k.cur = none:
        pick m from runq: k.cur := m            -- the user thread m runs
        take k.kmc into runq                    -- completions of the last upcall
    user thread m on t:  yield: runq += m, k.cur := none
    syscall(t):                                 -- thread_user_enter
        t.mbox := k.cur
        if t.mbox and not t.standin:
            release k (lendable); sleep in thread_alloc
            x := thread_alloc(); t.standin := x -- no look at the old value
            take k back
        kernel work; either return, or block:   -- mi_switch
            if t owns k, has t.mbox and standin s:
                s becomes the upcall thread and owns k; t owns nothing
            release k; sleep; wake up runnable without a KSE
    a runnable thread t gets a KSE:             -- kse_reassign / setrunqueue
        its own KSE, or, owning none, one whose owner is asleep: a loan
    thread_userret(t) on k:
        borrower: export t.mbox to completed; thread_exit
        owner:    upcall (k.cur := none, k.kmc += completed) if upcalling;
                  else export and upcall if it has t.mbox and completions wait;
                  else back to the user thread
    thread_reap: a zombie slot is freed

Atomic steps (each one ``sched_lock`` critical section; ``thread_alloc`` is
split at its sleep):

1.  ``switch_in(t, m)``: the UTS runs on ``t`` (``USER``, ``k.cur = none``),
    ``m`` in ``runq``: ``runq -= m``, ``k.cur = m``.
2.  ``switch_out(t)``: ``t`` is ``USER`` and ``k.cur = m``: ``runq += m``,
    ``k.cur = none``.
3.  ``take_completed(t)``: the UTS runs on ``t``, ``k.kmc`` not empty:
    ``runq |= k.kmc``, ``k.kmc = {}``.
4.  ``syscall(t)``: ``t`` is ``USER``. ``m = k.cur``; none: ``t.mbox = none``,
    ``KERNEL``. Else ``t.mbox = m``; without a standin ``ALLOC`` and ``k`` is
    released (``k.thread = none``, ``t.kse = none``); with one ``KERNEL``.
5.  ``alloc_spare(t)``: ``t`` is ``ALLOC``, its own KSE ``k = t.own`` is not
    lent out (``k.thread = none``), a ``FREE`` slot exists; the lowest one
    ``x`` becomes ``SPARE``, ``t.standin = x`` whatever it was; ``t`` runs on
    ``k`` again, ``KERNEL``.
6.  ``finish(t)``: ``KERNEL`` -> ``RET`` (the syscall returns without
    sleeping; see decision 1).
7.  ``block(t)``: ``t`` is ``KERNEL`` on ``k``. If ``t`` owns ``k``, has a
    mailbox and a standin ``s``: ``s`` becomes ``RUNQ``, ``upcalling``, owner
    of ``k``; ``t`` owns nothing and has no standin. In every case
    ``k.thread = none``, ``t.kse = none``, ``SLEEP``.
8.  ``wake(t)``: ``SLEEP`` -> ``RUNQ`` (runnable, no KSE).
9.  ``run(t, k)``: ``t`` is ``RUNQ``, ``k.thread = none``, and ``t`` owns
    ``k``, or ``t`` owns no KSE and ``k``'s owner is ``SLEEP`` or ``ALLOC``
    (a loan): ``k.thread = t``, ``t.kse = k``, ``RET``.
10. ``userret(t)``: ``t`` is ``RET`` on a KSE it owns. If ``upcalling``:
    clear it, ``k.cur = none``, ``k.kmc |= completed``, ``completed = {}``,
    ``t.mbox = none``, ``USER``. Else if ``t.mbox`` and ``completed`` is not
    empty: ``completed += t.mbox``, ``t.mbox = none``, ``upcalling`` (stays
    ``RET``). Else ``t.mbox = none``, ``USER``.
11. ``borrower_exit(t)``: ``t`` is ``RET`` on a KSE it does not own:
    ``completed += t.mbox``, ``t.mbox = none``; ``k.thread = none``,
    ``t.kse = none``; its standin (if any) -> ``ZOMBIE``; ``t`` -> ``ZOMBIE``.
12. ``reap(x)``: ``ZOMBIE`` -> ``FREE``, every field back to its default.

Bug variants (switches fixed when the model is built):

* ``borrower_stash``: in step 11 a borrower whose KSE's owner has no standin
  becomes ``SPARE`` and that owner's ``td_standin`` instead of ``ZOMBIE``.
  With step 5 overwriting ``td_standin``, the borrower slot leaks
  (``no_thread_leak``): the seed's standin race.
* ``borrower_to_user``: step 11 is replaced by ``borrower_to_user(t)``:
  ``t.mbox = none``, ``USER``, still on the borrowed KSE (breaks
  ``borrower_stays_in_kernel`` and ``mailbox_in_one_place`` in one step).
* ``lose_context``: adds ``borrower_lose_context(t)``: step 11 with a failed
  export, the mailbox dropped (breaks ``mailbox_in_one_place``).

There are no terminal states (no process exit, ``kse_create``, ``kse_exit``,
``kse_release`` or ``kse_wakeup`` in this design's model) and no panic. A
state with no enabled step is *at the bound* when some thread waits in
``ALLOC`` and no slot is ``FREE``; any other is a deadlock. The correct
model never reaches the bound on ``loan-tiny`` or ``loan-small`` (measured):
live threads are limited by the mailboxes they hold (an owner in ``ALLOC``
holds one, every thread that handed its KSE to an upcall holds one, and a
standin is allocated only for a syscall with one), so there the slots run
out only while a zombie waits to be reaped. ``borrower_stash`` reaches the
bound, through leaked slots.

Measured by breadth-first search (distinct states / transitions / depth):
``loan-tiny`` 41 / 66 / 16, ``loan-small`` 268,056 / 881,088 / 64; no
deadlock, every invariant holds, every action fires on ``loan-small``.

Decisions (ambiguities of the reference page and what this model does):

1.  **``finish`` is a step.** Section 2 lists no ``finish``, so every
    syscall would block; then an owner never reaches ``userret`` with a
    mailbox (blocking with one always hands its KSE to the standin), and the
    owner branch "export its own context and set ``upcalling``" that the
    page spells out is dead. V1 syscalls that do not sleep return through
    ``thread_userret`` with the KSE they came in on (``i386/trap.c``
    ``syscall``), so ``finish(t)`` (``KERNEL`` -> ``RET``) is taken over from
    section 1. Without it ``loan-small`` has 129,552 states instead of
    268,056 (``loan-tiny``: 34 instead of 41).
2.  **``userret`` is two actions**, ``userret(t)`` for an owner and
    ``borrower_exit(t)`` for a borrower (``t.own != t.kse``). Their guards
    exclude each other, so states and transitions are the same as one
    action; the trace says which path ``thread_userret`` took.
3.  **``borrower_to_user`` replaces** ``borrower_exit`` (the borrower has no
    exit path in that variant) rather than adding a choice: the bug is that
    V1 without the rule sent the borrower home. It drops ``t.mbox`` without
    export, as every return to user mode does (the page's "``t.mbox = none``,
    ``loc = USER``"); the user thread it resumes is not tracked.
4.  **``lose_context`` is its own action**, ``borrower_lose_context(t)``,
    present only in the variant, rather than a Bool parameter of
    ``borrower_exit``: the trace then reads ``borrower_lose_context(t0)``
    instead of ``borrower_exit(t0, true)``, and the correct model has no
    instance that can never fire. It needs ``t.mbox != none`` (an export
    of nothing cannot fail).
5.  **Stash condition.** ``borrower_stash`` tests the owner of the borrowed
    KSE at the moment of the exit (``k.owner``), and stashes only when its
    ``standin`` is none, as the page says (source-notes give V1
    ``thread_exit`` only as "a borrower sets ``ke_bound->td_standin = td``";
    the test for none is the page's). The borrower's own standin (never
    present in this model) still goes to ``ZOMBIE``.
6.  **``syscall`` with ``k.cur = none``** sets ``t.mbox = none`` explicitly
    (as section 1 does); it is none already in every reachable state.
7.  **``block`` by a non-owner** (only reachable under ``borrower_to_user``)
    just sleeps: the upcall is made only by the owner of ``k``.
8.  **Guards on ``none``.** A step that reads ``k = t.kse`` (or ``t.own`` in
    ``alloc_spare``) is disabled when it is none; ``run`` does not lend a KSE
    whose owner is none. These only matter after an invariant broke.
9.  **``wake``** goes to ``RUNQ`` (the thread needs a KSE: step 9), unlike
    section 1's ``SLEEP`` -> ``RET``. An upcall thread waits in ``RUNQ`` too,
    with ``kse = none`` and no mailbox.
10. **"Lowest FREE slot"** is the first ``FREE`` slot counting from ``t0``.
11. **Reading of properties** (in ``properties/loan.py``):
    ``kse_owner_consistent`` also asks that every KSE *has* an owner; the
    ``sometimes`` goal ``zombie_reaped`` is a ``FREE`` slot below a used one
    (slots are taken lowest first, so only ``reap`` makes such a hole).
    On ``loan-tiny`` the goals ``completions_delivered`` and
    ``lent_while_allocating`` are unreachable, rightly: with one mailbox,
    once a borrower carries it no UTS can enter a syscall with one, and the
    completion it exports is never delivered (this design has no
    ``kse_release`` or clock upcall). The goals are meant for ``loan-small``.

Thread-slot counts (``len(s.loc)``) are the only sizes the steps use; they
are constants of the configuration, not state.
"""
from __future__ import annotations

from functools import partial
from typing import Mapping

from ksecheck.checker import (NONE, Action, Array, Bool, Enum, Model, ModelError, Param, Ref, Schema,
                     Set, Var, bit, has)
from ksecheck.checker.core.catalogue import Config, Variant

LOC = Enum("FREE", "SPARE", "USER", "KERNEL", "SLEEP", "ALLOC", "RUNQ", "RET", "ZOMBIE")
"""Where a thread slot is; ``ALLOC`` = asleep in ``thread_alloc`` at syscall entry."""
FREE, SPARE, USER, KERNEL, SLEEP, ALLOC, RUNQ, RET, ZOMBIE = LOC.values()

VARIANTS = ("borrower_stash", "borrower_to_user", "lose_context")


def schema(T: int, NCPU: int, M: int) -> Schema:
    """Thread slots ``t0..``, KSEs ``k0..``, the group's completions and the UTS's queue."""
    thread, kse, mbox, mset = Ref.to(T, "t"), Ref.to(NCPU, "k"), Ref.to(M, "m"), Set.of(M, "m")
    return Schema(
        Array("loc", T, LOC, "t", doc="where the thread slot is"),
        Array("kse", T, kse, "t", doc="the KSE it runs on now (td_kse)"),
        Array("own", T, kse, "t", doc="the KSE it owns (ke_bound points back)"),
        Array("standin", T, thread, "t", doc="td_standin: its spare thread"),
        Array("mbox", T, mbox, "t", doc="td_mailbox: the user context it carries"),
        Array("upcalling", T, Bool(), "t", doc="TDF_UPCALLING"),
        Array("owner", NCPU, thread, "k", doc="ke_bound: the thread owning the KSE"),
        Array("thread", NCPU, thread, "k", doc="ke_thread: who runs on it (owner, borrower, none)"),
        Array("cur", NCPU, mbox, "k", doc="km_curthread of its kse_mailbox"),
        Array("kmc", NCPU, mset, "k", doc="km_completed: delivered by the last upcall"),
        Var("completed", mset, doc="kg_completed: exported, not yet delivered"),
        Var("runq", mset, doc="the UTS's queue of runnable user threads"),
    )


# -- helpers over a view ---------------------------------------------------

def linked(s, t) -> bool:
    """Whether slot ``t`` is a linked thread (not FREE, SPARE or ZOMBIE)."""
    return not (s.loc[t] == FREE or s.loc[t] == SPARE or s.loc[t] == ZOMBIE)


def uts_runs(s, t) -> bool:
    """The UTS runs on ``t``: user mode on a KSE whose ``km_curthread`` is none."""
    return s.loc[t] == USER and s.kse[t] != NONE and s.cur[s.kse[t]] == NONE


def lowest_free(s) -> int:
    """The lowest FREE thread slot, or NONE (``thread_alloc`` has to wait)."""
    for x in range(len(s.loc)):
        if s.loc[x] == FREE:
            return x
    return NONE


def lendable(s, k) -> bool:
    """KSE ``k``'s owner is asleep (in a syscall or in ``thread_alloc``)."""
    o = s.owner[k]
    return o != NONE and (s.loc[o] == SLEEP or s.loc[o] == ALLOC)


def at_bound(s) -> bool:
    """Some owner waits in ``thread_alloc`` and every thread slot is used."""
    waiting = any(s.loc[t] == ALLOC for t in range(len(s.loc)))
    return waiting and not any(s.loc[t] == FREE for t in range(len(s.loc)))


# -- the steps -------------------------------------------------------------

def init(s, NCPU: int, M: int) -> None:
    """KSE i owned by, and running, thread i in user mode; every mailbox in runq."""
    for i in range(NCPU):
        s.loc[i] = USER
        s.kse[i] = i
        s.own[i] = i
        s.owner[i] = i
        s.thread[i] = i
    s.runq = (1 << M) - 1


def switch_in_guard(s, t, m):
    return uts_runs(s, t) and has(s.runq, m)


def switch_in(s, t, m):
    s.runq = s.runq & ~bit(m)
    s.cur[s.kse[t]] = m


def switch_out_guard(s, t):
    return s.loc[t] == USER and s.kse[t] != NONE and s.cur[s.kse[t]] != NONE


def switch_out(s, t):
    k = s.kse[t]
    s.runq = s.runq | bit(s.cur[k])
    s.cur[k] = NONE


def take_completed_guard(s, t):
    return uts_runs(s, t) and s.kmc[s.kse[t]] != 0


def take_completed(s, t):
    k = s.kse[t]
    s.runq = s.runq | s.kmc[k]
    s.kmc[k] = 0


def syscall_guard(s, t):
    return s.loc[t] == USER and s.kse[t] != NONE


def syscall(s, t):
    k = s.kse[t]
    m = s.cur[k]
    s.mbox[t] = m
    if m == NONE:
        s.loc[t] = KERNEL
    elif s.standin[t] == NONE:
        s.loc[t] = ALLOC
        s.thread[k] = NONE
        s.kse[t] = NONE
    else:
        s.loc[t] = KERNEL


def alloc_spare_guard(s, t):
    return (s.loc[t] == ALLOC and s.own[t] != NONE and s.thread[s.own[t]] == NONE
            and lowest_free(s) != NONE)


def alloc_spare(s, t):
    x = lowest_free(s)
    s.loc[x] = SPARE
    s.standin[t] = x  # V1: no look at the old td_standin
    k = s.own[t]
    s.thread[k] = t
    s.kse[t] = k
    s.loc[t] = KERNEL


def finish_guard(s, t):
    return s.loc[t] == KERNEL


def finish(s, t):
    s.loc[t] = RET


def block_guard(s, t):
    return s.loc[t] == KERNEL and s.kse[t] != NONE


def block(s, t):
    k = s.kse[t]
    x = s.standin[t]
    if s.own[t] == k and s.mbox[t] != NONE and x != NONE:
        s.loc[x] = RUNQ
        s.upcalling[x] = 1
        s.own[x] = k
        s.owner[k] = x
        s.own[t] = NONE
        s.standin[t] = NONE
    s.thread[k] = NONE
    s.kse[t] = NONE
    s.loc[t] = SLEEP


def wake_guard(s, t):
    return s.loc[t] == SLEEP


def wake(s, t):
    s.loc[t] = RUNQ


def run_guard(s, t, k):
    return (s.loc[t] == RUNQ and s.thread[k] == NONE
            and (s.own[t] == k or (s.own[t] == NONE and lendable(s, k))))


def run(s, t, k):
    s.thread[k] = t
    s.kse[t] = k
    s.loc[t] = RET


def userret_guard(s, t):
    return s.loc[t] == RET and s.kse[t] != NONE and s.own[t] == s.kse[t]


def userret(s, t):
    k = s.kse[t]
    if s.upcalling[t]:
        s.upcalling[t] = 0
        s.cur[k] = NONE
        s.kmc[k] = s.kmc[k] | s.completed
        s.completed = 0
        s.mbox[t] = NONE
        s.loc[t] = USER
    elif s.mbox[t] != NONE and s.completed != 0:
        s.completed = s.completed | bit(s.mbox[t])
        s.mbox[t] = NONE
        s.upcalling[t] = 1
    else:
        s.mbox[t] = NONE
        s.loc[t] = USER


def borrower_guard(s, t):
    return s.loc[t] == RET and s.kse[t] != NONE and s.own[t] != s.kse[t]


def borrower_lose_guard(s, t):
    return borrower_guard(s, t) and s.mbox[t] != NONE


def borrower_thread_exit(s, t, stash: bool) -> None:
    """V1 ``thread_exit`` of a borrower: give ``k`` back; zombie, or stash as the owner's spare."""
    k = s.kse[t]
    o = s.owner[k]
    s.thread[k] = NONE
    s.kse[t] = NONE
    if s.standin[t] != NONE:
        s.loc[s.standin[t]] = ZOMBIE
        s.standin[t] = NONE
    if stash and o != NONE and s.standin[o] == NONE:
        s.loc[t] = SPARE
        s.standin[o] = t
    else:
        s.loc[t] = ZOMBIE


def borrower_exit(s, t, stash: bool):
    if s.mbox[t] != NONE:
        s.completed = s.completed | bit(s.mbox[t])
    s.mbox[t] = NONE
    borrower_thread_exit(s, t, stash)


def borrower_lose_context(s, t, stash: bool):
    s.mbox[t] = NONE  # "We just lose that context"
    borrower_thread_exit(s, t, stash)


def borrower_to_user(s, t):
    s.mbox[t] = NONE
    s.loc[t] = USER


def reap_guard(s, x):
    return s.loc[x] == ZOMBIE


def reap(s, x):
    s.loc[x] = FREE
    s.kse[x] = NONE
    s.own[x] = NONE
    s.standin[x] = NONE
    s.mbox[x] = NONE
    s.upcalling[x] = 0


# -- the model -------------------------------------------------------------

def build(consts: Mapping[str, int], variants: frozenset[str] = frozenset(),
          options: Mapping[str, object] | None = None) -> Model:
    """The loan design for constants ``NCPU``, ``T``, ``M`` with ``variants`` switched on;
    its properties are :mod:`properties.loan`."""
    missing = [c for c in ("NCPU", "T", "M") if c not in consts]
    if missing:
        raise ModelError(f"model loan: give the constant(s) {missing} (e.g. NCPU=2, T=4, M=2)")
    NCPU, T, M = consts["NCPU"], consts["T"], consts["M"]
    if not (NCPU >= 1 and M >= 1 and T > NCPU):
        raise ModelError(f"model loan: need NCPU >= 1, M >= 1 and T > NCPU "
                         f"(one owner per KSE plus a spare); got NCPU={NCPU}, T={T}, M={M}")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ModelError(f"model loan: unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    stash = "borrower_stash" in variants
    thread, kse, mbox = Ref.to(T, "t", False), Ref.to(NCPU, "k", False), Ref.to(M, "m", False)
    t_, k_, m_, x_ = Param("t", thread), Param("k", kse), Param("m", mbox), Param("x", thread)

    actions = [
        Action("switch_in", (t_, m_), switch_in_guard, switch_in,
               doc="the UTS on t resumes user thread m from runq",
               source="libkse UTS: sets km_curthread, then resumes the thread"),
        Action("switch_out", (t_,), switch_out_guard, switch_out,
               doc="the user thread running on t yields back to the UTS",
               source="libkse UTS: thread yields, km_curthread cleared"),
        Action("take_completed", (t_,), take_completed_guard, take_completed,
               doc="the UTS on t moves its KSE's km_completed into runq",
               source="libkse UTS: reads km_completed after an upcall"),
        Action("syscall", (t_,), syscall_guard, syscall,
               doc="t enters the kernel; with a mailbox and no standin it sleeps in thread_alloc, "
                   "releasing its KSE",
               source="V1 thread_user_enter: td_mailbox = km_curthread; "
                      "td_standin = thread_alloc()"),
        Action("alloc_spare", (t_,), alloc_spare_guard, alloc_spare,
               doc="thread_alloc returns a FREE slot as t's standin (old value unchecked); "
                   "t takes its KSE back",
               source="V1 thread_user_enter: thread_alloc wakes, td_standin assigned"),
        Action("finish", (t_,), finish_guard, finish,
               doc="t's syscall returns without sleeping",
               source="V1 i386/trap.c syscall -> userret"),
        Action("block", (t_,), block_guard, block,
               doc="t sleeps and releases its KSE; an owner with a mailbox hands the KSE "
                   "to its standin as an upcall",
               source="V1 msleep -> mi_switch -> thread_schedule_upcall "
                      "(the upcall thread becomes ke_bound)"),
        Action("wake", (t_,), wake_guard, wake,
               doc="t's sleep ends; it is runnable without a KSE",
               source="V1 wakeup -> setrunqueue"),
        Action("run", (t_, k_), run_guard, run,
               doc="runnable t gets KSE k: its own, or a loan of a KSE whose owner sleeps",
               source="V1 kern_switch.c kse_reassign / setrunqueue: lend (TDI_LOAN) or give back"),
        Action("userret", (t_,), userret_guard, userret,
               doc="owner t returns to user mode: upcall, export and upcall, or resume",
               source="V1 thread_userret (owner, ke_bound == td)"),
    ]
    if "borrower_to_user" in variants:
        actions.append(Action(
            "borrower_to_user", (t_,), borrower_guard, borrower_to_user,
            doc="BUG: borrower t returns to user mode on the borrowed KSE",
            source="V1 thread_userret without the 48bfcddd rule (borrower stays in kernel)"))
    else:
        actions.append(Action(
            "borrower_exit", (t_,), borrower_guard, partial(borrower_exit, stash=stash),
            doc=("borrower t exports its context and exits, stashing itself as the owner's "
                 "standin (BUG)" if stash else "borrower t exports its context, gives the KSE "
                 "back and exits"),
            source="V1 thread_userret (borrower): thread_export_context; thread_exit"))
    if "lose_context" in variants:
        actions.append(Action(
            "borrower_lose_context", (t_,), borrower_lose_guard,
            partial(borrower_lose_context, stash=stash),
            doc="BUG: borrower t's export fails; its mailbox is dropped and it exits",
            source='V1 thread_userret comment: "We just lose that context"'))
    actions.append(Action("reap", (x_,), reap_guard, reap,
                          doc="zombie slot x is freed with every field cleared",
                          source="V1 thread_reap"))

    return Model(
        name="loan",
        schema=schema(T, NCPU, M),
        init=partial(init, NCPU=NCPU, M=M),
        actions=actions,
        terminal=None,
        at_bound=at_bound,
        doc=__doc__.split("\n\n")[0],
    )


DOC = "the loan design (Oct-Dec 2002): KSEs owned by a thread and lent while it sleeps"
"""The design in one line."""

CONFIGS = [
    Config("loan-tiny", {"NCPU": 1, "T": 3, "M": 1},
           "one KSE, three thread slots, one user thread: unit tests"),
    Config("loan-small", {"NCPU": 2, "T": 4, "M": 2},
           "two KSEs, four slots, two user threads: CI and the seed's standin race"),
]
"""The named configurations."""

BUG_VARIANTS = [
    Variant("borrower_stash",
            "a borrower whose KSE's owner has no standin becomes the owner's td_standin "
            "(SPARE) at exit instead of a zombie",
            violates=("no_thread_leak",),
            history="seed (davidxu 7742d9b2): \"a borrower thread would possible stash it self "
                    "as owner's spare thread in thread_exit(), after owner is resumed, result "
                    "is a thread leak in kernel\"",
            check_on=("loan-tiny", "loan-small")),
    Variant("borrower_to_user",
            "a borrower returns to user mode on the borrowed KSE instead of exiting",
            violates=("borrower_stays_in_kernel", "mailbox_in_one_place"),
            history="seed (julian 48bfcddd): \"The owner thread must be blocked, and the "
                    "borrower can not proceed back to user space with the borrowed KSE\"",
            check_on=("loan-tiny", "loan-small")),
    Variant("lose_context",
            "a borrower's export of its context may fail; the mailbox is dropped",
            violates=("mailbox_in_one_place",),
            history="V1 thread_userret comment: \"We just lose that context\"",
            check_on=("loan-tiny", "loan-small")),
]
"""The historic bugs, each switched on by its name."""
