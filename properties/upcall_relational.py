"""Safety properties of the relational ``upcall`` system, and the lemmas that prove them.

The system is :mod:`model.upcall_relational` (the ``upcall`` design of
:mod:`model.upcall` over uninterpreted sorts). :func:`prove_all_sizes` proves
that every safety property below holds in every reachable state **for every
number of threads, upcalls and mailboxes, and every NCPU**: each property and
each lemma holds initially and is preserved by each of the 21 steps, assuming
all of them (one Z3 query per (step, invariant),
:func:`checker.symbolic.relational.prove`).

Safety properties (the goals; each as in :mod:`properties.upcall`, with its
"Precise readings" from ``shared/protocol/kse-upcall-model.md``):

* ``upcall_has_owner``, ``owner_link_consistent``, ``user_mode_owns_upcall``,
  ``mailbox_in_one_place``, ``no_thread_leak``, ``unbind_clear_in_user``,
  ``upcalls_while_threads``, ``clean_exit``, ``no_panic``;
* ``upcall_limit`` (``numupcalls <= NCPU``) only for a fixed NCPU
  (``prove_all_sizes(ncpu=2)``): "at most n" is first-order for a fixed n,
  and the proof for every NCPU abstracts the limit away (see the model).

Relational readings. References are relations that are partial functions (the
``*_functional`` lemmas), so "``j.owner = t``" is ``owner(j, t)`` and "none"
is "no ``t``". ``mailbox_in_one_place`` says "exactly one of the five places,
and within a place exactly one upcall or thread" where the explicit model
sums counts; "the owner of ``j`` is USER" is "some owner of ``j`` is USER"
(the same thing, owners being unique). Each property is evaluated on every
reachable state of ``tiny`` and ``small`` by the tests, and on arbitrary
states against :mod:`properties.upcall`, so the two readings agree.

Why the lemmas (what each says is in its entry of :func:`lemmas`): the
safety properties are not inductive alone. The lemmas are of four kinds:

1. *Shape*: every reference relation is a partial function; standins are
   held once; unlinked upcall slots and threads outside the group hold
   nothing (``upcall_remove``, ``thread_exit`` and ``reap`` clear them).
2. *One lemma per location* (``at_USER`` ... ``at_SINGLE``): what a thread at
   that location holds: an upcall, a standin, a mailbox, which flags, and
   whether its upcall's ``cur`` is idle or equal to its mailbox. These carry
   the mailbox from place to place (``cur`` -> ``mbox`` -> ``completed`` ->
   ``kmc`` -> ``runq``) and rule out panics (an unbindable thread in the
   kernel has a standin).
3. ``exiting_upcall_owner`` and the last clause of ``at_KEXIT``: the EDEADLK
   check of ``kse_exit`` keeps a non-exiting upcall while other threads
   remain, which is why ``upcalls_while_threads`` holds.
4. Nothing else: no lemma mentions sizes or NCPU.

Outside EPR. ``user_mode_owns_upcall`` (thread -> upcall), ``upcall_has_owner``
(upcall -> thread), "every SPARE has a holder" and "an unbindable thread has
a standin" (thread -> thread), "a mailbox is in some place" and "a thread
that lost its upcall has a mailbox" (mailbox <-> thread) are forall-exists
statements whose sort graph has cycles
(:func:`checker.symbolic.relational.alternation_graph`); no reformulation into
relations avoids them, since an upcall and its owner point at each other.
Z3's model-based quantifier instantiation still answers every query; a
query it gave up on would be UNKNOWN, never HOLDS.
"""
from __future__ import annotations

from collections.abc import Sequence

from z3 import And, Const, Distinct, Exists, ForAll, Implies, Not, Or

from ksecheck.checker.results.result import Result
from ksecheck.checker.symbolic.relational import prove
from ksecheck.model.upcall_relational import UpcallRelational, build
from ksecheck.properties.upcall import properties as explicit_properties

SAFETY = ("upcall_has_owner", "owner_link_consistent", "user_mode_owns_upcall",
          "mailbox_in_one_place", "no_thread_leak", "unbind_clear_in_user",
          "upcalls_while_threads", "clean_exit", "no_panic")
"""The safety properties proved for every size (``upcall_limit`` needs a fixed NCPU)."""


SOURCES = {p.name: p.source for p in explicit_properties({"NCPU": 1, "T": 1, "U": 1, "M": 1})}
"""Where each property comes from: the same sources as :mod:`properties.upcall`."""


