"""Per-step tests of the ``loan`` design (``model/loan.py``).

Each action's guard and effect on hand-built states, the boundary cases
(no FREE slot, a lent KSE, owner vs borrower at ``thread_userret``), the
three bug variants, and each property: true initially, false on a
hand-built broken state. States are built on ``loan-small`` (NCPU=2, T=4,
M=2) unless said otherwise, by playing steps from the initial state or by
editing a view.
"""
import pytest

from ksecheck.checker import NONE, ModelError, bit
from ksecheck.model.loan import (ALLOC, FREE, KERNEL, RET, RUNQ, SLEEP, SPARE, USER, ZOMBIE,
                                 at_bound)
from ksecheck.registry import LOAN as FAMILY

from .states import enabled, holds, play, read, step

SMALL = {"NCPU": 2, "T": 4, "M": 2}
M0, M1 = bit(0), bit(1)
INVARIANTS = ["no_thread_leak", "mailbox_in_one_place", "borrower_stays_in_kernel",
              "one_thread_per_kse", "kse_owner_consistent"]
GOALS = ["kse_lent", "borrower_exits", "completions_delivered", "zombie_reaped",
         "lent_while_allocating", "upcall_scheduled"]


@pytest.fixture(scope="module")
def m():
    return FAMILY.model(SMALL)


@pytest.fixture(scope="module")
def s0(m):
    return m.initial_states[0]


def view(m, s):
    """A writable view of a copy of ``s``."""
    return m.schema.view(list(s))


def freeze(v):
    return tuple(v._v)


# States reached by play from the initial state of loan-small.
T0_RUNS_M0 = [("switch_in", 0, 0)]
T0_ALLOC = T0_RUNS_M0 + [("syscall", 0)]
T0_KERNEL = T0_ALLOC + [("alloc_spare", 0)]                # t2 is t0's standin
T0_UPCALLED = T0_KERNEL + [("block", 0)]                    # t2 owns k0, t0 sleeps with m0
T0_BORROWS_K1 = T0_UPCALLED + [("wake", 0), ("switch_in", 1, 1), ("syscall", 1),
                               ("run", 0, 1)]               # t1 in ALLOC, t0 on k1


# -- the initial state and the family ------------------------------------

def test_initial_state(m, s0):
    v = read(m, s0)
    assert list(v.loc) == [USER, USER, FREE, FREE]
    assert list(v.kse)[:2] == [0, 1] and list(v.own)[:2] == [0, 1]
    assert list(v.owner) == [0, 1] and list(v.thread) == [0, 1]
    assert list(v.cur) == [NONE, NONE] and list(v.kmc) == [0, 0]
    assert v.runq == M0 | M1 and v.completed == 0
    assert len(m.initial_states) == 1


def test_every_invariant_holds_initially_and_no_goal_is_reached(m, s0):
    for name in INVARIANTS:
        assert holds(m, name, s0), name
    for name in GOALS:
        assert not holds(m, name, s0), name


def test_family_configs_and_variants():
    assert FAMILY.default_config == "loan-small"
    assert dict(FAMILY.config("loan-tiny").constants) == {"NCPU": 1, "T": 3, "M": 1}
    assert dict(FAMILY.config("loan-small").constants) == SMALL
    violates = {v.name: set(v.violates) for v in FAMILY.variants}
    assert violates == {"borrower_stash": {"no_thread_leak"},
                        "borrower_to_user": {"borrower_stays_in_kernel", "mailbox_in_one_place"},
                        "lose_context": {"mailbox_in_one_place"}}
    model = FAMILY.instantiate("loan-small")
    names = {p.name for p in model.properties}
    assert all(n in names for v in FAMILY.variants for n in v.violates)
    assert all(v.history for v in FAMILY.variants)
    assert all(a.source and a.doc for a in model.actions)


def test_bad_constants_and_variants_are_rejected():
    with pytest.raises(ModelError, match="T > NCPU"):
        FAMILY.model({"NCPU": 2, "T": 2, "M": 1})
    with pytest.raises(ModelError, match="constant"):
        FAMILY.model({"NCPU": 2, "T": 4})
    with pytest.raises(ModelError, match="unknown variant"):
        FAMILY.model(SMALL, frozenset({"no_such_bug"}))


