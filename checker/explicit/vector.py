"""The vector engine: breadth-first search a frontier chunk at a time, with numpy.

The model is compiled from the same traced paths as every other engine
(:func:`checker.core.paths.trace_instance`): each instance's decision tree
has its tests evaluated as bit masks over a chunk of the frontier
(:mod:`checker.explicit.chunk`, on columns unpacked from packed states) and
its leaves become word arithmetic on the packed parents
(:mod:`checker.explicit.pack`): clear the fields the path changes, or in
their new values. Properties are the same trees over
:func:`checker.core.paths.predicate_paths`.

As an engine behind :func:`checker.explicit.search.explore`, it expands a
chunk of consecutive states at once: the candidates ``(parent, instance,
successor)`` are deduplicated by sorting their hashes, each successor
keeping its first discovery (least ``parent * instances + instance``), and
are added to a :class:`~checker.explicit.pack.StateSet` of every state seen;
the new ones come out sorted by discovery, as the search loop wants them.
Per state it keeps only the packed key in the set. Traces are replayed
through the model and, step by step, through this engine's own successor
computation (a mismatch is a :class:`~checker.errors.CheckerBug`).

With a :class:`~checker.explicit.symmetry.Symmetry`, successors are
replaced by canonical representatives of their orbits before
deduplication; liveness is then not checked, nor the properties the
symmetry declares not invariant.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..core.compile import compile_predicate
from ..core.contract import Model
from ..core.decisions import instance_tree, map_leaves
from ..core.decisions import tree as decision_tree
from ..core.expr import Const, Slot
from ..core.paths import Path, predicate_paths, trace_instance
from ..core.schema import State
from ..errors import CheckerBug, ModelError, Unsupported
from ..results.trace import Step
from .chunk import Chunk, Rows, walk
from .ends import Ends
from .engine import Engine, Expansion
from .numpy_expr import ExprCompiler
from .pack import Layout, StateSet, hash_keys, int_dtype, same, take

if TYPE_CHECKING:
    from .symmetry import Symmetry

CHUNK = 1 << 17
"""Frontier states expanded together: big enough to amortise numpy's per-call cost,
small enough that a chunk's candidates sort in cache."""

PHASES = ("expand", "dedup", "symmetry", "set", "properties")
"""Where the engine's time goes, in the order a chunk goes through them."""


# ---- the compiled model ------------------------------------------------------------

@dataclass
class Effect:
    """What a path does to a packed parent: keep, constant bits, computed fields."""

    keep: np.ndarray      # per word: bits not changed
    bits: np.ndarray      # per word: constant new values
    computed: list        # (slot, function, needs a domain check, subtract-lo in place)
    error: str = ""