def safety(r: UpcallRelational) -> dict[str, tuple[object, str]]:
    """The safety properties: name -> (formula, what it says)."""
    th, up, mb = r.thread, r.upcall, r.mailbox
    t, t2, x = Const("t", th), Const("t2", th), Const("x", th)
    j, j2 = Const("j", up), Const("j2", up)
    m = Const("m", mb)
    owner, tdu, standin, mbox, cur, kmc = r.owner, r.td_upcall, r.standin, r.mbox, r.cur, r.kmc
    live = lambda v: Not(r.at(v, "FREE", "ZOMBIE"))

    places = [r.runq(m), r.completed(m), Exists([j], kmc(j, m)), Exists([t], mbox(t, m)),
              Exists([j], And(cur(j, m), r.owner_in_user(j)))]
    exclusive = [Not(And(a, b)) for i, a in enumerate(places) for b in places[i + 1:]]
    return {
        "upcall_has_owner": (
            ForAll([j], Implies(r.linked(j), Exists([t], owner(j, t)))),
            "every linked upcall has an owner"),
        "owner_link_consistent": (
            ForAll([j, t], And(owner(j, t) == tdu(t, j), Implies(owner(j, t), r.is_linked(t)))),
            "j.owner = t <=> t.upcall = j, and owners are linked threads"),
        "user_mode_owns_upcall": (
            Implies(r.sa, ForAll([t], Implies(r.at(t, "USER"),
                                              Exists([j], And(r.linked(j), owner(j, t)))))),
            "a USER thread of an sa process owns a linked upcall"),
        "mailbox_in_one_place": (
            Implies(Not(r.exiting), ForAll([m], And(
                Or(places), *exclusive,
                ForAll([j, j2], Implies(And(kmc(j, m), kmc(j2, m)), j == j2)),
                ForAll([t, t2], Implies(And(mbox(t, m), mbox(t2, m)), t == t2)),
                ForAll([j, j2], Implies(And(cur(j, m), r.owner_in_user(j), cur(j2, m),
                                            r.owner_in_user(j2)), j == j2))))),
            "while not exiting, each mailbox is in exactly one place"),
        "no_thread_leak": (
            And(ForAll([x], Implies(r.at(x, "SPARE"), Exists([t], And(
                    standin(t, x), live(t),
                    ForAll([t2], Implies(And(standin(t2, x), live(t2)), t2 == t)))))),
                ForAll([t, x], Implies(standin(t, x), r.at(x, "SPARE")))),
            "every SPARE is the standin of exactly one live thread; every standin is a SPARE"),
        "unbind_clear_in_user": (
            ForAll([t], Implies(r.at(t, "USER"), Not(r.can_unbind(t)))),
            "a USER thread has can_unbind clear"),
        "upcalls_while_threads": (
            Implies(And(r.sa, Not(r.exiting)), Exists([j], r.linked(j))),
            "sa and not exiting => some upcall is linked"),
        "clean_exit": (
            ForAll([t], Implies(r.at(t, "DONE"), And(
                ForAll([t2], Implies(r.is_linked(t2), t2 == t)),
                ForAll([j], Not(r.linked(j)))))),
            "a DONE thread is the only linked thread and no upcall is linked"),
        "no_panic": (r.nopanic(), "panic is none"),
    }


