"""The ``upcall`` design as a relational system, for proofs at every size.

:mod:`model.upcall` is the definition of the protocol; it has ``T`` thread
slots, ``U`` upcall slots and ``M`` mailboxes, fixed per configuration. This
module writes the same protocol in first-order logic over uninterpreted sorts
(:mod:`checker.symbolic.relational`), so that Z3 can prove its invariants for
any number of threads, upcalls and mailboxes (:mod:`properties.upcall_relational`).

What is written twice, and what ties it. The names are not: the locations
(:data:`LOC_NAMES`), panic reasons (:data:`PANIC_NAMES`) and steps
(:data:`STEPS`) are taken from :mod:`model.upcall`. The transitions
themselves are a second description of the semantics, in another language,
and cannot be derived from the Python effects: :func:`tie` checks that,
instantiated at the sizes of ``tiny`` and ``small``, the system has exactly
the same reachable states as the explicit model, and the tests check that
its transitions are the explicit model's steps, by name and in order.

Encoding (every choice, and why):

* **Sorts.** ``thread``, ``upcall`` and ``mailbox`` are uninterpreted: a
  structure may have any number of each (at least one; Z3 sorts are never
  empty, and the explicit model needs ``T, U, M >= 1`` too). ``loc`` values
  (``upcall_loc``) and panic reasons (``upcall_panic``) are enumerated sorts
  with the values of :data:`model.upcall.LOC_NO_LIMIT` and
  :data:`model.upcall.PANIC` in their order, so that a value's index is the
  explicit value.
* **References that may be none are relations**, never functions:
  ``owner(j, t)``, ``td_upcall(t, j)`` (the explicit ``upcall`` array),
  ``standin(t, x)``, ``mbox(t, m)``, ``cur(j, m)``. "None" is "no ``y`` with
  ``R(a, y)``". That each is a partial function is a lemma
  (:mod:`properties.upcall_relational`), proved like any other. Functions
  between the sorts would make their Herbrand universe infinite (``owner``
  and ``td_upcall`` point both ways); relations keep every function out of
  the uninterpreted sorts (``loc`` maps into a finite enum).
* **Sets of mailboxes are relations**: ``runq(m)``, ``completed(m)``,
  ``kmc(j, m)``. Flags are unary relations: ``linked``, ``doupcall``,
  ``u_exiting`` (the explicit ``u_exiting``, KUF_EXITING), ``can_unbind``,
  ``upcalling``; ``sa``, ``exiting`` are Bool constants; ``panic`` is a
  constant of the panic sort.
* **Slot numbers are total orders.** The explicit allocator takes the
  *lowest* FREE thread slot and ``create_finish`` the lowest unlinked upcall
  slot. The rigid relations ``lt`` (threads) and ``ult`` (upcalls) are strict
  total orders (axioms; universal, so in EPR); "``x`` is the lowest FREE
  slot" is ``loc(x) = FREE & forall y. lt(y, x) -> loc(y) != FREE``. The
  initial thread and upcall are the least elements (``init`` says so with
  an existential, which stays at the top of every query). At a finite size
  the orders are the slot numbers, so slot ``i`` is the element ``i``.
* **Each step is one transition named as in** :mod:`model.upcall`, with the
  same parameters plus *witness* parameters for the values the explicit code
  reads through a reference (``k`` for ``t.upcall``, ``x`` for
  ``t.standin``, ``o`` for an owner). "Whether the reference is none" is a
  *let* fixed at the top of the transition (``hs = exists y. standin(t, y)``),
  and the witness is tied to it by ``hs -> standin(t, x)``; the updates then
  use ``hs`` and ``x`` without any quantifier, so that no existential ends up
  under the universal of an update (that would break EPR). When the
  reference is none the witness is unconstrained and every choice gives the
  same post-state.
* **Effects are assignments** ``R(x) := value(x)`` (the engine adds the frame),
  written in the order of the explicit effect: where two writes may hit the
  same cell, the later one is the outer ``If``. Every branch of the explicit
  effect is kept, panics included: a step that panics sets ``panic`` and
  makes exactly the other changes the explicit code makes before it returns.
  Every guard includes ``panic = none`` (:func:`model.upcall.unless_panicked`).
  Only the correct model is written here; the bug variants are not.
* **userret's ``wake`` parameter** (Decision 2 of :mod:`model.upcall`) is a
  Bool parameter ``hw`` ("some thread is woken") and a thread ``w``: case 1
  with a parked thread needs ``hw`` and ``loc(w) = PARKED``; every other case
  needs ``not hw``.
* **Counting.** ``exit_begin``'s EDEADLK test, "``numupcalls - #exiting = 1``
  and more than one linked thread", is first-order: "the number of linked,
  non-exiting upcalls is not one" is "none, or two distinct ones", and "at
  most one linked thread" is universal, so the guard is exact and in EPR.
  ``exit_finish`` and ``exit_finish_proc``'s "only linked thread" is
  universal too. The CPU limit ``numupcalls < NCPU`` of ``create_begin``
  and ``create_finish`` depends on a number ``NCPU`` that is not a size of
  any sort. :func:`build` takes ``ncpu``: with an int the guard is exact
  ("no ``ncpu`` distinct linked upcalls", first-order for a fixed number)
  and the system is the explicit model's at that ``NCPU``; with ``None`` (the
  proof for every size) it is a free Bool parameter ``room`` of both steps:
  the system may then create an upcall whenever a slot is free, for every
  ``NCPU`` at once. That over-approximates every ``NCPU`` (each exact system's
  steps are among its steps), so every safety property proved of it holds
  for every ``NCPU`` too; only ``upcall_limit``, which mentions ``NCPU``,
  cannot be stated there.
* **Transitions per step.** ``kse_wakeup(t, j)`` has the explicit parameters
  and witnesses; ``userret(t, wake)`` is ``userret(t, hw, w, k)``. One
  explicit instance may be several relational parameter choices; the tie
  compares states, not instance counts.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import z3
from z3 import And, BoolSort, Const, Exists, ForAll, If, Implies, Not, Or

from ksecheck.checker import NONE
from ksecheck.checker.explicit.compiled import successor_function
from ksecheck.checker.explicit.graph import breadth_first
from ksecheck.checker.symbolic.relational import FiniteInstance, FiniteReachable, System, total_order
from ksecheck.model.upcall import (CONFIGS, HAS_OWNER, LOC, LOC_NO_LIMIT, NO_OWNER, NO_PANIC,
                                   NO_RESERVE, PANIC)
from ksecheck.model.upcall import build as build_explicit

LOC_NAMES = LOC_NO_LIMIT.names
"""The thread locations of :data:`model.upcall.LOC_NO_LIMIT`, in its order (no THRWAIT: the
relational system is the model without the MAXTHREADS option)."""

PANIC_NAMES = tuple("P_" + "_".join(re.findall(r"\w+", reason)).upper() for reason in PANIC.names)
"""The panic reasons of :data:`model.upcall.PANIC`, in its order, as identifiers
(``none`` is ``P_NONE``, ``upcall has owner`` is ``P_UPCALL_HAS_OWNER``)."""

SORTS = ("thread", "upcall", "mailbox")

STEPS = tuple(a.name for a in build_explicit({"NCPU": 1, "T": 1, "U": 1, "M": 1}).actions)
"""The steps of :mod:`model.upcall` without the MAXTHREADS option, in its order: one
transition each here (the step names do not depend on the sizes)."""


class UpcallRelational:
    """The relational ``upcall`` system: sorts, symbols, helpers, init and the 21 steps.

    ``ncpu`` None: the CPU limit is a free choice (every NCPU at once);
    an int: the exact limit of that configuration.
    """

    def __init__(self, ncpu: int | None = None):
        if ncpu is not None and ncpu < 1:
            raise ValueError(f"ncpu must be at least 1 or None, got {ncpu}")
        self.ncpu = ncpu
        S = self.system = System("upcall" if ncpu is None else f"upcall(NCPU={ncpu})")
        self.thread = S.sort("thread")
        self.upcall = S.sort("upcall")
        self.mailbox = S.sort("mailbox")
        self.Loc, locs = S.enum("upcall_loc", *LOC_NAMES)
        self.loc_value = dict(zip(LOC_NAMES, locs))
        self.Panic, self.panic_value = S.enum("upcall_panic", *PANIC_NAMES)  # by PANIC value
        th, up, mb, B = self.thread, self.upcall, self.mailbox, BoolSort()

        self.lt = S.relation("lt", th, th, mutable=False, doc="thread slot order")
        self.ult = S.relation("ult", up, up, mutable=False, doc="upcall slot order")
        for name, f in {**total_order(self.lt, th), **total_order(self.ult, up)}.items():
            S.axiom(name, f)

        self.sa = S.constant("sa", B, doc="P_SA")
        self.exiting = S.constant("exiting", B, doc="P_SINGLE_EXIT")
        self.panic = S.constant("panic", self.Panic, doc="the first panic's reason")
        self.completed = S.relation("completed", mb, doc="kg_completed")
        self.runq = S.relation("runq", mb, doc="the UTS's run queue")
        self.linked = S.relation("linked", up, doc="in kg_upcalls")
        self.owner = S.relation("owner", up, th, doc="ku_owner")
        self.doupcall = S.relation("doupcall", up, doc="KUF_DOUPCALL")
        self.u_exiting = S.relation("u_exiting", up, doc="KUF_EXITING")
        self.cur = S.relation("cur", up, mb, doc="km_curthread")
        self.kmc = S.relation("kmc", up, mb, doc="km_completed")
        self.loc = S.function("loc", th, result=self.Loc, doc="where the thread is")
        self.td_upcall = S.relation("td_upcall", th, up, doc="td_upcall")
        self.standin = S.relation("standin", th, th, doc="td_standin")
        self.mbox = S.relation("mbox", th, mb, doc="td_mailbox")
        self.can_unbind = S.relation("can_unbind", th, doc="TDF_CAN_UNBIND")
        self.upcalling = S.relation("upcalling", th, doc="TDF_UPCALLING")
        self._init()
        self._steps()

    # helpers over the current state (also used by the properties)

    def L(self, name: str) -> z3.ExprRef:
        """The location called ``name``."""
        return self.loc_value[name]

    def at(self, t, *names: str) -> z3.BoolRef:
        """``loc(t)`` is one of ``names``."""
        return Or([self.loc(t) == self.L(n) for n in names])

    def is_linked(self, t) -> z3.BoolRef:
        """Linked: not FREE, SPARE or ZOMBIE."""
        return Not(self.at(t, "FREE", "SPARE", "ZOMBIE"))

    def some(self, rel, a, sort) -> z3.BoolRef:
        """``rel(a, y)`` for some ``y``: the reference is not none."""
        y = Const(f"some_{rel.name()}", sort)
        return Exists([y], rel(a, y))

    def empty(self, rel, sort) -> z3.BoolRef:
        """A unary relation (a set) is empty."""
        y = Const(f"empty_{rel.name()}", sort)
        return ForAll([y], Not(rel(y)))

    def empty_row(self, rel, a, sort) -> z3.BoolRef:
        """``rel(a, .)`` is empty."""
        y = Const(f"row_{rel.name()}", sort)
        return ForAll([y], Not(rel(a, y)))

    def owner_in_user(self, j) -> z3.BoolRef:
        """Upcall ``j``'s owner is a USER thread."""
        o = Const("oiu", self.thread)
        return Exists([o], And(self.owner(j, o), self.at(o, "USER")))

    def uts_runs(self, t, k) -> z3.BoolRef:
        """The UTS runs on ``t`` with upcall ``k``: USER, ``k = t.upcall``, ``k.cur`` none."""
        return And(self.at(t, "USER"), self.td_upcall(t, k),
                   self.empty_row(self.cur, k, self.mailbox))

    def lowest_free(self, x) -> z3.BoolRef:
        """``x`` is the lowest FREE thread slot."""
        y = Const("lower_t", self.thread)
        return And(self.at(x, "FREE"),
                   ForAll([y], Implies(self.lt(y, x), Not(self.at(y, "FREE")))))

    def lowest_unlinked(self, j) -> z3.BoolRef:
        """``j`` is the lowest unlinked upcall slot."""
        i = Const("lower_u", self.upcall)
        return And(Not(self.linked(j)), ForAll([i], Implies(self.ult(i, j), self.linked(i))))

    def below_limit(self) -> z3.BoolRef:
        """``numupcalls < ncpu``: no ``ncpu`` distinct linked upcalls (exact systems only)."""
        js = [Const(f"lim{i}", self.upcall) for i in range(self.ncpu)]
        many = And([self.linked(j) for j in js] + ([z3.Distinct(js)] if len(js) > 1 else []))
        return Not(Exists(js, many))

    def nopanic(self) -> z3.BoolRef:
        """No panic yet."""
        return self.panic == self.panic_value[NO_PANIC]

    # initial state

    def _init(self) -> None:
        th, up, mb = self.thread, self.upcall, self.mailbox
        t0, u0 = Const("t0", th), Const("u0", up)
        t, x = Const("t", th), Const("x", th)
        j = Const("j", up)
        m = Const("m", mb)
        self.system.set_init(Exists([t0, u0], And(
            ForAll([t], Not(self.lt(t, t0))), ForAll([j], Not(self.ult(j, u0))),
            self.sa, Not(self.exiting), self.nopanic(),
            ForAll([m], And(Not(self.completed(m)), self.runq(m))),
            ForAll([j], And(self.linked(j) == (j == u0), Not(self.doupcall(j)),
                            Not(self.u_exiting(j)))),
            ForAll([j, t], self.owner(j, t) == And(j == u0, t == t0)),
            ForAll([j, m], And(Not(self.cur(j, m)), Not(self.kmc(j, m)))),
            ForAll([t], And(self.loc(t) == If(t == t0, self.L("USER"), self.L("FREE")),
                            Not(self.can_unbind(t)), Not(self.upcalling(t)))),
            ForAll([t, j], self.td_upcall(t, j) == And(t == t0, j == u0)),
            ForAll([t, x], Not(self.standin(t, x))),
            ForAll([t, m], Not(self.mbox(t, m))))))

    # the steps

    def _steps(self) -> None:
        S, L = self.system, self.L
        th, up, mb, B = self.thread, self.upcall, self.mailbox, BoolSort()
        t, x, w, o = (Const(n, th) for n in ("t", "x", "w", "o"))
        xs, xf = Const("xs", th), Const("xf", th)
        k, j = Const("k", up), Const("j", up)
        m = Const("m", mb)
        hw = Const("hw", B)
        ok = self.nopanic()
        loc, owner, tdu, standin = self.loc, self.owner, self.td_upcall, self.standin
        mbox, cur, kmc, runq, completed = self.mbox, self.cur, self.kmc, self.runq, self.completed
        linked, doupcall, u_exiting = self.linked, self.doupcall, self.u_exiting
        can_unbind, upcalling = self.can_unbind, self.upcalling

        def let(name, sort=B):
            return Const(name, sort)

        hs_, hu_, hm_ = let("hs"), let("hu"), let("hm")
        has_standin = (hs_, self.some(standin, t, th))
        has_upcall = (hu_, self.some(tdu, t, up))

        def set_loc(u, new):
            """``loc(t) := new``."""
            return {loc: lambda v: If(v == u, L(new), loc(v))}

        def remove(cond, kk):
            """``upcall_remove(kk)`` when ``cond``."""
            gone = lambda i: And(cond, i == kk)
            return {
                tdu: lambda v, i: If(And(cond, owner(kk, v)), False, tdu(v, i)),
                linked: lambda i: And(linked(i), Not(gone(i))),
                owner: lambda i, v: And(owner(i, v), Not(gone(i))),
                doupcall: lambda i: And(doupcall(i), Not(gone(i))),
                u_exiting: lambda i: And(u_exiting(i), Not(gone(i))),
                cur: lambda i, y: And(cur(i, y), Not(gone(i))),
                kmc: lambda i, y: And(kmc(i, y), Not(gone(i))),
            }

        # 1. switch_in(t, m)
        S.transition("switch_in", [t, k, m], And(ok, self.uts_runs(t, k), runq(m)), {
            runq: lambda y: And(runq(y), y != m),
            cur: lambda i, y: If(i == k, y == m, cur(i, y))},
            doc="the UTS on t takes user thread m from runq and runs it")

        # 2. switch_out(t)
        S.transition("switch_out", [t, k, m],
                     And(ok, self.at(t, "USER"), tdu(t, k), cur(k, m)), {
            runq: lambda y: Or(runq(y), y == m),
            cur: lambda i, y: And(cur(i, y), i != k)},
            doc="the running user thread yields back to runq")

        # 3. take_completed(t)
        S.transition("take_completed", [t, k],
                     And(ok, self.uts_runs(t, k), Not(self.empty_row(kmc, k, mb))), {
            runq: lambda y: Or(runq(y), kmc(k, y)),
            kmc: lambda i, y: And(kmc(i, y), i != k)},
            doc="the UTS moves its upcall's km_completed into runq")

        # 4. syscall(t)
        hc = let("hc")
        S.transition("syscall", [t, k],
                     And(ok, self.at(t, "USER"), Not(self.exiting), tdu(t, k)), {
            mbox: lambda v, y: If(v == t, cur(k, y), mbox(v, y)),
            loc: lambda v: If(v == t, If(And(hc, Not(hs_)), L("ALLOC_ENTER"), L("KERNEL")), loc(v)),
            can_unbind: lambda v: If(And(v == t, hc, hs_), True, can_unbind(v))},
            lets=[(hc, self.some(cur, k, mb)), has_standin],
            doc="enter the kernel; with a running user thread, get a standin, then may unbind")

        # 5. alloc_spare(t)
        entering = loc(t) == L("ALLOC_ENTER")
        S.transition("alloc_spare", [t, x],
                     And(ok, self.at(t, "ALLOC_ENTER", "ALLOC_RET"), self.lowest_free(x)), {
            loc: lambda v: If(v == t, If(entering, L("KERNEL"), L("USER")),
                              If(v == x, L("SPARE"), loc(v))),
            standin: lambda v, y: If(v == t, y == x, standin(v, y)),
            can_unbind: lambda v: If(And(v == t, entering), True, can_unbind(v)),
            mbox: lambda v, y: If(And(v == t, Not(entering)), False, mbox(v, y))},
            doc="thread_alloc wakes with the lowest FREE slot as t's standin")

        def to_ret(name, frm, doc):
            """6. finish, 8. wake, 9. upcall_run: one location to RET."""
            S.transition(name, [t], And(ok, self.at(t, frm)), set_loc(t, "RET"), doc=doc)

        to_ret("finish", "KERNEL", "the syscall returns without sleeping")

        # 7. block(t)
        sw = And(can_unbind(t), hs_)              # switchout hands k to the standin x
        S.transition("block", [t, k, x],
                     And(ok, self.at(t, "KERNEL"), Or(Not(can_unbind(t)), Not(hs_), hu_),
                         Implies(hs_, standin(t, x)), Implies(hu_, tdu(t, k))), {
            self.panic: If(And(can_unbind(t), Not(hs_)), self.panic_value[NO_RESERVE], self.panic),
            owner: lambda i, v: If(And(sw, i == k), v == x, owner(i, v)),
            tdu: lambda v, i: If(And(sw, v == x), i == k, If(And(sw, v == t), False, tdu(v, i))),
            standin: lambda v, y: If(And(sw, v == t), False, standin(v, y)),
            loc: lambda v: If(v == t, L("SLEEP"), If(And(sw, v == x), L("RUNQ"), loc(v))),
            upcalling: lambda v: If(And(sw, v == x), True, upcalling(v)),
            can_unbind: lambda v: If(And(sw, v == t), False, can_unbind(v))},
            lets=[has_standin, has_upcall],
            doc="sleep in the kernel; an unbindable thread hands its upcall to its standin")

        to_ret("wake", "SLEEP", "the sleep ends")
        to_ret("upcall_run", "RUNQ", "the new upcall thread gets a CPU")

        # 10. userret(t, wake)
        lost, mw, ce = let("lost"), let("mw"), let("ce")
        p = Const("p", th)
        c1 = lost
        c2 = And(Not(lost), can_unbind(t))
        c3 = And(Not(lost), Not(can_unbind(t)), upcalling(t))
        c2a = And(c2, ce, Not(doupcall(k)))
        c2b = And(c2, Not(And(ce, Not(doupcall(k)))))
        S.transition("userret", [t, hw, w, k], And(
            ok, self.at(t, "RET"),
            If(lost, If(mw, And(hw, self.at(w, "PARKED")), Not(hw)),
               And(Not(hw), Implies(Or(can_unbind(t), upcalling(t)), hu_))),
            Implies(hu_, tdu(t, k))), {
            completed: lambda y: If(c3, False, Or(completed(y), And(Or(c1, c2b), mbox(t, y)))),
            mbox: lambda v, y: If(And(v == t, Not(And(c3, Not(hs_)))), False, mbox(v, y)),
            loc: lambda v: If(v == t,
                              If(c1, L("ZOMBIE"), If(c2a, L("USER"), If(c2b, L("RET"),
                                 If(c3, If(hs_, L("USER"), L("ALLOC_RET")), L("USER"))))),
                              If(And(c1, standin(t, v)), L("ZOMBIE"),
                                 If(And(c1, hw, v == w), L("RET"), loc(v)))),
            upcalling: lambda v: If(And(v == t, c2b), True,
                                    If(And(v == t, c3), False,
                                       If(And(c1, hw, v == w), True, upcalling(v)))),
            can_unbind: lambda v: If(And(v == t, c2), False, can_unbind(v)),
            standin: lambda v, y: If(And(c1, v == t), False, standin(v, y)),
            doupcall: lambda i: If(And(c3, i == k), False, doupcall(i)),
            cur: lambda i, y: If(And(c3, i == k), False, cur(i, y)),
            kmc: lambda i, y: Or(kmc(i, y), And(c3, i == k, completed(y)))},
            lets=[(hm_, self.some(mbox, t, mb)), has_upcall, has_standin,
                  (lost, And(hm_, Not(hu_))),
                  (mw, Exists([p], self.at(p, "PARKED"))),
                  (ce, self.empty(completed, mb))],
            doc="return to user mode: exit, resume, or upcall (cases 1-4)")

        # 11. release(t)
        cn = let("cn")
        go = Or(doupcall(k), cn)
        S.transition("release", [t, k], And(
            ok, self.uts_runs(t, k), Not(self.exiting), self.empty(runq, mb),
            self.empty_row(kmc, k, mb)), {
            upcalling: lambda v: If(And(v == t, go), True, upcalling(v)),
            loc: lambda v: If(v == t, If(go, L("RET"), L("PARKED")), loc(v))},
            lets=[(cn, Not(self.empty(completed, mb)))],
            doc="the idle UTS upcalls if there is work, else parks")

        # 12. kse_wakeup(t, j)
        ho = let("ho")
        wakes = And(ho, self.at(o, "PARKED"))
        S.transition("kse_wakeup", [t, k, j, o], And(
            ok, linked(j), self.uts_runs(t, k), Implies(ho, owner(j, o))), {
            self.panic: If(Not(ho), self.panic_value[NO_OWNER], self.panic),
            loc: lambda v: If(And(wakes, v == o), L("RET"), loc(v)),
            upcalling: lambda v: If(And(wakes, v == o), True, upcalling(v)),
            doupcall: lambda i: If(And(ho, Not(self.at(o, "PARKED")), i == j), True, doupcall(i))},
            lets=[(ho, self.some(owner, j, th))],
            doc="the UTS wakes upcall j's parked owner or sets its DOUPCALL")

        # 13. create_begin(t), 14. create_finish(t): the CPU limit
        room = let("room")
        exact = [] if self.ncpu is None else [(room, self.below_limit())]
        free_room = [room] if self.ncpu is None else []
        S.transition("create_begin", [t, k] + free_room, And(
            ok, self.uts_runs(t, k), Not(self.exiting), room), set_loc(t, "KCREATE"),
            lets=exact,
            doc="kse_create passes the EPROCLIM check and sleeps in upcall_alloc")

        hj, hf = let("hj"), let("hf")
        isx = lambda v: Or(And(hs_, v == xs), And(Not(hs_), v == xf))
        go = And(room, hj, Or(hs_, hf))
        sch = And(go, Not(ho))
        fresh = lambda i: And(go, i == j)
        S.transition("create_finish", [t, j, xs, xf] + free_room, And(
            ok, self.at(t, "KCREATE"), Implies(hj, self.lowest_unlinked(j)),
            Implies(hs_, standin(t, xs)), Implies(hf, self.lowest_free(xf))), {
            linked: lambda i: If(fresh(i), True, linked(i)),
            cur: lambda i, y: If(fresh(i), False, cur(i, y)),
            doupcall: lambda i: If(fresh(i), False, doupcall(i)),
            u_exiting: lambda i: If(fresh(i), False, u_exiting(i)),
            self.panic: If(And(go, ho), self.panic_value[HAS_OWNER], self.panic),
            standin: lambda v, y: If(And(sch, v == t), False, standin(v, y)),
            loc: lambda v: If(v == t, L("USER"), If(And(sch, isx(v)), L("RUNQ"), loc(v))),
            upcalling: lambda v: If(And(sch, isx(v)), True, upcalling(v)),
            tdu: lambda v, i: If(And(sch, isx(v)), i == j, tdu(v, i)),
            owner: lambda i, v: If(And(sch, i == j), isx(v), owner(i, v))},
            lets=exact + [(hj, Exists([k], Not(linked(k)))), has_standin,
                          (hf, Exists([x], self.at(x, "FREE"))), (ho, self.some(owner, j, th))],
            doc="recheck the limit, link a new upcall and schedule its thread")

        # 15. exit_begin(t)
        i1, i2 = Const("i1", up), Const("i2", up)
        u1, u2 = Const("u1", th), Const("u2", th)
        active = lambda i: And(linked(i), Not(u_exiting(i)))
        not_one_left = Or(ForAll([i1], Not(active(i1))),
                          Exists([i1, i2], And(i1 != i2, active(i1), active(i2))))
        alone_thread = ForAll([u1, u2], Implies(And(self.is_linked(u1), self.is_linked(u2)),
                                                u1 == u2))
        S.transition("exit_begin", [t, k], And(
            ok, self.uts_runs(t, k), Not(self.exiting), self.empty(runq, mb),
            self.empty_row(kmc, k, mb), Or(not_one_left, alone_thread)), {
            u_exiting: lambda i: If(i == k, True, u_exiting(i)),
            **set_loc(t, "KEXIT")},
            doc="kse_exit passes the EDEADLK check and sleeps in suword")

        # 16. exit_finish(t)
        alone = let("alone")
        only_t = ForAll([u1], Implies(self.is_linked(u1), u1 == t))
        S.transition("exit_finish", [t, k], And(ok, self.at(t, "KEXIT"), tdu(t, k)), {
            **remove(True, k),
            standin: lambda v, y: And(standin(v, y), v != t),
            loc: lambda v: If(v == t, If(alone, L("DONE"), L("ZOMBIE")),
                              If(standin(t, v), L("ZOMBIE"), loc(v))),
            self.sa: If(alone, False, self.sa)},
            lets=[(alone, only_t)],
            doc="remove the upcall; exit, or end threading if t is the last thread")

        # 17. proc_exit(t)
        S.transition("proc_exit", [t], And(ok, self.at(t, "USER"), Not(self.exiting)), {
            self.exiting: z3.BoolVal(True), **set_loc(t, "SINGLE")},
            doc="a user thread calls exit and waits for the others")

        # 18. exit_other(t)
        S.transition("exit_other", [t, k], And(
            ok, self.is_linked(t), Not(self.at(t, "SINGLE", "DONE")), self.exiting,
            Implies(hu_, tdu(t, k))), {
            **remove(hu_, k),
            mbox: lambda v, y: And(mbox(v, y), v != t),
            standin: lambda v, y: And(standin(v, y), v != t),
            loc: lambda v: If(v == t, L("ZOMBIE"), If(standin(t, v), L("ZOMBIE"), loc(v)))},
            lets=[has_upcall],
            doc="another thread exits while the process exits")

        # 19. exit_finish_proc(t)
        S.transition("exit_finish_proc", [t, k], And(
            ok, self.at(t, "SINGLE"), only_t, Implies(hu_, tdu(t, k))), {
            **remove(hu_, k),
            standin: lambda v, y: And(standin(v, y), v != t),
            loc: lambda v: If(v == t, L("DONE"), If(standin(t, v), L("ZOMBIE"), loc(v))),
            self.sa: z3.BoolVal(False)},
            lets=[has_upcall],
            doc="the exiting thread, alone, removes its upcall and finishes")

        # 20. tick(t)
        S.transition("tick", [t, k, m], And(
            ok, self.at(t, "USER"), Not(self.exiting), tdu(t, k), cur(k, m),
            Or(Not(self.empty(completed, mb)), doupcall(k))), {
            completed: lambda y: Or(completed(y), y == m),
            mbox: lambda v, y: And(mbox(v, y), v != t),
            upcalling: lambda v: If(v == t, True, upcalling(v)),
            **set_loc(t, "RET")},
            doc="a clock tick exports the running user thread and upcalls")

        # 21. reap(x)
        S.transition("reap", [x], And(ok, self.at(x, "ZOMBIE")), {
            **set_loc(x, "FREE"),
            tdu: lambda v, i: And(tdu(v, i), v != x),
            standin: lambda v, y: And(standin(v, y), v != x),
            mbox: lambda v, y: And(mbox(v, y), v != x),
            can_unbind: lambda v: And(can_unbind(v), v != x),
            upcalling: lambda v: And(upcalling(v), v != x)},
            doc="a zombie slot goes back to the allocator")