class VectorModel:
    """A model compiled to numpy: successors of a chunk, and predicates over one."""

    def __init__(self, model: Model):
        self.model = model
        self.layout = Layout(model.schema)
        self.xc = ExprCompiler(self.layout)
        self.n_inst = len(model.instances)
        self.trees = [map_leaves(instance_tree(trace_instance(model, inst)), self._effect)
                      for inst in model.instances]

    def _effect(self, path: Path) -> Effect:
        nw = self.layout.nwords
        keep = np.full(nw, np.uint64(0xFFFF_FFFF_FFFF_FFFF), np.uint64)
        bits = np.zeros(nw, np.uint64)
        if path.post is None:
            return Effect(keep, bits, [], path.error)
        computed = []
        for i, e in enumerate(path.post):
            if e == Slot(i):
                continue
            f = self.layout.fields[i]
            if not f.bits and isinstance(e, Const) and e.value == f.lo:
                continue
            keep[f.word] &= ~np.uint64(((1 << f.bits) - 1) << f.shift)
            if isinstance(e, Const):
                v = int(e.value)
                if not f.lo <= v <= f.hi:
                    computed.append((i, self.xc.fn(e), True, False))
                else:
                    bits[f.word] |= np.uint64((v - f.lo) << f.shift)
                continue
            lo, hi = self.xc.range(e)
            check = lo < f.lo or hi > f.hi
            in_place = f.hi - f.lo <= np.iinfo(int_dtype(lo, hi)).max  # v - lo fits v's dtype
            computed.append((i, self.xc.fn(e), check, in_place))
        return Effect(keep, bits, computed)

    # successors

    def expand(self, keys: np.ndarray):
        """Every ``(parent position, instance, successor key)`` of a chunk of states.

        Returns ``(succ keys, parent positions, instances, per-instance counts,
        bit mask of the states with a successor)``; candidates come grouped
        by instance, each group in parent order.
        """
        chunk = Chunk(self.layout, keys, self.xc)
        out_keys, out_parent, out_inst = [], [], []
        counts = np.zeros(self.n_inst, np.int64)
        moved = np.zeros(chunk.nwords, np.uint64)
        for k, tree in enumerate(self.trees):
            if tree is None:
                continue

            def visit(leaf: Effect, mask: np.ndarray, k=k) -> None:
                if leaf.error:
                    raise ModelError(leaf.error)
                np.bitwise_or(moved, mask, out=moved)
                pos = chunk.positions(mask)
                new = take(keys, pos)
                new &= leaf.keep
                new |= leaf.bits
                if leaf.computed:
                    rows = Rows(chunk, pos)
                    for slot, fn, check, in_place in leaf.computed:
                        f = self.layout.fields[slot]
                        v = fn(rows)
                        if check and ((v < f.lo) | (v > f.hi)).any():
                            bad = int(v[(v < f.lo) | (v > f.hi)][0])
                            dom = self.model.schema.slot_domains[slot]
                            raise ModelError(f"{self.model.schema.slot_names[slot]} = {bad}: not "
                                             f"{dom.describe()}; an effect must assign values of "
                                             "the variable's domain")
                        if f.lo:
                            v = (v - f.lo) if in_place else (v.astype(np.int64) - f.lo)
                        new[:, f.word] |= v.astype(np.uint64) << np.uint64(f.shift)
                out_keys.append(new)
                out_parent.append(pos)
                out_inst.append(np.full(len(pos), k, np.int64))
                counts[k] += len(pos)
            walk(tree, chunk, chunk.all, visit)
        if not out_keys:
            empty = np.zeros(0, np.int64)
            return self.layout.empty(), empty, empty, counts, moved
        return (np.concatenate(out_keys), np.concatenate(out_parent), np.concatenate(out_inst),
                counts, moved)

    def successor(self, state: tuple, k: int) -> tuple | None:
        """This engine's successor of ``state`` by instance ``k`` (None if disabled)."""
        succ, _, inst, _, _ = self.expand(self.layout.pack_states([state]))
        hit = np.flatnonzero(inst == k)
        return None if not len(hit) else self.layout.unpack_states(take(succ, hit[:1]))[0]

    # predicates

    def predicate(self, fn, what: str):
        """``f(keys) -> bool array`` for a state predicate, from its traced paths.

        Falls back to evaluating the predicate state by state when the tracer
        cannot follow it.
        """
        try:
            tree = decision_tree(predicate_paths(self.model, fn, what))
        except Unsupported:
            check = compile_predicate(self.model, fn, what)

            def by_state(keys: np.ndarray) -> np.ndarray:
                return np.array([bool(check(s)) for s in self.layout.unpack_states(keys)], bool)
            return by_state

        def vectorised(keys: np.ndarray) -> np.ndarray:
            if tree is None or not len(keys):
                return np.zeros(len(keys), bool)
            chunk = Chunk(self.layout, keys, self.xc)
            true = np.zeros(chunk.nwords, np.uint64)

            def visit(truth, mask):
                if truth:
                    np.bitwise_or(true, mask, out=true)
            walk(tree, chunk, chunk.all, visit)
            return np.unpackbits(true.view(np.uint8), count=len(keys), bitorder="little").astype(bool)
        return vectorised


