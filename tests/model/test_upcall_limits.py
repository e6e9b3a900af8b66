"""The ``MAXTHREADS`` option of the ``upcall`` design (section 3.1 of the page).

The ``thrwait`` step (``thread_userret`` (d): sleep in "maxthreads" while more
than MAXTHREADS threads are linked) on hand-built states at, below and above
the limit; the wakeup in ``thread_exit``; the property
``threads_over_limit_stay_in_kernel``; the option off; and full searches of
``limits`` (the correct model verifies) and of ``no_maxthreads_wakeup`` (a
deadlock). States are built on ``limits`` (MAXTHREADS=2, NCPU=2, T=4, U=2,
M=2) by editing a view of the initial state.
"""
import pytest

from ksecheck.checker import NONE, Model, ModelError, bit
from ksecheck.checker.explicit.options import Options
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.result import DEADLOCK, Verdict
from ksecheck.checker.results.text import format_trace
from ksecheck.model.upcall import (KEXIT, LOC, OPTIONS, PARKED, RET, RUNQ, SINGLE, SLEEP, SPARE,
                                   THRWAIT, USER, ZOMBIE, Upcall)
from ksecheck.properties.upcall import properties
from ksecheck.registry import UPCALL as FAMILY

from .states import edit, enabled, holds, read, step

LIMITS = dict(FAMILY.config("limits").constants)
OPTS = {"MAXTHREADS": 2}
PROP = "threads_over_limit_stay_in_kernel"
M0, M1 = bit(0), bit(1)


@pytest.fixture(scope="module")
def m():
    return FAMILY.model(LIMITS, frozenset(), OPTS)


@pytest.fixture(scope="module")
def s0(m):
    return m.initial_states[0]


# Hand-built states of limits. t0 owns u0 and is on its way back from an
# upcall (RET, upcalling, a standin t3); ``workers(n)`` adds n threads asleep
# in the kernel with a mailbox and no upcall (they lost it in thread_switchout).

def upcalling_t0(m, s0):
    return edit(m, s0, loc={0: RET, 3: SPARE}, upcalling={0: True}, standin={0: 3}, runq=0)


def workers(m, s, n):
    """t1..tn asleep with mailboxes m0, m1 (n <= 2): linked, owning nothing."""
    return edit(m, s, loc={t: SLEEP for t in range(1, n + 1)},
                mbox={t: t - 1 for t in range(1, n + 1)})


def over(m, s0):
    """Three linked threads: t0 upcalling, t1 and t2 asleep with m0 and m1."""
    return workers(m, upcalling_t0(m, s0), 2)


# -- the option ---------------------------------------------------------------

def test_limits_config_and_variant():
    cfg = FAMILY.config("limits")
    assert dict(cfg.constants) == {"NCPU": 2, "T": 4, "U": 2, "M": 2}
    assert dict(cfg.options) == {"MAXTHREADS": 2} and cfg.tier == "slow"
    v = FAMILY.variant("no_maxthreads_wakeup")
    assert v.violates == (DEADLOCK,) and v.check_on == ("limits",) and v.history and v.doc
    assert OPTIONS == ("MAXTHREADS",) and LOC.names[THRWAIT] == "THRWAIT"
    assert THRWAIT == len(LOC.names) - 1                        # appended: others keep numbers


def test_option_adds_the_step_the_property_and_the_fairness(m):
    names = [a.name for a in m.actions]
    assert names[-1] == "thrwait" and names.count("thrwait") == 1
    a = m.actions[-1]
    assert "maxthreads" in a.source and a.doc
    p = m.property(PROP)
    assert p.kind == "always" and "max_threads_per_proc" in p.source and p.doc
    assert ("weak", "thrwait") in m.property("completed_delivered").fairness
    assert m.schema.readable(m.initial_states[0])  # prints with the THRWAIT-aware domain