# -- UTS steps -------------------------------------------------------------

def test_switch_in_needs_the_uts_and_a_queued_mailbox(m, s0):
    assert enabled(m, s0, "switch_in", 0, 0) and enabled(m, s0, "switch_in", 1, 1)
    assert not enabled(m, s0, "switch_in", 2, 0)            # t2 is FREE
    s = step(m, s0, "switch_in", 0, 0)
    v = read(m, s)
    assert v.cur[0] == 0 and v.runq == M1
    assert not enabled(m, s, "switch_in", 0, 1)             # k0 runs m0: no UTS on t0
    assert not enabled(m, s, "switch_in", 1, 0)             # m0 is not in runq


def test_switch_out_returns_the_mailbox_to_runq(m, s0):
    assert not enabled(m, s0, "switch_out", 0)
    s = play(m, s0, *T0_RUNS_M0, ("switch_out", 0))
    assert s == s0


def test_take_completed_moves_kmc_into_runq(m, s0):
    assert not enabled(m, s0, "take_completed", 0)          # kmc empty
    v = view(m, s0)
    v.runq = M1
    v.kmc[0] = M0
    s = freeze(v)
    assert enabled(m, s, "take_completed", 0) and not enabled(m, s, "take_completed", 1)
    after = read(m, step(m, s, "take_completed", 0))
    assert after.runq == M0 | M1 and after.kmc[0] == 0
    v.cur[0] = 1                                            # a user thread runs: no UTS
    v.runq = 0
    assert not enabled(m, freeze(v), "take_completed", 0)


# -- syscall and thread_alloc ----------------------------------------------

def test_syscall_without_mailbox_keeps_the_kse(m, s0):
    v = read(m, step(m, s0, "syscall", 0))
    assert v.loc[0] == KERNEL and v.mbox[0] == NONE and v.kse[0] == 0 and v.thread[0] == 0


def test_syscall_with_mailbox_and_no_standin_sleeps_in_thread_alloc(m, s0):
    v = read(m, play(m, s0, *T0_ALLOC))
    assert v.loc[0] == ALLOC and v.mbox[0] == 0
    assert v.kse[0] == NONE and v.thread[0] == NONE and v.own[0] == 0 and v.owner[0] == 0
    assert v.cur[0] == 0                                    # km_curthread is not cleared


def test_syscall_with_mailbox_and_standin_goes_straight_in(m, s0):
    v = view(m, play(m, s0, *T0_RUNS_M0))
    v.loc[2] = SPARE
    v.standin[0] = 2
    after = read(m, step(m, freeze(v), "syscall", 0))
    assert after.loc[0] == KERNEL and after.mbox[0] == 0 and after.kse[0] == 0


def test_syscall_needs_user_mode(m, s0):
    s = play(m, s0, *T0_ALLOC)
    assert not enabled(m, s, "syscall", 0) and not enabled(m, s, "syscall", 2)


def test_alloc_spare_takes_the_lowest_free_slot_and_the_kse_back(m, s0):
    v = view(m, play(m, s0, *T0_ALLOC))
    v.loc[2] = ZOMBIE                                       # t2 not free: t3 is the lowest
    after = read(m, step(m, freeze(v), "alloc_spare", 0))
    assert after.loc[3] == SPARE and after.standin[0] == 3
    assert after.loc[0] == KERNEL and after.kse[0] == 0 and after.thread[0] == 0


def test_alloc_spare_overwrites_the_old_standin(m, s0):
    v = view(m, play(m, s0, *T0_ALLOC))
    v.loc[2] = SPARE
    v.standin[0] = 2                                        # as a stashing borrower leaves it
    after = step(m, freeze(v), "alloc_spare", 0)
    assert read(m, after).standin[0] == 3 and read(m, after).loc[2] == SPARE
    assert not holds(m, "no_thread_leak", after)            # t2 is nobody's standin now