def lemmas(r: UpcallRelational) -> dict[str, tuple[object, str]]:
    """The strengthening lemmas: name -> (formula, what and why)."""
    th, up, mb = r.thread, r.upcall, r.mailbox
    t, t2, x, o = Const("t", th), Const("t2", th), Const("x", th), Const("o", th)
    j, j2, k = Const("j", up), Const("j2", up), Const("k", up)
    m, m2 = Const("m", mb), Const("m2", mb)
    owner, tdu, standin, mbox, cur, kmc = r.owner, r.td_upcall, r.standin, r.mbox, r.cur, r.kmc
    cu, upc = r.can_unbind, r.upcalling

    def functional(rel, a, b, b2):
        return ForAll([a, b, b2], Implies(And(rel(a, b), rel(a, b2)), b == b2))

    def has_upcall(v):
        return Exists([j2], tdu(v, j2))

    def no_mbox(v):
        return ForAll([m2], Not(mbox(v, m2)))

    def no_standin(v):
        return ForAll([t2], Not(standin(v, t2)))

    def upcall_idle(v):
        """``v``'s upcall runs no user thread (``cur`` none)."""
        return ForAll([k, m2], Implies(tdu(v, k), Not(cur(k, m2))))

    def cur_is_mbox(v):
        """``v``'s upcall's ``cur`` is ``v``'s mailbox."""
        return ForAll([k, m2], Implies(tdu(v, k), cur(k, m2) == mbox(v, m2)))

    def at(*names):
        return lambda body: ForAll([t], Implies(r.at(t, *names), body))

    quiet = lambda v: And(Not(cu(v)), Not(upc(v)))
    return {
        "owner_functional": (functional(owner, j, t, t2), "an upcall has at most one owner"),
        "td_upcall_functional": (functional(tdu, t, j, j2), "a thread has at most one upcall"),
        "standin_functional": (functional(standin, t, x, t2), "a thread has at most one standin"),
        "mbox_functional": (functional(mbox, t, m, m2), "a thread has at most one mailbox"),
        "cur_functional": (functional(cur, j, m, m2), "an upcall runs at most one user thread"),
        "standin_injective": (
            ForAll([t, t2, x], Implies(And(standin(t, x), standin(t2, x)), t == t2)),
            "no spare is held twice"),
        "unlinked_upcall_clear": (
            ForAll([j, t, m], Implies(Not(r.linked(j)), And(
                Not(owner(j, t)), Not(cur(j, m)), Not(kmc(j, m)), Not(r.doupcall(j)),
                Not(r.u_exiting(j))))),
            ("upcall_remove clears a slot: create_finish links an ownerless upcall (no panic) "
             "with no stale completions")),
        "unlinked_thread_clear": (
            at("FREE", "SPARE", "ZOMBIE", "DONE")(And(
                ForAll([j], Not(tdu(t, j))), no_standin(t), no_mbox(t))),
            ("threads outside the group hold no upcall, standin or mailbox (thread_exit "
             "stashes the standin; every exit drops the mailbox)")),
        "free_spare_quiet": (
            at("FREE", "SPARE")(quiet(t)),
            "a spare starts with clear flags (reap clears them; a spare never runs)"),
        "standin_holder_linked": (
            ForAll([t, x], Implies(standin(t, x), r.is_linked(t))),
            "only a linked thread holds a standin: its exit stashes it"),
        "exiting_upcall_owner": (
            ForAll([j, o], Implies(And(r.u_exiting(j), owner(j, o)), r.at(o, "KEXIT"))),
            ("KUF_EXITING is set only by its owner's kse_exit, which it does not leave: so the "
             "UTS that calls kse_exit counts its own upcall as not exiting")),
        "at_USER": (
            at("USER")(And(has_upcall(t), no_mbox(t), Not(upc(t)))),
            ("a USER thread has an upcall, no mailbox (every return to user mode drops it) and "
             "is not upcalling")),
        "at_KERNEL": (
            at("KERNEL")(And(has_upcall(t), Not(upc(t)), cur_is_mbox(t),
                             Implies(cu(t), And(Exists([x], standin(t, x)),
                                                Exists([m], mbox(t, m)))),
                             Implies(Not(cu(t)), no_mbox(t)))),
            ("in a syscall a thread keeps its upcall; its mailbox is its upcall's cur; it may "
             "unbind only with a standin (so block never panics)")),
        "at_ALLOC_ENTER": (
            at("ALLOC_ENTER")(And(has_upcall(t), no_standin(t), quiet(t), cur_is_mbox(t),
                                  Exists([m], mbox(t, m)))),
            "asleep in thread_alloc for a first standin"),
        "at_SLEEP": (
            at("SLEEP")(And(quiet(t), Or(has_upcall(t), Exists([m], mbox(t, m))),
                            ForAll([j], Implies(tdu(t, j), And(no_mbox(t), upcall_idle(t)))),
                            Implies(Not(has_upcall(t)), no_standin(t)))),
            ("a sleeper either kept its upcall (no mailbox) or handed it to its standin (then "
             "it has a mailbox, and no standin)")),
        "at_RET": (
            at("RET")(And(
                Or(has_upcall(t), Exists([m], mbox(t, m))),
                Implies(Not(has_upcall(t)), And(no_standin(t), quiet(t))),
                Implies(cu(t), And(Not(upc(t)), has_upcall(t), cur_is_mbox(t))),
                Implies(upc(t), And(has_upcall(t), no_mbox(t))),
                Implies(And(Not(cu(t)), Not(upc(t)), has_upcall(t)),
                        And(no_mbox(t), upcall_idle(t))))),
            ("at userret: a thread without an upcall has a mailbox (case 1); an unbindable "
             "one runs its upcall's cur (case 2); an upcalling one has no mailbox (case 3); "
             "any other has an idle upcall (case 4)")),
        "at_RUNQ": (
            at("RUNQ")(And(has_upcall(t), no_mbox(t), no_standin(t), upc(t), Not(cu(t)))),
            "a new upcall thread is upcalling, with an upcall and nothing else"),
        "at_ALLOC_RET": (
            at("ALLOC_RET")(And(has_upcall(t), no_mbox(t), no_standin(t), quiet(t),
                                upcall_idle(t))),
            "asleep in thread_alloc after an upcall: cur already cleared"),
        "at_PARKED": (
            at("PARKED")(And(has_upcall(t), no_mbox(t), quiet(t), upcall_idle(t))),
            "parked in kse_release: an idle UTS"),
        "at_KCREATE": (
            at("KCREATE")(And(has_upcall(t), no_mbox(t), quiet(t), upcall_idle(t))),
            "in kse_create: an idle UTS"),
        "at_KEXIT": (
            at("KEXIT")(And(has_upcall(t), no_mbox(t), quiet(t), upcall_idle(t),
                            ForAll([k, m], Implies(tdu(t, k), And(r.u_exiting(k),
                                                                  Not(kmc(k, m))))),
                            Or(r.exiting, Exists([j], And(r.linked(j), Not(r.u_exiting(j)))),
                               ForAll([t2], Implies(r.is_linked(t2), t2 == t))))),
            ("in kse_exit: an idle UTS whose upcall is exiting with nothing delivered; another "
             "upcall stays, unless t is the last thread (the EDEADLK check)")),
        "at_SINGLE": (
            at("SINGLE")(And(no_mbox(t), quiet(t), r.exiting)),
            "the thread in exit1 came from user mode"),
    }


