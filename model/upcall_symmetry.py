"""The symmetries of the ``upcall`` design: thread slots, upcall slots and mailboxes.

What is permuted (each kind by every permutation of its slots, all three
independently):

* **threads** ``t0..t{T-1}``: the arrays ``loc``, ``upcall``, ``standin``,
  ``mbox``, ``can_unbind``, ``upcalling`` move with their slot; references
  to a thread (``owner[j]``, ``standin[t]``) are renamed;
* **upcalls** ``u0..u{U-1}``: ``linked``, ``owner``, ``doupcall``,
  ``exiting``, ``cur``, ``kmc`` move; references (``upcall[t]``) are renamed;
* **mailboxes** ``m0..m{M-1}``: references (``cur[j]``, ``mbox[t]``) are
  renamed and the sets ``completed``, ``runq``, ``kmc[j]`` have their bits
  mapped.

Why the transition relation commutes with every such permutation:

* every step is a family of instances over all slots of each kind it takes
  as a parameter (``switch_in(t, m)``, ``kse_wakeup(t, j)``,
  ``userret(t, wake)``, ...), and its guard and effect treat slots only
  through those parameters and the references in the state; counts
  (``numupcalls``, ``numthreads``) and quantifiers ("some thread is
  PARKED") do not depend on slot numbers;
* the two steps that choose a slot by number are not symmetric by
  themselves: ``alloc_spare`` and ``create_finish`` take *the lowest* FREE
  thread slot, and ``create_finish`` *the lowest* unlinked upcall slot. They
  commute with the group all the same, because the slots they choose among
  are indistinguishable: a FREE thread slot has every field at its default
  (``reap`` resets them all; the initial ones are default) and nothing
  refers to it (a standin is SPARE, an owner is linked); an unlinked upcall
  slot likewise (``upcall_remove`` clears it and its owner's ``upcall``).
  Swapping two such slots leaves the state unchanged, so for any
  permutation ``p``, the step from ``p(s)`` picks ``p``'s image of a slot
  that is interchangeable with the one picked from ``s``, and its successor
  is in the orbit of ``p`` applied to ``s``'s successor. (This reads the
  correct model's invariants; under a bug variant that breaks them the
  tests below still check it state by state on tiny and small.)
* thread 0 is special only in the initial state (it runs the UTS on upcall
  0): the search starts from that state's orbit, which is sound; nothing
  else names a slot.

Properties: every invariant and the absence of deadlock quantify over all
slots of each kind, so they are invariant, and so are ``terminal`` and
``at_bound``. Two reachability goals are not: ``zombie_reaped`` ("a FREE
slot lies below a used one") and ``kse_exit_leaves_others`` ("an unlinked
upcall slot lies below a linked one") read the slot order, which the
lowest-first allocation makes a record of history; under reduction they are
reported NOT CHECKED. Liveness is not checked under reduction.

``tests/checker/explicit/test_symmetry.py`` checks, on every reachable state of
``tiny`` and ``small`` (and each bug variant on ``tiny``), that
successors commute with random group elements, that the invariant
properties are invariant, and that the canonical form is the same for every
member of an orbit.
"""
from __future__ import annotations

from typing import Mapping

from ksecheck.checker.explicit.symmetry import Entity, Symmetry


def symmetry(consts: Mapping[str, int]) -> Symmetry:
    """The symmetry group of the upcall model with constants NCPU, T, U, M."""
    T, U, M = consts["T"], consts["U"], consts["M"]
    return Symmetry(
        entities=(
            Entity("t", T, arrays=("loc", "upcall", "standin", "mbox", "can_unbind", "upcalling"),
                   refs=("owner", "standin"), how="sort"),
            Entity("u", U, arrays=("linked", "owner", "doupcall", "u_exiting", "cur", "kmc"),
                   refs=("upcall",)),
            Entity("m", M, refs=("cur", "mbox"), sets=("completed", "runq", "kmc"), how="place"),
        ),
        not_invariant={
            "zombie_reaped": "reads slot order: a FREE thread slot below a used one",
            "kse_exit_leaves_others": "reads slot order: an unlinked upcall slot below a linked one",
        },
    )