def dedup_first(keys: np.ndarray, disc: np.ndarray, hashes: np.ndarray | None = None):
    """Distinct rows of ``keys``, each with its least ``disc``; and their hashes
    (``hashes``, when given, are those of ``keys``).

    One fast sort of ``uint64`` words: the top bits of each key's hash with
    its position below them. Equal keys end up next to each other unless
    two different keys share those hash bits and interleave; then (rarely)
    the batch is sorted again by the whole key.
    """
    n = len(keys)
    h = hash_keys(keys) if hashes is None else hashes
    if n < 2:
        return keys, disc, h
    ib = (n - 1).bit_length()
    low = np.uint64((1 << ib) - 1)
    packed = np.sort((h & ~low) | np.arange(n, dtype=np.uint64))
    idx = (packed & low).astype(np.int64)
    ks = take(keys, idx)
    tie = (packed[1:] >> np.uint64(ib)) == (packed[:-1] >> np.uint64(ib))
    diff = ~same(ks[1:], ks[:-1])
    if (tie & diff).any():  # a collision of the truncated hash: order by the whole key
        idx = np.lexsort(tuple(keys[:, w] for w in range(keys.shape[1] - 1, -1, -1)))
        ks = take(keys, idx)
        diff = ~same(ks[1:], ks[:-1])
    start = np.flatnonzero(np.concatenate([[True], diff]))
    return take(ks, start), np.minimum.reduceat(disc[idx], start), h[idx[start]]