def upcall_limit(r: UpcallRelational) -> tuple[object, str]:
    """``numupcalls <= NCPU`` for the system's fixed NCPU: no NCPU + 1 distinct linked upcalls."""
    js = [Const(f"lim{i}", r.upcall) for i in range(r.ncpu + 1)]
    return (Not(Exists(js, And([r.linked(j) for j in js] + [Distinct(js)]))),
            f"numupcalls <= NCPU ({r.ncpu})")


def system(ncpu: int | None = None) -> UpcallRelational:
    """The relational system with its safety properties and lemmas (and, for an int
    ``ncpu``, the exact CPU limit and ``upcall_limit``)."""
    r = build(ncpu)
    for name, (f, doc) in safety(r).items():
        r.system.safety(name, f, f"{doc} (source: {SOURCES[name]})")
    if ncpu is not None:
        f, doc = upcall_limit(r)
        r.system.safety("upcall_limit", f, f"{doc} (source: {SOURCES['upcall_limit']})")
    for name, (f, doc) in lemmas(r).items():
        r.system.invariant(name, f, doc)
    return r


CTI_BOUND = {"thread": 3, "upcall": 2, "mailbox": 2}
"""Where a query the solver gave up on is searched for a small counterexample to induction."""


def prove_all_sizes(timeout: float | None = None, *, ncpu: int | None = None,
                    without: Sequence[str] = (), rlimit: int | None = None) -> Result:
    """Prove the safety properties for every number of threads, upcalls and mailboxes.

    ``timeout`` (seconds) and ``rlimit`` limit each query; a query that hits them is
    UNKNOWN. ``ncpu`` None proves for every NCPU at once; an int fixes it and adds
    ``upcall_limit``. ``without`` leaves lemmas out (to see what each is for).
    A query the solver gives up on is searched for a counterexample to induction
    among small structures (:data:`CTI_BOUND`); one found is reported, none leaves
    the query UNKNOWN. The :class:`~checker.results.result.Result` (mode ``any-size``)
    has one property per safety property and lemma (``lemma`` marks the lemmas);
    ``result.outcome`` is HOLDS only when every query held.
    """
    r = system(ncpu)
    unknown = [n for n in without if n not in r.system.invariants]
    if unknown:
        raise ValueError(f"no invariant {unknown} to leave out; choose from "
                         f"{', '.join(r.system.invariants)}")
    names = [n for n in r.system.invariants if n not in without]
    return prove(r.system, names, timeout=timeout, rlimit=rlimit, cti_bound=CTI_BOUND)