def build(ncpu: int | None = None) -> UpcallRelational:
    """The relational ``upcall`` system: every NCPU at once (None), or one NCPU exactly."""
    return UpcallRelational(ncpu)


# ---- finite instances and the tie to model.upcall -------------------------------

def order(n: int) -> tuple[tuple[bool, ...], ...]:
    """The slot order on ``n`` elements: ``lt[a][b]`` iff ``a < b``."""
    return tuple(tuple(a < b for b in range(n)) for a in range(n))


def instance(consts: Mapping[str, int], rel: UpcallRelational | None = None) -> FiniteInstance:
    """The relational system at the sizes ``T``, ``U``, ``M`` of a configuration, slot order fixed.

    ``rel`` defaults to the exact system at the configuration's ``NCPU``.
    """
    rel = rel or build(consts["NCPU"])
    return FiniteInstance(rel.system, {"thread": consts["T"], "upcall": consts["U"],
                                       "mailbox": consts["M"]},
                          {"lt": order(consts["T"]), "ult": order(consts["U"])})


def to_explicit(inst: FiniteInstance, state: tuple, model) -> tuple:
    """The explicit state of ``model`` (a :mod:`model.upcall` model) that ``state`` stands for.

    Raises ValueError when a reference relation holds more than one value (no explicit
    state has two owners for an upcall).
    """
    v = {sym.name: value for sym, value in zip(inst.system.mutable, state)}
    T, U = inst.sizes["thread"], inst.sizes["upcall"]
    view = model.schema.view(list(model.schema.default_state()))

    def ref(row, what):
        hits = [i for i, b in enumerate(row) if b]
        if len(hits) > 1:
            raise ValueError(f"{what} has {len(hits)} values {hits}: not a partial function")
        return hits[0] if hits else NONE

    def bits(row):
        return sum(1 << i for i, b in enumerate(row) if b)

    view.sa, view.exiting = int(v["sa"]), int(v["exiting"])
    view.panic = v["panic"]  # the enums list PANIC's and LOC_NO_LIMIT's values in their order
    view.completed, view.runq = bits(v["completed"]), bits(v["runq"])
    for j in range(U):
        view.linked[j] = int(v["linked"][j])
        view.owner[j] = ref(v["owner"][j], f"owner(upcall{j}, .)")
        view.doupcall[j] = int(v["doupcall"][j])
        view.u_exiting[j] = int(v["u_exiting"][j])
        view.cur[j] = ref(v["cur"][j], f"cur(upcall{j}, .)")
        view.kmc[j] = bits(v["kmc"][j])
    for t in range(T):
        view.loc[t] = v["loc"][t]
        view.upcall[t] = ref(v["td_upcall"][t], f"td_upcall(thread{t}, .)")
        view.standin[t] = ref(v["standin"][t], f"standin(thread{t}, .)")
        view.mbox[t] = ref(v["mbox"][t], f"mbox(thread{t}, .)")
        view.can_unbind[t] = int(v["can_unbind"][t])
        view.upcalling[t] = int(v["upcalling"][t])
    return tuple(view._v)