def test_alloc_spare_waits_without_a_free_slot(m, s0):
    v = view(m, play(m, s0, *T0_ALLOC))
    v.loc[2] = v.loc[3] = ZOMBIE
    s = freeze(v)
    assert not enabled(m, s, "alloc_spare", 0)
    assert at_bound(read(m, s)) and not at_bound(read(m, s0))
    s = step(m, s, "reap", 2)                               # a reap frees a slot
    assert read(m, step(m, s, "alloc_spare", 0)).standin[0] == 2


def test_alloc_spare_waits_while_its_kse_is_lent(m, s0):
    s = play(m, s0, *T0_BORROWS_K1)                         # t1 in ALLOC, borrower t0 on k1
    assert not enabled(m, s, "alloc_spare", 1)
    assert holds(m, "lent_while_allocating", s)
    s = step(m, s, "borrower_exit", 0)
    assert enabled(m, s, "alloc_spare", 1)


# -- kernel work, blocking, waking -----------------------------------------

def test_finish_returns_from_the_kernel(m, s0):
    s = step(m, s0, "syscall", 0)
    assert read(m, step(m, s, "finish", 0)).loc[0] == RET
    assert not enabled(m, s0, "finish", 0)


def test_block_hands_the_kse_to_the_standin_as_an_upcall(m, s0):
    v = read(m, play(m, s0, *T0_UPCALLED))
    assert v.loc[0] == SLEEP and v.own[0] == NONE and v.standin[0] == NONE and v.kse[0] == NONE
    assert v.mbox[0] == 0
    assert v.loc[2] == RUNQ and v.upcalling[2] and v.own[2] == 0 and v.kse[2] == NONE
    assert v.owner[0] == 2 and v.thread[0] == NONE
    assert holds(m, "upcall_scheduled", play(m, s0, *T0_UPCALLED))


def test_block_without_mailbox_keeps_ownership(m, s0):
    v = read(m, play(m, s0, ("syscall", 0), ("block", 0)))
    assert v.loc[0] == SLEEP and v.own[0] == 0 and v.owner[0] == 0
    assert v.kse[0] == NONE and v.thread[0] == NONE


def test_block_with_mailbox_but_no_standin_makes_no_upcall(m, s0):
    v = view(m, play(m, s0, *T0_RUNS_M0))
    v.loc[0], v.mbox[0] = KERNEL, 0                         # hand-built: no standin
    after = read(m, step(m, freeze(v), "block", 0))
    assert after.loc[0] == SLEEP and after.own[0] == 0 and after.owner[0] == 0


def test_wake_makes_runnable_without_a_kse(m, s0):
    s = play(m, s0, ("syscall", 0), ("block", 0))
    assert not enabled(m, s0, "wake", 0)
    v = read(m, step(m, s, "wake", 0))
    assert v.loc[0] == RUNQ and v.kse[0] == NONE


# -- run: own KSE or a loan ------------------------------------------------

def test_run_on_own_kse(m, s0):
    s = play(m, s0, ("syscall", 0), ("block", 0), ("wake", 0))
    assert enabled(m, s, "run", 0, 0)
    assert not enabled(m, s, "run", 0, 1)                   # an owner never borrows
    v = read(m, step(m, s, "run", 0, 0))
    assert v.loc[0] == RET and v.kse[0] == 0 and v.thread[0] == 0


def test_run_lends_only_a_kse_whose_owner_sleeps(m, s0):
    s = play(m, s0, *T0_UPCALLED, ("wake", 0))              # t0 owns nothing
    assert not enabled(m, s, "run", 0, 0)                   # k0's owner t2 is RUNQ
    assert not enabled(m, s, "run", 0, 1)                   # k1's owner t1 is USER
    s_sleep = play(m, s, ("syscall", 1), ("block", 1))
    assert enabled(m, s_sleep, "run", 0, 1)                 # owner SLEEP: lendable
    s_alloc = play(m, s, ("switch_in", 1, 1), ("syscall", 1))
    assert enabled(m, s_alloc, "run", 0, 1)                 # owner ALLOC: lendable
    assert holds(m, "kse_lent", step(m, s_alloc, "run", 0, 1))