class VectorEngine(Engine):
    """The search's side of the vector engine: packed levels, the set of states seen."""

    def __init__(self, model: Model, symmetry: "Symmetry | None" = None, chunk: int | None = None):
        self.model = model
        self.vm = VectorModel(model)
        self.layout = self.vm.layout
        self.chunk = chunk or CHUNK
        self.symmetry = symmetry
        self.canon = symmetry.canonicaliser(model, self.layout) if symmetry is not None else None
        self.name = "vector" + ("+symmetry" if symmetry is not None else "")
        if symmetry is not None:
            self.not_checked = {name: f"not invariant under the symmetry reduction: {why}"
                                for name, why in symmetry.not_invariant.items()}
            self.no_liveness = "liveness is not checked under symmetry reduction"
        self.checks = {(p.name if p.kind == "always" else "?" + p.name):
                       (self.vm.predicate(p.check, p.name), p.kind == "always")
                       for p in model.properties
                       if p.kind in ("always", "sometimes") and p.name not in self.not_checked}
        self.ends = Ends(model)
        self.seen = StateSet(self.layout.nwords)
        self.phases = dict.fromkeys(PHASES, 0.0)
        self.init_index = np.arange(len(model.initial_states))

    # -- levels ----------------------------------------------------------------------------

    def initial(self) -> np.ndarray:
        init = self.layout.pack_states(list(self.model.initial_states))
        if self.canon is not None:  # one representative per orbit, in the order first met
            init, first, _ = dedup_first(self.canon(init), np.arange(len(init)))
            order = np.argsort(first)
            init, self.init_index = take(init, order), first[order]
        self.seen.add(init)
        return init

    def size(self, level: np.ndarray) -> int:
        return len(level)

    def head(self, states: np.ndarray, n: int) -> np.ndarray:
        return states[:n]

    def join(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else self.layout.empty()

    def unpack(self, level: np.ndarray) -> list[State]:
        return self.layout.unpack_states(level)

    def events(self, keys: np.ndarray, open_: set[str]) -> dict[str, int]:
        found = {}
        for name in open_:
            check, invariant = self.checks[name]
            hit = np.flatnonzero(check(keys) != invariant)
            if len(hit):
                found[name] = int(hit[0])
        return found

    def kinds(self, keys: np.ndarray, dead: list[int]) -> list[str]:
        """How each state of ``keys`` at a position of ``dead`` ends (it has no successor)."""
        if not dead:
            return []
        return [self.ends.kind(s) for s in self.layout.unpack_states(take(keys, np.array(dead)))]

    # -- one chunk --------------------------------------------------------------------------

    def candidates(self, keys: np.ndarray):
        """The chunk's successors as ``(keys, parent, instance, counts, dead ends)``: dead ends
        as ``(position, kind)``."""
        succ, parent, inst, counts, moved = self.vm.expand(keys)
        dead = Chunk.positions(~moved)
        dead = [int(r) for r in dead[dead < len(keys)]]
        return succ, parent, inst, counts, list(zip(dead, self.kinds(keys, dead)))

    def expand(self, level: np.ndarray, lo: int, hi: int, at_limit: bool,
               open_: set[str]) -> Expansion:
        n = self.vm.n_inst
        keys = level[lo:hi]
        clock = [time.perf_counter()]
        succ, parent, inst, counts, dead = self.candidates(keys)
        clock.append(time.perf_counter())
        disc = parent * n + inst
        u, d, h = dedup_first(succ, disc)
        clock.append(time.perf_counter())
        if self.canon is not None:  # representatives of the successors' orbits
            u, d, h = dedup_first(self.canon(u), d)
        clock.append(time.perf_counter())
        grew = False
        if at_limit:
            grew = bool(len(u) and (~self.seen.contains(u)).any())
            new, new_disc, found = self.layout.empty(), disc[:0], {}
        else:
            fresh = self.seen.add(u, h)
            clock.append(time.perf_counter())
            order = np.argsort(d[fresh])
            new, new_disc = take(take(u, fresh), order), d[fresh][order]
            found = self.events(new, open_)
        clock.append(time.perf_counter())
        for phase, t, t_next in zip(self.phases, clock, clock[1:]):
            self.phases[phase] += t_next - t

        def recount(p_stop: int, cut_disc: int | None) -> tuple[int, np.ndarray]:
            keep = disc <= cut_disc if cut_disc is not None else parent <= p_stop
            return int(np.count_nonzero(parent <= p_stop)), np.bincount(inst[keep], minlength=n)
        return Expansion(new, new_disc, found, dead, len(succ), counts, recount, grew)

    def close(self) -> dict:
        summary = {"phases": dict(self.phases), "set_bytes": self.seen.nbytes}
        self.seen = StateSet(self.layout.nwords)
        return summary

    # -- traces -----------------------------------------------------------------------------

    def replay(self, first: int, instances: Sequence[int]) -> tuple[State, list[Step]]:
        model, vm = self.model, self.vm
        initial = model.initial_states[int(self.init_index[first])]
        steps, state = [], initial
        if self.canon is None:
            for k in instances:
                inst = model.instances[k]
                mine = vm.successor(state, k)
                state = model.apply(inst, state)
                if mine != state:
                    raise CheckerBug(f"vector engine: {inst.label} does not compute what the model does")
                steps.append(Step(inst, state))
            return initial, steps
        # The path runs through representatives; replay it on the concrete states,
        # at each step taking the first enabled instance that lands in the next orbit.
        canon = lambda st: self.canon(self.layout.pack_states([st]))  # noqa: E731
        rep = self.layout.unpack_states(canon(initial))[0]
        for k in instances:
            nxt = vm.successor(rep, k)
            if nxt is None:
                raise CheckerBug(f"vector engine: {model.instances[k].label} is not enabled "
                                 "on the representative it was found from")
            want = canon(nxt)
            rep = self.layout.unpack_states(want)[0]
            for inst, succ in model.successors(state):
                if same(canon(succ), want)[0]:
                    steps.append(Step(inst, succ))
                    state = succ
                    break
            else:
                raise CheckerBug("symmetry: no step of the concrete state reaches the next "
                                 "orbit; the model is not symmetric under the declared group")
        return initial, steps
