"""Breadth-first search a whole frontier at a time, with numpy, from the traced paths.

The engine is compiled from the same paths as every other one
(:func:`checker.symbolic.trace_instance`): each instance's paths form a
decision tree whose tests become bit masks over a chunk of the frontier
(each distinct test evaluated once per chunk, on columns unpacked from the
packed states) and whose leaves become word arithmetic on the packed
parents (:mod:`checker.pack`): clear the fields the path changes, or in
their new values. Properties are the same trees over
:func:`checker.symbolic.predicate_paths`.

The search reproduces :func:`checker.explore.explore` exactly: the frontier
is expanded in chunks of consecutive states; a chunk's candidates
``(parent, instance, successor)`` are deduplicated by sorting their hashes,
each successor keeping its first discovery (least ``parent * instances +
instance``: the order in which the explicit search meets it), and are then
added to a :class:`~checker.pack.StateSet` of every state seen. Chunks run
in frontier order, so the new states of a level come out numbered exactly
as the explicit search numbers them: same counts, same first violations,
same traces. Per state the search keeps the packed key in the set and a
parent index and instance number per level; traces are rebuilt from those,
replayed through the model and, step by step, through this engine's own
successor computation (a mismatch is a :class:`~checker.errors.CheckerBug`).

Liveness (``eventually``) is checked as :func:`checker.explore.explore`
does, on the explicit graph, which this engine then rebuilds from every
level's keys: that costs the explicit search's memory, so large runs turn
it off (``liveness=False``: the properties are NOT CHECKED, never HOLDS).
A model the tracer cannot follow is explored by :func:`checker.explore.explore`
instead (its ``stats.engine`` says which engine ran). With a
:class:`checker.symmetry.Symmetry`, successors are replaced by canonical
representatives of their orbits before deduplication. With ``workers`` > 1
the same search runs over several processes (:mod:`checker.parallel`), with
the same result.
"""
from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..core.compile import compile_predicate, compile_successors
from ..core.contract import Model
from ..core.decisions import Leaf, Node, instance_tree, map_leaves
from ..core.decisions import tree as decision_tree
from ..core.expr import Const, Expr, Slot, negate
from ..core.paths import Path, predicate_paths, trace_instance
from ..errors import CheckerBug, ModelError, Unsupported, UsageError
from ..results.result import DEADLOCK, CheckResult, PropertyResult, Stats
from ..results.trace import Step, Trace
from .liveness import Graph, check_leads_to
from .numpy_expr import ExprCompiler
from .pack import Layout, StateSet, hash_keys, int_dtype, same, take
from .search import Limits, Progress, StopRule, decide, explore

if TYPE_CHECKING:
    from .symmetry import Symmetry

CHUNK = 1 << 17
"""Frontier states expanded together: big enough to amortise numpy's per-call cost,
small enough that a chunk's candidates sort in cache."""


def explore_vector(model: Model, *, stop_at_first: bool = False, limits: Limits = Limits(),
                   on_progress: Callable[[Progress], None] | None = None,
                   progress_every: float = 3.0, meta: dict | None = None,
                   liveness: bool = True, stop_when_violated: tuple[str, ...] = (),
                   symmetry: "Symmetry | None" = None, chunk: int = CHUNK,
                   workers: int = 1) -> CheckResult:
    """Search every reachable state of ``model`` breadth-first, a frontier chunk at a time.

    Same arguments and result as :func:`checker.explore.explore` (whose
    ``engine`` here is ``"vector"``). ``symmetry`` (a
    :class:`checker.symmetry.Symmetry`) explores one representative per
    orbit of states: counts are then of representatives, and traces are
    concrete paths of the model that reach a state of the goal's orbit.
    ``workers`` > 1 searches with that many processes (:mod:`checker.parallel`):
    the same result, ``stats.workers`` says how many ran.
    """
    if workers < 1:
        raise UsageError(f"workers must be at least 1, not {workers}")
    known = {p.name for p in model.properties if p.kind == "always"} | {DEADLOCK}
    unknown = [n for n in stop_when_violated if n not in known]
    if unknown:
        raise UsageError(f"cannot stop on {unknown}: not invariants of model {model.name}")
    try:
        engine = VectorEngine(model, symmetry)
    except Unsupported:
        if symmetry is not None:
            raise
        return explore(model, stop_at_first=stop_at_first, limits=limits, on_progress=on_progress,
                       progress_every=progress_every, meta=meta, liveness=liveness,
                       stop_when_violated=stop_when_violated)
    args = (engine, stop_at_first, tuple(stop_when_violated), limits, on_progress,
            progress_every, meta or {}, liveness, chunk)
    if workers > 1:
        from .parallel import ParallelSearch, can_fork
        if can_fork():
            return ParallelSearch(*args, workers=workers).run()
    return _Search(*args).run()