def test_run_needs_a_free_kse(m, s0):
    s = play(m, s0, ("syscall", 1), ("block", 1), *T0_UPCALLED, ("wake", 0),
             ("run", 0, 1), ("wake", 1))                    # t0 borrows k1, then t1 wakes
    assert not enabled(m, s, "run", 1, 1)                   # owner t1 waits for k1
    assert enabled(m, step(m, s, "borrower_exit", 0), "run", 1, 1)


# -- thread_userret: owner and borrower ------------------------------------

def test_userret_and_borrower_exit_split_owner_from_borrower(m, s0):
    s = play(m, s0, *T0_BORROWS_K1)
    assert enabled(m, s, "borrower_exit", 0) and not enabled(m, s, "userret", 0)
    s = play(m, s0, ("syscall", 0), ("finish", 0))
    assert enabled(m, s, "userret", 0) and not enabled(m, s, "borrower_exit", 0)


def test_userret_upcall_delivers_completed(m, s0):
    v = view(m, play(m, s0, *T0_UPCALLED, ("run", 2, 0)))
    v.completed = M1                                        # some completion waits
    v.runq = 0
    after = read(m, step(m, freeze(v), "userret", 2))
    assert after.loc[2] == USER and not after.upcalling[2]
    assert after.cur[0] == NONE and after.kmc[0] == M1 and after.completed == 0
    assert holds(m, "completions_delivered", freeze(after))


def test_userret_owner_with_mailbox_exports_when_completions_wait(m, s0):
    v = view(m, play(m, s0, *T0_KERNEL, ("finish", 0)))
    v.completed = M1
    v.runq = 0
    after = read(m, step(m, freeze(v), "userret", 0))
    assert after.loc[0] == RET and after.upcalling[0] and after.mbox[0] == NONE
    assert after.completed == M0 | M1


def test_userret_owner_resumes_its_thread_when_nothing_waits(m, s0):
    v = read(m, play(m, s0, *T0_KERNEL, ("finish", 0), ("userret", 0)))
    assert v.loc[0] == USER and v.mbox[0] == NONE and v.cur[0] == 0 and not v.upcalling[0]


def test_borrower_exit_exports_and_gives_the_kse_back(m, s0):
    v = read(m, play(m, s0, *T0_BORROWS_K1, ("borrower_exit", 0)))
    assert v.loc[0] == ZOMBIE and v.mbox[0] == NONE and v.kse[0] == NONE
    assert v.completed == M0 and v.thread[1] == NONE and v.standin[1] == NONE
    assert holds(m, "borrower_exits", play(m, s0, *T0_BORROWS_K1, ("borrower_exit", 0)))


def test_borrower_exit_sends_a_borrowers_standin_to_zombie(m, s0):
    v = view(m, play(m, s0, *T0_BORROWS_K1))
    v.loc[3], v.standin[0] = SPARE, 3                       # hand-built: never reached
    after = read(m, step(m, freeze(v), "borrower_exit", 0))
    assert after.loc[3] == ZOMBIE and after.standin[0] == NONE


# -- reap --------------------------------------------------------------------

def test_reap_clears_every_field(m, s0):
    v = view(m, s0)
    v.loc[3], v.kse[3], v.own[3], v.standin[3], v.mbox[3], v.upcalling[3] = ZOMBIE, 1, 1, 2, 1, 1
    s = freeze(v)
    assert enabled(m, s, "reap", 3) and not enabled(m, s, "reap", 2)
    assert step(m, s, "reap", 3) == s0


def test_reap_after_a_borrower_exit_leaves_a_hole(m, s0):
    s = play(m, s0, *T0_BORROWS_K1, ("borrower_exit", 0), ("reap", 0))
    assert read(m, s).loc[0] == FREE and holds(m, "zombie_reaped", s)


# -- variants ----------------------------------------------------------------