def from_explicit(inst: FiniteInstance, state: tuple, model) -> tuple:
    """The relational state that stands for the explicit ``state`` of ``model`` (the inverse
    of :func:`to_explicit`; every explicit state has one, reachable or not)."""
    view = model.schema.view(state)
    T, U, M = (inst.sizes[s] for s in SORTS)
    ts, us, ms = range(T), range(U), range(M)

    def has(bits, i):
        return bool(bits >> i & 1)

    outside = sorted({LOC.names[x] for x in view.loc} - set(LOC_NAMES))
    if outside:
        raise ValueError(f"locations {outside} have no relational counterpart")
    value = {
        "sa": bool(view.sa), "exiting": bool(view.exiting), "panic": view.panic,
        "completed": tuple(has(view.completed, m) for m in ms),
        "runq": tuple(has(view.runq, m) for m in ms),
        "linked": tuple(bool(view.linked[j]) for j in us),
        "owner": tuple(tuple(view.owner[j] == t for t in ts) for j in us),
        "doupcall": tuple(bool(view.doupcall[j]) for j in us),
        "u_exiting": tuple(bool(view.u_exiting[j]) for j in us),
        "cur": tuple(tuple(view.cur[j] == m for m in ms) for j in us),
        "kmc": tuple(tuple(has(view.kmc[j], m) for m in ms) for j in us),
        "loc": tuple(view.loc),
        "td_upcall": tuple(tuple(view.upcall[t] == j for j in us) for t in ts),
        "standin": tuple(tuple(view.standin[t] == x for x in ts) for t in ts),
        "mbox": tuple(tuple(view.mbox[t] == m for m in ms) for t in ts),
        "can_unbind": tuple(bool(view.can_unbind[t]) for t in ts),
        "upcalling": tuple(bool(view.upcalling[t]) for t in ts),
    }
    return tuple(value[sym.name] for sym in inst.system.mutable)