# ---- decision trees over a chunk ------------------------------------------------

class Chunk:
    """Consecutive states of a level: packed keys, columns and tests evaluated on demand.

    A subset of the chunk is a bit mask (``uint64`` words, bit ``i`` of word
    ``w`` for state ``64 w + i``): walking a decision tree then costs one
    ``&`` per test, whatever the subset's size, and every distinct test is
    evaluated once per chunk however many trees share it.
    """

    def __init__(self, layout: Layout, keys: np.ndarray, xc: "ExprCompiler"):
        self.layout, self.keys, self.n, self.xc = layout, keys, len(keys), xc
        self.nwords = (self.n + 63) // 64
        self._cols: dict[int, np.ndarray] = {}
        self._tests: dict[Expr, np.ndarray] = {}
        self.all = self.bits(np.ones(self.n, bool))

    def __call__(self, slot: int) -> np.ndarray:
        """Column ``slot`` of every state of the chunk."""
        col = self._cols.get(slot)
        if col is None:
            col = self._cols[slot] = self.layout.column(self.keys, slot)
        return col

    def bits(self, mask: np.ndarray) -> np.ndarray:
        """A boolean array over the chunk as a bit mask."""
        packed = np.packbits(mask, bitorder="little")
        out = np.zeros(self.nwords * 8, np.uint8)
        out[:len(packed)] = packed
        return out.view(np.uint64)

    def test(self, e: Expr) -> np.ndarray:
        """The bit mask of the states where condition ``e`` holds."""
        m = self._tests.get(e)
        if m is None:
            m = self._tests[e] = self.bits(self.xc.fn(e)(self))
        return m

    @staticmethod
    def positions(mask: np.ndarray) -> np.ndarray:
        """The states of a bit mask, in increasing order."""
        w = np.flatnonzero(mask)
        i = np.flatnonzero(np.unpackbits(mask[w].view(np.uint8), bitorder="little"))
        return w[i >> 6] * 64 + (i & 63)


class Rows:
    """Some states of a chunk, for evaluating expressions at a leaf: columns gathered lazily."""

    __slots__ = ("chunk", "idx", "n", "_cols")

    def __init__(self, chunk: Chunk, idx: np.ndarray):
        self.chunk, self.idx, self.n = chunk, idx, len(idx)
        self._cols: dict[int, np.ndarray] = {}

    def __call__(self, slot: int) -> np.ndarray:
        col = self._cols.get(slot)
        if col is None:
            col = self._cols[slot] = self.chunk(slot)[self.idx]
        return col


def walk(node: Node | None, chunk: Chunk, mask: np.ndarray, visit: Callable) -> None:
    """Split the bit mask ``mask`` down a decision tree; ``visit(leaf value, mask)`` at each
    leaf reached. Where a decision has both sides, the second is the rest of the first's
    parent, so each test costs one ``&``."""
    if node is None:
        return
    if isinstance(node, Leaf):
        visit(node.value, mask)
        return
    if node.yes is None:
        m = mask & chunk.test(negate(node.cond))
        if m.any():
            walk(node.no, chunk, m, visit)
        return
    m = mask & chunk.test(node.cond)
    if node.no is None:
        if m.any():
            walk(node.yes, chunk, m, visit)
        return
    if m.any():
        walk(node.yes, chunk, m, visit)
        m ^= mask  # the rest of the parent: where the condition does not hold
        if m.any():
            walk(node.no, chunk, m, visit)
    else:
        walk(node.no, chunk, mask, visit)