def test_borrower_stash_makes_the_borrower_the_owners_standin(s0):
    m = FAMILY.model(SMALL, frozenset({"borrower_stash"}))
    s = play(m, s0, *T0_BORROWS_K1, ("borrower_exit", 0))
    v = read(m, s)
    assert v.loc[0] == SPARE and v.standin[1] == 0 and v.completed == M0
    assert holds(m, "no_thread_leak", s)                    # not yet: t1 still holds t0
    leaked = step(m, s, "alloc_spare", 1)
    assert read(m, leaked).standin[1] == 3 and not holds(m, "no_thread_leak", leaked)


def test_borrower_stash_needs_an_owner_without_standin(s0):
    m = FAMILY.model(SMALL, frozenset({"borrower_stash"}))
    v = view(m, play(m, s0, *T0_BORROWS_K1))
    v.loc[3], v.standin[1] = SPARE, 3                       # owner t1 already has a standin
    after = read(m, step(m, freeze(v), "borrower_exit", 0))
    assert after.loc[0] == ZOMBIE and after.standin[1] == 3


def test_borrower_stash_counterexample_is_the_seed_story():
    m = FAMILY.instantiate("loan-small", ["borrower_stash"])
    labels = shortest_violation(m, "no_thread_leak")
    assert labels == ["switch_in(t0, m0)", "switch_in(t1, m1)", "syscall(t0)", "syscall(t1)",
                      "alloc_spare(t0)", "block(t0)", "wake(t0)", "run(t0, k1)",
                      "borrower_exit(t0)", "alloc_spare(t1)"]


def test_borrower_to_user_replaces_the_exit(s0):
    m = FAMILY.model(SMALL, frozenset({"borrower_to_user"}))
    names = [a.name for a in m.actions]
    assert "borrower_to_user" in names and "borrower_exit" not in names
    s = step(m, play(m, s0, *T0_BORROWS_K1), "borrower_to_user", 0)
    v = read(m, s)
    assert v.loc[0] == USER and v.kse[0] == 1 and v.mbox[0] == NONE
    assert not holds(m, "borrower_stays_in_kernel", s)
    assert not holds(m, "mailbox_in_one_place", s)          # t1.mbox = m1 = k1.cur, running too


def test_lose_context_adds_a_failing_export(s0):
    m = FAMILY.model(SMALL, frozenset({"lose_context"}))
    s = play(m, s0, *T0_BORROWS_K1)
    assert enabled(m, s, "borrower_exit", 0) and enabled(m, s, "borrower_lose_context", 0)
    lost = step(m, s, "borrower_lose_context", 0)
    v = read(m, lost)
    assert v.loc[0] == ZOMBIE and v.completed == 0 and v.mbox[0] == NONE
    assert not holds(m, "mailbox_in_one_place", lost)
    v = view(m, s)
    v.mbox[0] = NONE                                        # nothing to export: cannot fail
    assert not enabled(m, freeze(v), "borrower_lose_context", 0)


def test_correct_model_has_no_variant_actions(m):
    names = {a.name for a in m.actions}
    assert not names & {"borrower_to_user", "borrower_lose_context"}


# -- properties on broken states ---------------------------------------------

def test_no_thread_leak_predicate(m, s0):
    v = view(m, s0)
    v.loc[2] = SPARE                                        # nobody's standin
    assert not holds(m, "no_thread_leak", freeze(v))
    v.standin[0] = 2
    assert holds(m, "no_thread_leak", freeze(v))
    v.standin[1] = 2                                        # two holders
    assert not holds(m, "no_thread_leak", freeze(v))
    v = view(m, s0)
    v.standin[0] = 2                                        # standin names a FREE slot
    assert not holds(m, "no_thread_leak", freeze(v))
    v = view(m, s0)
    v.loc[2], v.loc[3], v.standin[3] = SPARE, ZOMBIE, 2     # held only by a zombie
    assert not holds(m, "no_thread_leak", freeze(v))