def test_option_off_is_the_model_without_limits():
    plain = FAMILY.model(dict(FAMILY.config("small").constants))
    assert "thrwait" not in [a.name for a in plain.actions]
    assert PROP not in [p.name for p in plain.properties]
    assert ("weak", "thrwait") not in plain.property("completed_delivered").fairness
    s = plain.initial_states[0]
    with pytest.raises(ModelError):                             # THRWAIT is not in its domain
        edit(plain, s, loc={1: THRWAIT})
    # the variant alone, without the option, changes nothing
    r = explore(FAMILY.instantiate("tiny", ["no_maxthreads_wakeup"]))
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (940, 2081, 36)
    assert r.get(DEADLOCK).verdict is Verdict.HOLDS


@pytest.mark.parametrize("options, match", [
    ({"MAXTHREAD": 2}, "no option"),
    ({"MAXTHREADS": 0}, "at least 1"),
    ({"MAXTHREADS": True}, "at least 1"),
    ({"MAXTHREADS": "2"}, "at least 1"),
])
def test_bad_options_are_rejected(options, match):
    with pytest.raises(ModelError, match=match):
        FAMILY.model(LIMITS, frozenset(), options)


# -- thrwait: guard and effect ------------------------------------------------

def test_below_the_limit_no_wait(m, s0):
    s = upcalling_t0(m, s0)                                     # 1 linked thread
    assert not enabled(m, s, "thrwait", 0)
    assert read(m, step(m, s, "userret", 0, NONE)).loc[0] == USER


def test_at_the_limit_no_wait(m, s0):
    s = workers(m, upcalling_t0(m, s0), 1)                      # 2 linked = MAXTHREADS
    assert not enabled(m, s, "thrwait", 0)
    v = read(m, step(m, s, "userret", 0, NONE))                 # case 3: the upcall
    assert v.loc[0] == USER and not v.upcalling[0]


def test_above_the_limit_the_upcall_waits(m, s0):
    s = over(m, s0)                                             # 3 linked > 2
    assert enabled(m, s, "thrwait", 0)
    assert not enabled(m, s, "userret", 0, NONE)                # (d) before (e)
    after = step(m, s, "thrwait", 0)
    assert after == edit(m, s, loc={0: THRWAIT})                # nothing else changes
    v = read(m, after)
    assert v.upcall[0] == 0 and v.owner[0] == 0 and v.upcalling[0] and v.standin[0] == 3
    assert [inst.label for inst, _ in m.successors(after) if inst.args[:1] == (0,)] == []
    assert holds(m, PROP, after) and holds(m, PROP, s)


def test_above_the_limit_case_4_waits_too(m, s0):
    s = edit(m, over(m, s0), upcalling={0: False})              # a plain syscall return
    assert enabled(m, s, "thrwait", 0) and not enabled(m, s, "userret", 0, NONE)


def test_waiting_threads_count(m, s0):
    """THRWAIT threads are linked: t0 waiting, a worker and a new upcall thread make 3 > 2."""
    s = edit(m, workers(m, upcalling_t0(m, s0), 1), loc={0: THRWAIT, 2: RET}, upcall={2: 1},
             owner={1: 2}, linked={1: True}, upcalling={2: True})
    assert enabled(m, s, "thrwait", 2)
    assert enabled(m, edit(m, s, loc={1: ZOMBIE}), "userret", 2, NONE)  # 2 linked: passes


def test_lost_upcall_exits_over_the_limit(m, s0):
    """Case 1 (c) comes before (d): a worker that lost its upcall exits, it does not wait."""
    s = edit(m, over(m, s0), loc={1: RET})
    assert not enabled(m, s, "thrwait", 1)
    assert read(m, step(m, s, "userret", 1, NONE)).loc[1] == ZOMBIE