def explicit_reachable(model) -> set[tuple]:
    """Every reachable state of an explicit model, by breadth-first search over its successors."""
    return set(breadth_first(model.initial_states, successor_function(model)[0]).states)


@dataclass
class Tie:
    """The relational and explicit reachable states of one configuration, compared."""

    config: str
    relational: int          # distinct relational states
    mapped: int              # distinct explicit states they stand for
    explicit: int            # distinct explicit reachable states
    only_relational: list[tuple]
    only_explicit: list[tuple]
    search: FiniteReachable

    @property
    def equal(self) -> bool:
        """One-to-one: the mapping is injective and its image is the explicit set."""
        return (self.relational == self.mapped == self.explicit
                and not self.only_relational and not self.only_explicit)


def tie(config: str) -> Tie:
    """Enumerate both systems at ``config`` (one of :data:`model.upcall.CONFIGS`) and compare."""
    cfg = next(c for c in CONFIGS if c.name == config)
    consts = dict(cfg.constants)
    model = build_explicit(consts, options=cfg.options)
    inst = instance(consts)
    found = inst.reachable()
    mapped = {to_explicit(inst, s, model) for s in found.states}
    explicit = explicit_reachable(model)
    return Tie(config, len(found.states), len(mapped), len(explicit),
               sorted(mapped - explicit)[:5], sorted(explicit - mapped)[:5], found)