def test_mailbox_in_one_place_predicate(m, s0):
    v = view(m, s0)
    v.completed = M0                                        # m0 in runq and completed
    assert not holds(m, "mailbox_in_one_place", freeze(v))
    v = view(m, s0)
    v.runq = M1                                             # m0 nowhere
    assert not holds(m, "mailbox_in_one_place", freeze(v))
    v.cur[0] = v.cur[1] = 0                                 # m0 running on two KSEs
    assert not holds(m, "mailbox_in_one_place", freeze(v))
    v.cur[1] = NONE
    assert holds(m, "mailbox_in_one_place", freeze(v))      # running once
    v.loc[0] = KERNEL                                       # stale cur of a kernel thread
    assert not holds(m, "mailbox_in_one_place", freeze(v))
    v.mbox[0] = 0
    assert holds(m, "mailbox_in_one_place", freeze(v))
    v.kmc[1] = M0                                           # and in a kmc
    assert not holds(m, "mailbox_in_one_place", freeze(v))


def test_borrower_stays_in_kernel_predicate(m, s0):
    v = view(m, s0)
    v.kse[1], v.thread[1], v.thread[0], v.kse[0] = 0, 0, NONE, NONE
    v.loc[0] = SLEEP                                        # t1 in user mode on k0, owned by t0
    assert not holds(m, "borrower_stays_in_kernel", freeze(v))
    v = view(m, s0)
    v.kse[0] = NONE                                         # user mode on no KSE
    assert not holds(m, "borrower_stays_in_kernel", freeze(v))


def test_one_thread_per_kse_predicate(m, s0):
    v = view(m, s0)
    v.thread[0] = NONE                                      # t0 says k0, k0 says nobody
    assert not holds(m, "one_thread_per_kse", freeze(v))
    v = view(m, s0)
    v.kse[1] = 0                                            # two threads claim k0
    assert not holds(m, "one_thread_per_kse", freeze(v))


def test_kse_owner_consistent_predicate(m, s0):
    v = view(m, s0)
    v.own[0] = NONE
    assert not holds(m, "kse_owner_consistent", freeze(v))
    v = view(m, s0)
    v.owner[0] = v.own[0] = NONE                            # consistent, but k0 has no owner
    assert not holds(m, "kse_owner_consistent", freeze(v))
    v = view(m, s0)
    v.loc[0] = ZOMBIE                                       # owner not linked
    assert not holds(m, "kse_owner_consistent", freeze(v))


# -- whole-model checks on loan-tiny ------------------------------------------

def bfs(m):
    """Every reachable state of ``m`` with its parent edge (a stand-in for checker.explicit.search)."""
    parent = {s: None for s in m.initial_states}
    frontier = list(m.initial_states)
    while frontier:
        nxt = []
        for s in frontier:
            for inst, n in m.successors(s):
                if n not in parent:
                    parent[n] = (s, inst)
                    nxt.append(n)
        frontier = nxt
    return parent


def shortest_violation(m, prop):
    """Labels of a shortest path to a state breaking ``prop`` (BFS, first found)."""
    check = m.property(prop).check
    parent = {s: None for s in m.initial_states}
    frontier = list(m.initial_states)
    while frontier:
        nxt = []
        for s in frontier:
            for inst, n in m.successors(s):
                if n in parent:
                    continue
                parent[n] = (s, inst)
                if not check(read(m, n)):
                    labels = []
                    while parent[n] is not None:
                        n, inst = parent[n]
                        labels.append(inst.label)
                    return labels[::-1]
                nxt.append(n)
        frontier = nxt
    return None


def test_loan_tiny_state_count_and_invariants():
    m = FAMILY.instantiate("loan-tiny")
    states = bfs(m)
    assert len(states) == 41
    for s in states:
        for name in INVARIANTS:
            assert holds(m, name, s), name
        assert m.successors(s), "no deadlock (and no at-bound state) in loan-tiny"


@pytest.mark.parametrize("variant, prop, length", [
    ("borrower_to_user", "borrower_stays_in_kernel", 11),
    ("borrower_to_user", "mailbox_in_one_place", 11),
    ("lose_context", "mailbox_in_one_place", 11),
])
def test_loan_tiny_variants_fail(variant, prop, length):
    m = FAMILY.instantiate("loan-tiny", [variant])
    assert len(shortest_violation(m, prop)) == length


def test_borrower_stash_cannot_leak_on_loan_tiny():
    m = FAMILY.instantiate("loan-tiny", ["borrower_stash"])
    assert shortest_violation(m, "no_thread_leak") is None
