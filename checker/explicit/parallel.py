"""The vector engine's breadth-first search over several processes, with the same result.

The states are partitioned by hash: of ``n`` worker processes (forked, so
each holds the compiled engine), worker ``w`` owns the states whose hash
is ``w`` modulo ``n``, keeps them in its own :class:`~checker.pack.StateSet`
and expands its share of each level. The search stays level by level, so
counterexamples stay shortest.

A level is expanded in rounds of consecutive positions (``chunk`` states per
worker and round). In a round every worker expands its states, canonicalises
the successors under symmetry, and sends each candidate, a successor with
its discovery ``parent position * instances + instance``, to the successor's
owner; each owner keeps every successor's least discovery, as the sequential
engine does, and inserts the round's successors into its set. A round's
discoveries all come after the last round's, so the first round that finds
a state finds its first discovery, as the sequential engine's chunks do.

The level's numbering is the sequential engine's: its new states sorted by
discovery. The parent process merges the workers' sorted discoveries into
the level's parent and instance arrays (for traces) and sends each worker
the positions of its new states. Workers report, per level, the first
discovery at which each open property is decided, their dead ends
(terminal, at the bound, deadlocked) and their transitions; the parent
decides where the search stops as :class:`checker.vector._Search` does
chunk by chunk, and a level cut by a stop is expanded again, up to the cut,
to count its transitions. Verdicts, traces and liveness are the sequential
engine's, from the same parent pointers; for liveness the workers also send
each level's states. The time limit is checked between levels.
"""
from __future__ import annotations

import fcntl
import multiprocessing
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

import numpy as np

from ..errors import CheckerBug
from .search import Progress
from .pack import StateSet, hash_keys, rows, take
from ..results.result import DEADLOCK, CheckResult, Stats
from .vector import Chunk, _Search, dedup_first