def test_can_unbind_fast_path_is_not_throttled(m, s0):
    """Case 2 (b) comes before (d): nothing to report returns straight to the user thread."""
    s = edit(m, over(m, s0), upcalling={0: False}, can_unbind={0: True}, mbox={2: NONE},
             loc={2: SLEEP}, cur={0: 1}, runq=0)
    s = edit(m, s, mbox={0: 1})
    assert not enabled(m, s, "thrwait", 0)
    assert read(m, step(m, s, "userret", 0, NONE)).loc[0] == USER
    # with something to report it exports and stays RET: the check comes on the next step
    s = edit(m, s, doupcall={0: True})
    after = step(m, s, "userret", 0, NONE)
    v = read(m, after)
    assert v.loc[0] == RET and v.upcalling[0] and not v.can_unbind[0]
    assert enabled(m, after, "thrwait", 0) and not enabled(m, after, "userret", 0, NONE)


def test_process_exit_takes_a_waiting_thread(m, s0):
    s = edit(m, step(m, over(m, s0), "thrwait", 0), exiting=True)
    after = step(m, s, "exit_other", 0)
    v = read(m, after)
    assert v.loc[0] == ZOMBIE and not v.linked[0] and v.loc[3] == ZOMBIE
    # thrwait does not test exiting (only the six steps the page names do)
    assert enabled(m, edit(m, over(m, s0), exiting=True), "thrwait", 0)


# -- the wakeup in thread_exit ---------------------------------------------------

def waiting(m, s0):
    """t0 owns u0, t2 owns u1, both asleep in maxthreads; t1 a worker in RET with m0."""
    return edit(m, s0, loc={0: THRWAIT, 1: RET, 2: THRWAIT}, mbox={1: 0}, upcall={2: 1},
                linked={1: True}, owner={1: 2}, upcalling={0: True, 2: True}, runq=M1)


def test_thread_exit_wakes_every_waiter_to_recheck(m, s0):
    s = waiting(m, s0)
    assert holds(m, PROP, s) and not enabled(m, s, "thrwait", 0)
    after = step(m, s, "userret", 1, NONE)                      # case 1: export, thread_exit
    v = read(m, after)
    assert v.loc[1] == ZOMBIE and v.completed == M0
    assert v.loc[0] == RET and v.loc[2] == RET                  # woken to RET, not to USER
    assert v.upcalling[0] and v.upcalling[2]
    assert enabled(m, after, "userret", 0, NONE)                # 2 linked: the check passes


def test_a_woken_thread_sleeps_again_while_still_over(m, s0):
    s = edit(m, waiting(m, s0), loc={3: SLEEP}, mbox={3: 1}, runq=0)   # 4 linked
    after = step(m, s, "userret", 1, NONE)                      # 3 linked remain
    assert read(m, after).loc[0] == RET
    assert enabled(m, after, "thrwait", 0) and not enabled(m, after, "userret", 0, NONE)


def test_kse_exit_and_process_exit_wake_waiters(m, s0):
    # kse_exit of another upcall's owner: exit_finish -> thread_exit
    s = edit(m, waiting(m, s0), loc={1: KEXIT}, mbox={1: NONE}, upcall={1: 1, 2: NONE},
             owner={1: 1}, runq=M0 | M1, upcalling={2: False})
    s = edit(m, s, loc={2: SLEEP}, mbox={2: 0}, runq=M1)
    v = read(m, step(m, s, "exit_finish", 1))
    assert v.loc[1] == ZOMBIE and v.loc[0] == RET
    # exit_other during process exit
    s = edit(m, waiting(m, s0), exiting=True, loc={3: SINGLE})
    v = read(m, step(m, s, "exit_other", 1))
    assert v.loc[0] == RET and v.loc[2] == RET


def test_no_maxthreads_wakeup_wakes_nobody(m, s0):
    buggy = FAMILY.model(LIMITS, frozenset({"no_maxthreads_wakeup"}), OPTS)
    s = waiting(m, s0)
    v = read(buggy, step(buggy, s, "userret", 1, NONE))
    assert v.loc[1] == ZOMBIE and v.loc[0] == THRWAIT and v.loc[2] == THRWAIT