# ---- the compiled model -------------------------------------------------------------

@dataclass
class Effect:
    """What a path does to a packed parent: keep, constant bits, computed fields."""

    keep: np.ndarray      # per word: bits not changed
    bits: np.ndarray      # per word: constant new values
    computed: list        # (slot, function, needs a domain check, subtract-lo in place)
    error: str = ""


class VectorEngine:
    """A model compiled to numpy: successors of a chunk, and predicates over one."""

    def __init__(self, model: Model, symmetry=None):
        self.model = model
        self.layout = Layout(model.schema)
        self.xc = ExprCompiler(self.layout)
        self.n_inst = len(model.instances)
        self.action_of = np.array([model.actions.index(i.action) for i in model.instances], np.int64)
        self.trees = [map_leaves(instance_tree(trace_instance(model, inst)), self._effect)
                      for inst in model.instances]
        self.symmetry = symmetry
        self.canon = symmetry.canonicaliser(model, self.layout) if symmetry is not None else None

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


# ---- the search ---------------------------------------------------------------------

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


class _Search(StopRule):
    def __init__(self, engine: VectorEngine, stop_at_first, stop_when, limits, on_progress,
                 progress_every, meta, liveness, chunk):
        self.e, self.model = engine, engine.model
        self.stop_at_first, self.stop_when, self.limits = stop_at_first, stop_when, limits
        self.on_progress, self.progress_every, self.meta = on_progress, progress_every, meta
        self.liveness, self.chunk = liveness, chunk
        # seconds per phase of a chunk, in the order they run
        self.phases = dict.fromkeys(("expand", "dedup", "symmetry", "set", "properties"), 0.0)
        model = self.model
        self.skipped = dict(engine.symmetry.not_invariant) if engine.symmetry is not None else {}
        self.always = [p for p in model.properties if p.kind == "always" and p.name not in self.skipped]
        self.sometimes = [p for p in model.properties
                          if p.kind == "sometimes" and p.name not in self.skipped]
        self.keep_levels = (liveness and engine.symmetry is None
                            and any(p.kind == "eventually" for p in model.properties))
        self.violated_at: dict[str, tuple[int, int]] = {}
        self.reached_at: dict[str, tuple[int, int]] = {}
        self.deadlock_at: tuple[int, int] | None = None
        self.parents: list[np.ndarray] = []
        self.vias: list[np.ndarray] = []
        self.levels: list[np.ndarray] = []
        self.checks = {p.name: engine.predicate(p.check, p.name) for p in self.always + self.sometimes}
        self.terminal = compile_predicate(model, model.terminal, "terminal") if model.terminal else None
        self.at_bound = compile_predicate(model, model.at_bound, "at_bound") if model.at_bound else None

    # -- properties and stopping ------------------------------------------------------

    def _events(self, keys: np.ndarray) -> dict[str, int]:
        """First position in ``keys`` where each open property is decided (violated or reached)."""
        found = {}
        for p in self.always:
            if p.name not in self.violated_at:
                bad = np.flatnonzero(~self.checks[p.name](keys))
                if len(bad):
                    found[p.name] = int(bad[0])
        for p in self.sometimes:
            if p.name not in self.reached_at:
                hit = np.flatnonzero(self.checks[p.name](keys))
                if len(hit):
                    found["?" + p.name] = int(hit[0])
        return found

    def _stop_parent(self, events: dict[str, int]) -> int | None:
        """The first parent after whose expansion the explicit search would stop, given
        ``events``: property name -> parent at which it breaks (``deadlock_free`` included)."""
        if self.stop_when:
            if not all(self._broken(n) or n in events for n in self.stop_when):
                return None
            return max((events[n] for n in self.stop_when if not self._broken(n)), default=None)
        if self.stop_at_first:
            inv = [p for n, p in events.items() if not n.startswith("?")]
            return min(inv) if inv else None
        return None

    def _record(self, found: dict[str, int], depth: int, offset: int, limit: int | None) -> None:
        for name, i in found.items():
            if limit is not None and i >= limit:
                continue
            if name.startswith("?"):
                self.reached_at[name[1:]] = (depth, offset + i)
            else:
                self.violated_at[name] = (depth, offset + i)

    # -- the search ---------------------------------------------------------------------

    def _initial(self) -> np.ndarray:
        """The keys of level 0 (representatives under symmetry), its properties recorded."""
        e = self.e
        init = e.layout.pack_states(list(self.model.initial_states))
        self.init_index = np.arange(len(init))  # level-0 position -> model.initial_states
        if e.canon is not None:
            init, first, _ = dedup_first(e.canon(init), np.arange(len(init)))
            order = np.argsort(first)
            init, self.init_index = take(init, order), first[order]
        self._record(self._events(init), 0, 0, None)
        self.parents.append(np.full(len(init), -1, np.int64))
        self.vias.append(np.full(len(init), -1, np.int64))
        return init

    def run(self) -> CheckResult:
        e, limits = self.e, self.limits
        layout, n_inst = e.layout, e.n_inst
        stats = Stats(engine="vector" + ("+symmetry" if e.symmetry is not None else ""))
        fired = np.zeros(n_inst, np.int64)
        start = time.perf_counter()
        last_report = start
        deadline = start + limits.timeout if limits.timeout else None
        seen = StateSet(layout.nwords)
        init = self._initial()
        seen.add(init)
        level, depth, total = init, 0, len(init)
        stop = "first violation" if self._must_stop() else ""
        transitions = 0
        via_dtype = np.uint8 if n_inst <= 256 else np.int32
        parent_dtype = np.int32  # a position in the level before: widened if a level gets that big
        while len(level) and not stop:
            if len(level) >= 2**31:
                parent_dtype = np.int64
            if self.keep_levels:
                self.levels.append(level)
            at_limit = limits.max_depth is not None and depth >= limits.max_depth
            grew = False
            new_keys, new_parent, new_via = [], [], []
            level_n = 0  # states of the next level so far
            for lo in range(0, len(level), self.chunk):
                keys = level[lo:lo + self.chunk]
                clock = [time.perf_counter()]
                succ, parent, inst, counts, moved = e.expand(keys)
                clock.append(time.perf_counter())
                n = len(keys)
                dead = Chunk.positions(~moved)
                dead = [int(r) for r in dead[dead < n]]
                kinds = self._classify(keys, dead)
                events: dict[str, int] = {}
                first_dead = next((r for r, kind in zip(dead, kinds) if kind == "deadlock"), None)
                if first_dead is not None and self.deadlock_at is None:
                    events[DEADLOCK] = first_dead
                disc = parent * n_inst + inst
                u, d, h = dedup_first(succ, disc)
                clock.append(time.perf_counter())
                if e.canon is not None:  # representatives of the successors' orbits
                    u, d, h = dedup_first(e.canon(u), d)
                clock.append(time.perf_counter())
                if at_limit:
                    grew = grew or bool(len(u) and (~seen.contains(u)).any())
                    nk, nd, found = layout.empty(), disc[:0], {}
                else:
                    fresh = seen.add(u, h)
                    clock.append(time.perf_counter())
                    order = np.argsort(d[fresh])
                    nk, nd = take(take(u, fresh), order), d[fresh][order]
                    found = self._events(nk)
                    for name, i in found.items():
                        events.setdefault(name, int(nd[i] // n_inst))
                clock.append(time.perf_counter())
                for phase, t, t_next in zip(self.phases, clock, clock[1:]):
                    self.phases[phase] += t_next - t
                # where would the explicit search have stopped inside this chunk?
                cut_disc = None  # the state limit: the candidate that found no room
                if limits.max_states is not None and total + len(nk) > limits.max_states:
                    cut_disc = int(nd[limits.max_states - total])
                p_must = self._stop_parent(events)
                if cut_disc is not None and (p_must is None or cut_disc // n_inst <= p_must):
                    stop = f"state limit {limits.max_states}"
                    p_stop = cut_disc // n_inst
                    take_n = limits.max_states - total
                    keep_cand = disc <= cut_disc
                elif p_must is not None:
                    stop = "first violation"
                    p_stop = p_must
                    take_n = int(np.searchsorted(nd // n_inst, p_stop, side="right"))
                    keep_cand = parent <= p_stop
                else:
                    p_stop, take_n, keep_cand = None, len(nk), None
                if keep_cand is not None:
                    counts = np.bincount(inst[keep_cand], minlength=n_inst)
                    transitions += int(np.count_nonzero(parent <= p_stop))
                    last_dead = p_stop if stop == "first violation" else p_stop - 1
                    kinds = [kd for r, kd in zip(dead, kinds) if r <= last_dead]
                    dead = dead[:len(kinds)]
                else:
                    transitions += len(succ)
                fired += counts
                self._count_dead(stats, [(lo + r, kind) for r, kind in zip(dead, kinds)], depth)
                self._record(found, depth + 1, level_n, take_n)
                if take_n:
                    new_keys.append(nk[:take_n])
                    new_parent.append((nd[:take_n] // n_inst + lo).astype(parent_dtype))
                    new_via.append((nd[:take_n] % n_inst).astype(via_dtype))
                    total += take_n
                    level_n += take_n
                if stop:
                    break
                now = time.perf_counter()
                if deadline is not None and now > deadline:
                    stop = f"time limit {limits.timeout:g}s"
                    break
                if self.on_progress and now - last_report >= self.progress_every:
                    last_report = now
                    queued = len(level) - lo - n + level_n
                    self.on_progress(Progress(total, queued, depth, now - start))
            if new_keys:
                self.parents.append(np.concatenate(new_parent))
                self.vias.append(np.concatenate(new_via))
                level = np.concatenate(new_keys)
            else:
                level = layout.empty()
            if stop:
                break
            if at_limit:
                if grew:
                    stop = f"depth limit {limits.max_depth}"
                break
            if len(level):
                depth += 1
        self._fill_stats(stats, total, transitions, depth, fired, start, stop)
        self.set_bytes = seen.nbytes
        del seen
        return self._result(stats)

    def _fill_stats(self, stats: Stats, total: int, transitions: int, depth: int,
                    fired: np.ndarray, start: float, stop: str) -> None:
        """The statistics of a finished search (before its verdicts)."""
        model = self.model
        stats.states = total
        stats.transitions = transitions
        stats.depth = depth
        stats.levels = [len(p) for p in self.parents[:depth + 1]]
        by_action = np.bincount(self.e.action_of, weights=fired, minlength=len(model.actions))
        stats.action_counts = {a.name: int(n) for a, n in zip(model.actions, by_action)}
        stats.seconds = time.perf_counter() - start
        stats.peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        stats.complete = not stop
        stats.stopped_by = stop

    def _result(self, stats: Stats) -> CheckResult:
        """The result: verdicts, traces, statistics and the seconds of each phase."""
        meta = self.meta
        result = CheckResult(model=self.model.name, config=meta.get("config", ""),
                             variants=tuple(meta.get("variants", ())),
                             constants=dict(meta.get("constants", {})),
                             properties=self._verdicts(stats), stats=stats)
        result.phases = dict(self.phases, set_bytes=self.set_bytes)
        return result

    def _count_dead(self, stats: Stats, dead: list[tuple[int, str]], depth: int) -> None:
        """Count states without successors by kind; the first deadlock is where one was found."""
        for r, kind in dead:
            if kind == "terminal":
                stats.terminal_states += 1
            elif kind == "at_bound":
                stats.at_bound_states += 1
            else:
                stats.deadlock_states += 1
                if self.deadlock_at is None:
                    self.deadlock_at = (depth, r)

    def _classify(self, keys: np.ndarray, dead: list[int]) -> list[str]:
        """terminal, at_bound or deadlock, for each state of ``keys`` at ``dead``."""
        out = []
        for state in self.e.layout.unpack_states(take(keys, np.array(dead, np.int64))) if dead else ():
            if self.terminal is not None and self.terminal(state):
                out.append("terminal")
            elif self.at_bound is not None and self.at_bound(state):
                out.append("at_bound")
            else:
                out.append("deadlock")
        return out

    # -- verdicts and traces ------------------------------------------------------------

    def _verdicts(self, stats: Stats) -> list[PropertyResult]:
        not_checked = {name: f"not invariant under the symmetry reduction: {why}"
                       for name, why in self.skipped.items()}
        if self.e.symmetry is not None:
            not_checked.update({p.name: "liveness is not checked under symmetry reduction"
                                for p in self.model.properties if p.kind == "eventually"})
        return decide(self.model, stats, violated_at=self.violated_at, reached_at=self.reached_at,
                      deadlock_at=self.deadlock_at, trace=self._trace,
                      leads_to=lambda p: check_leads_to(self._graph(), p), liveness=self.liveness,
                      stop_when=self.stop_when, meta=self.meta, not_checked=not_checked)

    def _graph(self) -> Graph:
        """The explored graph as :mod:`checker.liveness` wants it (explicit states)."""
        layout = self.e.layout
        states = [s for keys in self.levels for s in layout.unpack_states(keys)]
        offsets = np.cumsum([0] + [len(k) for k in self.levels])
        parent = [-1] * len(self.levels[0])
        via = [-1] * len(self.levels[0])
        for d in range(1, len(self.levels)):
            parent += (self.parents[d] + offsets[d - 1]).tolist()
            via += self.vias[d].astype(np.int64).tolist()
        index = {s: i for i, s in enumerate(states)}
        succ = compile_successors(self.model)[0]
        if self.e.canon is not None:
            raise CheckerBug("liveness is not checked under symmetry reduction")
        return Graph(self.model, states, index, parent, via, succ)

    def _path(self, at: tuple[int, int]) -> tuple[int, list[int]]:
        """The initial state's position and the instances from it to state ``at``."""
        depth, i = at
        insts = []
        while depth > 0:
            insts.append(int(self.vias[depth][i]))
            i = int(self.parents[depth][i])
            depth -= 1
        return i, insts[::-1]

    def _trace(self, at: tuple[int, int], goal: str, kind: str) -> Trace:
        model, e = self.model, self.e
        first, insts = self._path(at)
        initial = model.initial_states[int(self.init_index[first])]
        steps, state = [], initial
        if e.canon is None:
            for k in insts:
                inst = model.instances[k]
                mine = e.successor(state, k)
                state = model.apply(inst, state)
                if mine != state:
                    raise CheckerBug(f"vector engine: {inst.label} does not compute what the model does")
                steps.append(Step(inst, state))
        else:
            # The path runs through representatives; replay it on the concrete states,
            # at each step taking the first enabled instance that lands in the next orbit.
            canon = lambda st: e.canon(e.layout.pack_states([st]))  # noqa: E731
            rep = e.layout.unpack_states(canon(initial))[0]
            for k in insts:
                nxt = e.successor(rep, k)
                if nxt is None:
                    raise CheckerBug(f"vector engine: {model.instances[k].label} is not enabled "
                                     "on the representative it was found from")
                want = canon(nxt)
                rep = e.layout.unpack_states(want)[0]
                for inst, succ in model.successors(state):
                    if same(canon(succ), want)[0]:
                        steps.append(Step(inst, succ))
                        state = succ
                        break
                else:
                    raise CheckerBug("symmetry: no step of the concrete state reaches the next "
                                     "orbit; the model is not symmetric under the declared group")
        trace = Trace(model, initial, steps, goal=goal, kind=kind, meta=dict(self.meta))
        trace.validate()
        view = model.schema.view(trace.final)
        if goal == DEADLOCK:
            if model.successors(trace.final):
                raise CheckerBug("vector engine: a deadlock trace ends in a state with successors")
        elif bool(model.property(goal).check(view)) != (kind == "witness"):
            raise CheckerBug(f"vector engine: the {kind} for {goal} does not end where it should")
        return trace