PHASES = ("expand", "dedup", "symmetry", "exchange", "set", "properties")
"""Seconds the workers spend per phase (summed over the workers); the parent adds ``merge``."""


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux and other POSIX systems)."""
    return "fork" in multiprocessing.get_all_start_methods()


def owners(hashes: np.ndarray, n: int) -> np.ndarray:
    """The worker that owns each state, from its hash (the set's slots use the top bits)."""
    return (hashes % np.uint64(n)).astype(np.intp)


# ---- the parent ----------------------------------------------------------------------

@dataclass
class Level:
    """What the workers found expanding one level, merged in the level's order."""

    disc: np.ndarray                 # the new states' discoveries, sorted: their numbering
    ranks: list[np.ndarray]          # per worker: the positions of its new states
    keys: np.ndarray | None          # the new states (only when liveness needs them)
    events: dict[str, int]           # property (``?goal`` for goals) -> first discovery deciding it
    dead: list[tuple[int, str]]      # (position, terminal / at_bound / deadlock), in order
    counts: np.ndarray               # steps per instance
    transitions: int
    grew: bool                       # a successor not seen before (at the depth limit)


class ParallelSearch(_Search):
    """:class:`checker.vector._Search` with the states and the work shared by ``workers`` processes."""

    def __init__(self, *args, workers: int):
        super().__init__(*args)
        self.workers = workers
        self.phases = dict.fromkeys(PHASES + ("merge",), 0.0)

    def run(self) -> CheckResult:
        e, limits, n_inst = self.e, self.limits, self.e.n_inst
        stats = Stats(engine="vector" + ("+symmetry" if e.symmetry is not None else ""),
                      workers=self.workers)
        fired = np.zeros(n_inst, np.int64)
        start = time.perf_counter()
        last_report = start
        deadline = start + limits.timeout if limits.timeout else None
        pool = Pool(self, self.workers)
        try:
            init = self._initial()
            owner = owners(hash_keys(init), self.workers)
            pool.ask("start", [(take(init, owner == w),) for w in range(self.workers)])
            ranks = [np.flatnonzero(owner == w) for w in range(self.workers)]
            keys, level_n, depth, total = init, len(init), 0, len(init)
            stop = "first violation" if self._must_stop() else ""
            transitions = 0
            via_dtype = np.uint8 if n_inst <= 256 else np.int32
            parent_dtype = np.int32
            while level_n and not stop:
                if level_n >= 2**31:
                    parent_dtype = np.int64
                if self.keep_levels:
                    self.levels.append(keys)
                at_limit = limits.max_depth is not None and depth >= limits.max_depth
                decided = [*self.violated_at, *("?" + n for n in self.reached_at)]
                level = self._merge(pool.ask("expand", [(r, level_n, at_limit, decided) for r in ranks]))
                clock = time.perf_counter()
                stop, take_n, p_stop, cut_disc = self._cut(level, total)
                if p_stop is not None:
                    cut = pool.ask("cut", [(p_stop, cut_disc)] * self.workers)
                    transitions += sum(t for t, _ in cut)
                    fired += sum(c for _, c in cut)
                    last_dead = p_stop if stop == "first violation" else p_stop - 1
                    dead = [(r, kind) for r, kind in level.dead if r <= last_dead]
                else:
                    transitions += level.transitions
                    fired += level.counts
                    dead = level.dead
                self._count_dead(stats, dead, depth)
                found = {name: int(np.searchsorted(level.disc, d)) for name, d in level.events.items()}
                self._record(found, depth + 1, 0, take_n)
                if take_n:
                    self.parents.append((level.disc[:take_n] // n_inst).astype(parent_dtype))
                    self.vias.append((level.disc[:take_n] % n_inst).astype(via_dtype))
                    total += take_n
                keys, level_n = level.keys, take_n
                now = time.perf_counter()
                self.phases["merge"] += now - clock
                if not stop and deadline is not None and now > deadline:
                    stop = f"time limit {limits.timeout:g}s"
                if stop:
                    break
                if at_limit:
                    if level.grew:
                        stop = f"depth limit {limits.max_depth}"
                    break
                ranks = level.ranks
                if level_n:
                    depth += 1
                if self.on_progress and now - last_report >= self.progress_every:
                    last_report = now
                    self.on_progress(Progress(total, level_n, depth, now - start))
            self._fill_stats(stats, total, transitions, depth, fired, start, stop)
            summaries = pool.close()
        finally:
            pool.terminate()
        for s in summaries:
            for phase, seconds in s["phases"].items():
                self.phases[phase] += seconds
        self.set_bytes = sum(s["set_bytes"] for s in summaries)
        stats.peak_rss_bytes += sum(s["rss"] for s in summaries)
        return self._result(stats)

    def _merge(self, reports: list[dict]) -> Level:
        """One level's worker reports as one :class:`Level`."""
        clock = time.perf_counter()
        disc = np.sort(np.concatenate([r["disc"] for r in reports]), kind="stable")
        ranks = [np.searchsorted(disc, r["disc"]) for r in reports]
        keys = None
        if self.keep_levels:
            keys = self.e.layout.empty(len(disc))
            for r, rank in zip(reports, ranks):
                rows(keys)[rank] = rows(r["keys"])
        events: dict[str, int] = {}
        for r in reports:
            for name, d in r["events"].items():
                events[name] = min(d, events.get(name, d))
        level = Level(disc, ranks, keys, events, sorted(x for r in reports for x in r["dead"]),
                      sum(r["counts"] for r in reports), sum(r["transitions"] for r in reports),
                      any(r["grew"] for r in reports))
        self.phases["merge"] += time.perf_counter() - clock
        return level

    def _cut(self, level: Level, total: int) -> tuple[str, int, int | None, int | None]:
        """Where the sequential search would stop in this level: the reason (or ""), the
        new states kept, the last parent expanded and the last discovery kept (state limit)."""
        n_inst, limits = self.e.n_inst, self.limits
        events: dict[str, int] = {}
        first_dead = next((r for r, kind in level.dead if kind == "deadlock"), None)
        if first_dead is not None and self.deadlock_at is None:
            events[DEADLOCK] = first_dead
        for name, d in level.events.items():
            events.setdefault(name, d // n_inst)
        cut_disc = None
        if limits.max_states is not None and total + len(level.disc) > limits.max_states:
            cut_disc = int(level.disc[limits.max_states - total])
        p_must = self._stop_parent(events)
        if cut_disc is not None and (p_must is None or cut_disc // n_inst <= p_must):
            return f"state limit {limits.max_states}", limits.max_states - total, cut_disc // n_inst, cut_disc
        if p_must is not None:
            take_n = int(np.searchsorted(level.disc // n_inst, p_must, side="right"))
            return "first violation", take_n, p_must, None
        return "", len(level.disc), None, None


class Pool:
    """The worker processes: a connection each to the parent (commands and reports), and a
    raw pipe per ordered pair of workers (candidates, as bytes)."""

    def __init__(self, search: ParallelSearch, n: int):
        ctx = multiprocessing.get_context("fork")
        ends = [ctx.Pipe() for _ in range(n)]
        links = {(p, q): _pipe() for p in range(n) for q in range(n) if p != q}
        fds = [fd for pair in links.values() for fd in pair]
        self.conns = [mine for mine, _ in ends]
        self.procs = []
        for w in range(n):
            conn = ends[w][1]
            outs = {q: links[w, q][1] for q in range(n) if q != w}
            ins = {p: links[p, w][0] for p in range(n) if p != w}
            drop = ([c for pair in ends for c in pair if c is not conn],
                    [fd for fd in fds if fd not in (*outs.values(), *ins.values())])
            proc = ctx.Process(target=_serve, args=(search, w, n, conn, outs, ins, drop),
                               name=f"ksecheck-worker-{w}", daemon=True)
            proc.start()
            self.procs.append(proc)
        for _, theirs in ends:
            theirs.close()
        for fd in fds:
            os.close(fd)

    def ask(self, command: str, args: list[tuple]) -> list:
        """Run ``command`` on every worker (worker ``w`` with ``args[w]``); their answers."""
        for conn, a in zip(self.conns, args):
            conn.send((command, a))
        return self._answers()

    def _answers(self) -> list:
        """Every worker's answer; a worker's error is raised as soon as it comes (the
        others then stop on their own: a worker that loses a peer answers ``lost``)."""
        answers: dict[int, tuple] = {}
        waiting = dict(enumerate(self.conns))
        while waiting:
            for conn in wait(list(waiting.values())):
                w = next(k for k, c in waiting.items() if c is conn)
                try:
                    answers[w] = conn.recv()
                except (EOFError, OSError):
                    answers[w] = ("lost", None)
                del waiting[w]
                if answers[w][0] == "error":
                    raise answers[w][1]
        if any(a[0] == "lost" for a in answers.values()):
            raise CheckerBug("a search worker process died (out of memory?)")
        return [answers[w][1] for w in range(len(self.conns))]

    def close(self) -> list[dict]:
        """Stop the workers; what each reports about itself (phases, set size, memory)."""
        summaries = self.ask("stop", [()] * len(self.conns))
        for proc in self.procs:
            proc.join()
        return summaries

    def terminate(self) -> None:
        """End the workers still running (after an error or an interrupt)."""
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for conn in self.conns:
            conn.close()


# ---- a worker ------------------------------------------------------------------------

class PeerLost(Exception):
    """Another worker went away in the middle of an exchange."""


def _serve(search: _Search, w: int, n: int, conn: Connection, outs: dict, ins: dict,
           drop: tuple[list[Connection], list[int]]) -> None:
    """A worker process's main loop: run the parent's commands until ``stop``. ``outs`` and
    ``ins`` are the pipes to and from the other workers; ``drop`` the ends it closes."""
    for c in drop[0]:
        c.close()
    for fd in drop[1]:
        os.close(fd)
    worker = Worker(search, w, n, outs, ins)
    try:
        while True:
            command, args = conn.recv()
            if command == "stop":
                conn.send(("ok", worker.summary()))
                return
            try:
                answer = ("ok", getattr(worker, command)(*args))
            except PeerLost:
                answer = ("lost", None)
            except Exception as exc:  # reported to the parent, which raises it
                answer = ("error", exc)
            try:
                conn.send(answer)
            except Exception:  # an exception that does not pickle
                conn.send(("error", CheckerBug(f"search worker {w}: {answer[1]!r}")))
            if answer[0] != "ok":
                return
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return


@dataclass
class Report:
    """One worker's findings on one level (see :class:`Level`)."""

    disc: list = field(default_factory=list)
    keys: list = field(default_factory=list)
    events: dict = field(default_factory=dict)
    dead: list = field(default_factory=list)
    counts: np.ndarray | None = None
    transitions: int = 0
    grew: bool = False


class Worker:
    """One worker's share: the states it owns, its part of the frontier, its phase clock."""

    def __init__(self, search: _Search, index: int, count: int, outs: dict, ins: dict):
        self.search, self.e = search, search.e
        self.index, self.count = index, count
        self.outs, self.ins = outs, ins
        self.seen = StateSet(self.e.layout.nwords)
        self.keys, self.gpos = self.e.layout.empty(), np.zeros(0, np.int64)
        self.next_keys = self.e.layout.empty()
        self.phases = dict.fromkeys(PHASES, 0.0)
        self.rss_at_fork = _peak_rss()  # pages shared with the parent, counted there

    def _tick(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phases[phase] += now - since
        return now

    # commands

    def start(self, keys: np.ndarray) -> None:
        """Own ``keys``: this worker's initial states."""
        self.seen.add(keys)
        self.next_keys = keys

    def expand(self, gpos: np.ndarray, size: int, at_limit: bool, decided: list[str]) -> dict:
        """Expand this worker's new states of the last level, at level positions ``gpos`` (a
        level of ``size`` states); its new states of the next level and its findings."""
        self.keys, self.gpos = self.next_keys, gpos
        report = Report(counts=np.zeros(self.e.n_inst, np.int64))
        skip = set(decided)
        step = self.search.chunk * self.count
        for a in range(0, size, step):
            lo, hi = np.searchsorted(self.gpos, [a, a + step])
            u, d, h = self._exchange(*self._successors(self.keys[lo:hi], self.gpos[lo:hi], report))
            clock = time.perf_counter()
            u, d, h = dedup_first(u, d, h)
            clock = self._tick("dedup", clock)
            if at_limit:
                report.grew = report.grew or bool(len(u) and (~self.seen.contains(u)).any())
                self._tick("set", clock)
                continue
            fresh = self.seen.add(u, h)
            clock = self._tick("set", clock)
            order = np.argsort(d[fresh])
            nk, nd = take(take(u, fresh), order), d[fresh][order]
            self._events(nk, nd, skip, report.events)
            report.keys.append(nk)
            report.disc.append(nd)
            self._tick("properties", clock)
        self.next_keys = np.concatenate(report.keys) if report.keys else self.e.layout.empty()
        disc = np.concatenate(report.disc) if report.disc else np.zeros(0, np.int64)
        return {"disc": disc, "keys": self.next_keys if self.search.keep_levels else None,
                "events": report.events, "dead": report.dead, "counts": report.counts,
                "transitions": report.transitions, "grew": report.grew}

    def cut(self, p_stop: int, cut_disc: int | None) -> tuple[int, np.ndarray]:
        """Transitions from the frontier's parents up to ``p_stop``, and steps per instance
        up to discovery ``cut_disc`` (or of those parents)."""
        e, chunk = self.e, self.search.chunk
        hi = int(np.searchsorted(self.gpos, p_stop, side="right"))
        transitions, counts = 0, np.zeros(e.n_inst, np.int64)
        for lo in range(0, hi, chunk):
            succ, parent, inst, _, _ = e.expand(self.keys[lo:min(lo + chunk, hi)])
            transitions += len(succ)
            if cut_disc is not None:
                inst = inst[self.gpos[lo + parent] * e.n_inst + inst <= cut_disc]
            counts += np.bincount(inst, minlength=e.n_inst)
        return transitions, counts

    def summary(self) -> dict:
        """Seconds per phase, the set's bytes and how far this process's peak resident
        memory grew over what it had when it was forked."""
        return {"phases": self.phases, "set_bytes": self.seen.nbytes,
                "rss": _peak_rss() - self.rss_at_fork}

    # a round

    def _successors(self, keys: np.ndarray, gpos: np.ndarray, report: Report):
        """The candidates from ``keys`` (at level positions ``gpos``): successor keys,
        discoveries and hashes; dead ends and counts go into ``report``."""
        e = self.e
        if not len(keys):
            return e.layout.empty(), np.zeros(0, np.int64), np.zeros(0, np.uint64)
        clock = time.perf_counter()
        succ, parent, inst, counts, moved = e.expand(keys)
        dead = Chunk.positions(~moved)
        dead = [int(r) for r in dead[dead < len(keys)]]
        report.dead += [(int(gpos[r]), kind) for r, kind in zip(dead, self.search._classify(keys, dead))]
        report.counts += counts
        report.transitions += len(succ)
        disc = gpos[parent] * e.n_inst + inst
        clock = self._tick("expand", clock)
        if e.canon is None:
            return succ, disc, hash_keys(succ)
        u, d, _ = dedup_first(succ, disc)
        clock = self._tick("dedup", clock)
        u = e.canon(u)
        h = hash_keys(u)
        self._tick("symmetry", clock)
        return u, d, h

    def _exchange(self, keys: np.ndarray, disc: np.ndarray, hashes: np.ndarray):
        """Send every candidate to its owner; this worker's candidates from every worker
        (in the order of the workers that found them)."""
        clock = time.perf_counter()
        owner = owners(hashes, self.count)
        masks = [owner == q for q in range(self.count)]
        parts = {q: (take(keys, masks[q]), disc[masks[q]], hashes[masks[q]]) for q in self.outs}
        failed: list[BaseException] = []
        sender = threading.Thread(target=self._send, args=(parts, failed), daemon=True)
        sender.start()
        sizes = {p: int(_read(fd, np.empty(1, np.int64))[0]) for p, fd in self.ins.items()}
        sizes[self.index] = int(np.count_nonzero(masks[self.index]))
        ends = np.cumsum([0] + [sizes[p] for p in range(self.count)])
        out = (np.empty((ends[-1], keys.shape[1]), np.uint64), np.empty(ends[-1], np.int64),
               np.empty(ends[-1], np.uint64))
        here = slice(ends[self.index], ends[self.index + 1])
        mine = masks[self.index]
        rows(out[0])[here], out[1][here], out[2][here] = rows(keys)[mine], disc[mine], hashes[mine]
        waiting = {fd: p for p, fd in self.ins.items() if sizes[p]}
        while waiting:
            for fd in wait(list(waiting)):
                p = waiting.pop(fd)
                for a in out:
                    _read(fd, a[ends[p]:ends[p + 1]])
        sender.join()
        if failed:
            raise PeerLost() if isinstance(failed[0], OSError) else failed[0]
        self._tick("exchange", clock)
        return out

    def _send(self, parts: dict, failed: list) -> None:
        """Every peer's candidates: first all the counts, then the arrays (so that no
        worker waits for a count behind another worker's arrays)."""
        order = sorted(self.outs, key=lambda q: (q - self.index) % self.count)
        try:
            for q in order:
                _write(self.outs[q], np.array([len(parts[q][1])], np.int64))
            for q in order:
                for a in parts[q]:
                    _write(self.outs[q], a)
        except Exception as exc:  # raised again by the main thread
            failed.append(exc)

    def _events(self, keys: np.ndarray, disc: np.ndarray, skip: set, found: dict) -> None:
        """The first discovery in ``keys`` (sorted by ``disc``) deciding each open property."""
        checks = self.search.checks
        for p in self.search.always:
            if p.name not in skip:
                bad = np.flatnonzero(~checks[p.name](keys))
                if len(bad):
                    found[p.name] = int(disc[bad[0]])
                    skip.add(p.name)
        for p in self.search.sometimes:
            if "?" + p.name not in skip:
                hit = np.flatnonzero(checks[p.name](keys))
                if len(hit):
                    found["?" + p.name] = int(disc[hit[0]])
                    skip.add("?" + p.name)


def _peak_rss() -> int:
    """This process's peak resident memory in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _pipe() -> tuple[int, int]:
    """A pipe (read end, write end) with a buffer of a megabyte where the system allows."""
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (AttributeError, OSError):  # not Linux, or over the system's limit: keep the default
        pass
    return r, w


def _write(fd: int, a: np.ndarray) -> None:
    """The bytes of the contiguous array ``a``, all of them, into pipe ``fd``."""
    data = memoryview(a).cast("B") if a.size else b""
    done = 0
    while done < len(data):
        done += os.write(fd, data[done:])


def _read(fd: int, a: np.ndarray) -> np.ndarray:
    """Fill the contiguous array ``a`` from pipe ``fd``; ``a``."""
    data = memoryview(a).cast("B") if a.size else b""
    done = 0
    while done < len(data):
        n = os.readv(fd, [data[done:]])
        if not n:
            raise PeerLost()
        done += n
    return a