def test_parked_is_not_thrwait(m, s0):
    """thread_exit wakes maxthreads sleepers only; a parked UTS needs case 1's wakeup_one."""
    s = edit(m, waiting(m, s0), loc={0: PARKED}, upcalling={0: False})
    v = read(m, step(m, s, "userret", 1, 0))
    assert v.loc[0] == RET and v.upcalling[0] and v.loc[2] == RET


# -- the property -------------------------------------------------------------------

def test_property_holds_initially_and_breaks_on_a_hand_built_state(m, s0):
    assert holds(m, PROP, s0)
    # a worker asleep with m0 and both upcalls running the UTS in user mode: 3 > 2 + 0
    broken = edit(m, s0, loc={1: SLEEP, 2: USER}, mbox={1: 0}, linked={1: True}, owner={1: 2},
                  upcall={2: 1}, runq=M1)
    assert not holds(m, PROP, broken)
    assert holds(m, PROP, edit(m, broken, loc={2: THRWAIT}))    # the excess is held
    assert holds(m, PROP, edit(m, broken, loc={2: RUNQ}))       # not yet through the check
    assert holds(m, PROP, edit(m, broken, loc={1: ZOMBIE}))     # at the limit


def test_property_is_not_vacuous_without_the_check():
    """With the throttle off (MAXTHREADS above T), the property judged at 2 fails."""
    p = Upcall(LIMITS, frozenset(), 100)
    prop = [q for q in properties(LIMITS, 2) if q.name == PROP]
    unthrottled = Model(name="upcall", schema=p.schema(), init=p.init, actions=p.actions(),
                        properties=prop, terminal=p.terminal, at_bound=p.at_bound)
    r = explore(unthrottled, Options(liveness=False, stop_when=(PROP,)))
    res = r.get(PROP)
    assert res.verdict is Verdict.VIOLATED and len(res.trace) == 11
    last = read(unthrottled, res.trace.steps[-1].state)
    assert sorted(last.loc[t] for t in range(4)).count(USER) == 2


# -- full searches ------------------------------------------------------------------

@pytest.mark.slow
def test_limits_verifies():
    """Every invariant holds, no deadlock, every goal reached, liveness holds, every action fires."""
    r = explore(FAMILY.instantiate("limits"))
    bad = {p.name: p.verdict for p in r.properties if not p.verdict.ok}
    assert bad == {}
    assert r.get(PROP).verdict is Verdict.HOLDS and r.get(DEADLOCK).verdict is Verdict.HOLDS
    assert r.stats.unfired == [] and r.stats.action_counts["thrwait"] > 0
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (1_185_616, 4_143_544, 47)
    assert r.stats.deadlock_states == 0 and r.stats.at_bound_states == 0


def test_no_maxthreads_wakeup_deadlocks():
    model = FAMILY.instantiate("limits", ["no_maxthreads_wakeup"])
    r = explore(model, Options(stop_when=(DEADLOCK,)))
    res = r.get(DEADLOCK)
    assert res.verdict is Verdict.VIOLATED and len(res.trace) == 13
    text = format_trace(res.trace)
    print(text)
    labels = [s.label for s in res.trace.steps]
    # threads over the limit sleep in maxthreads ...
    assert labels.count("thrwait(t1)") == 1 and labels.count("thrwait(t2)") == 1
    # ... a thread exits without waking them ...
    exit_at = labels.index("userret(t0)")
    assert exit_at > labels.index("thrwait(t2)")
    after_exit = read(model, res.trace.steps[exit_at].state)
    assert after_exit.loc[0] == ZOMBIE and after_exit.loc[1] == THRWAIT
    assert after_exit.loc[2] == THRWAIT
    # ... and nothing can run
    last = res.trace.steps[-1].state
    assert model.successors(last) == []
    v = read(model, last)
    assert [v.loc[t] for t in range(4)].count(THRWAIT) == 2 and not v.exiting
    assert "t1.loc         RET -> THRWAIT" in text and "t0.loc         RET -> ZOMBIE" in text
    assert "violated in the final state: deadlock_free" in text
