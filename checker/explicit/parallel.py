"""The vector engine over several processes, with the same result as one.

The states are partitioned by hash: of ``n`` worker processes (forked, so
each holds the compiled engine), worker ``w`` owns the states whose hash
is ``w`` modulo ``n``, keeps them in its own :class:`~checker.explicit.pack.StateSet`
and expands its share of each level. To the search loop
(:mod:`checker.explicit.search`) the engine expands a whole level at once.

A level is expanded in rounds of consecutive positions (``chunk`` states per
worker and round). In a round every worker expands its states, canonicalises
the successors under symmetry, and sends each candidate, a successor with
its discovery ``parent position * instances + instance``, to the successor's
owner; each owner keeps every successor's least discovery, as the
one-process engine does, and inserts the round's successors into its set. A
round's discoveries all come after the last round's, so the first round that
finds a state finds its first discovery.

The level's numbering is the one-process engine's: its new states sorted by
discovery. The parent process merges the workers' sorted discoveries (the
search loop keeps them as parent pointers) and sends each worker the
positions of its new states. Workers report, per level, the first discovery
at which each open property is decided, their dead ends and their
transitions; a level cut short by a stop is expanded again, up to the cut,
to count its transitions. For liveness the workers also send each level's
states.
"""
from __future__ import annotations

import fcntl
import multiprocessing
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Sequence

import numpy as np

from ..core.schema import State
from ..errors import CheckerBug
from ..results.trace import Step
from .engine import Engine, Expansion
from .pack import StateSet, hash_keys, rows, take
from .vector import VectorEngine, dedup_first

PHASES = ("expand", "dedup", "symmetry", "exchange", "set", "properties")
"""Seconds the workers spend per phase (summed over the workers); the parent adds ``merge``."""


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux and other POSIX systems)."""
    return "fork" in multiprocessing.get_all_start_methods()


def owners(hashes: np.ndarray, n: int) -> np.ndarray:
    """The worker that owns each state, from its hash (the set's slots use the top bits)."""
    return (hashes % np.uint64(n)).astype(np.intp)


@dataclass
class Frontier:
    """A level spread over the workers: its size, each worker's positions in it, and the
    states themselves where liveness needs them (else None)."""

    size: int
    ranks: list[np.ndarray]
    keys: np.ndarray | None = None


class ParallelEngine(Engine):
    """:class:`~checker.explicit.vector.VectorEngine` with the states and the work shared by
    ``workers`` processes."""

    chunk = 2**62  # a whole level at a time

    def __init__(self, engine: VectorEngine, workers: int):
        self.ve, self.model, self.workers = engine, engine.model, workers
        self.name, self.not_checked, self.no_liveness = engine.name, engine.not_checked, engine.no_liveness
        self.keep_levels = False
        self.phases = dict.fromkeys(PHASES + ("merge",), 0.0)
        self.pool: Pool | None = None

    def keep(self) -> None:
        self.keep_levels = True

    def initial(self) -> Frontier:
        self.pool = Pool(self, self.workers)  # forked now: the workers know what to keep
        init = self.ve.initial()
        owner = owners(hash_keys(init), self.workers)
        self.pool.ask("start", [(take(init, owner == w),) for w in range(self.workers)])
        return Frontier(len(init), [np.flatnonzero(owner == w) for w in range(self.workers)], init)

    def size(self, level: Frontier) -> int:
        return level.size

    def events(self, level: Frontier, open_: set[str]) -> dict[str, int]:
        return self.ve.events(level.keys, open_)

    def expand(self, level: Frontier, lo: int, hi: int, at_limit: bool,
               open_: set[str]) -> Expansion:
        reports = self.pool.ask("expand", [(r, level.size, at_limit, sorted(open_)) for r in level.ranks])
        clock = time.perf_counter()
        disc = np.sort(np.concatenate([r["disc"] for r in reports]), kind="stable")
        ranks = [np.searchsorted(disc, r["disc"]) for r in reports]
        keys = None
        if self.keep_levels:
            keys = self.ve.layout.empty(len(disc))
            for r, rank in zip(reports, ranks):
                rows(keys)[rank] = rows(r["keys"])
        events: dict[str, int] = {}
        for r in reports:
            for name, d in r["events"].items():
                events[name] = min(d, events.get(name, d))
        self.phases["merge"] += time.perf_counter() - clock

        def recount(p_stop: int, cut_disc: int | None) -> tuple[int, np.ndarray]:
            cut = self.pool.ask("cut", [(p_stop, cut_disc)] * self.workers)
            return sum(t for t, _ in cut), sum(c for _, c in cut)
        return Expansion(Frontier(len(disc), ranks, keys), disc,
                         {name: int(np.searchsorted(disc, d)) for name, d in events.items()},
                         sorted(x for r in reports for x in r["dead"]),
                         sum(r["transitions"] for r in reports), sum(r["counts"] for r in reports),
                         recount, any(r["grew"] for r in reports))

    def head(self, level: Frontier, n: int) -> Frontier:
        return Frontier(n, [r[r < n] for r in level.ranks],
                        level.keys[:n] if level.keys is not None else None)

    def join(self, parts: Sequence[Frontier]) -> Frontier:
        if len(parts) > 1:
            raise CheckerBug("the parallel engine expands a level in one part")
        return parts[0] if parts else Frontier(0, [np.zeros(0, np.int64)] * self.workers)

    def unpack(self, level: Frontier) -> list[State]:
        return self.ve.unpack(level.keys)

    def replay(self, first: int, instances: Sequence[int]) -> tuple[State, list[Step]]:
        return self.ve.replay(first, instances)

    def close(self) -> dict:
        summaries = self.pool.close()
        self.release()
        for s in summaries:
            for phase, seconds in s["phases"].items():
                self.phases[phase] += seconds
        return {"phases": self.phases, "set_bytes": sum(s["set_bytes"] for s in summaries),
                "rss": sum(s["rss"] for s in summaries)}

    def release(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool = None


class Pool:
    """The worker processes: a connection each to the parent (commands and reports), and a
    raw pipe per ordered pair of workers (candidates, as bytes)."""

    def __init__(self, engine: ParallelEngine, n: int):
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
            proc = ctx.Process(target=_serve, args=(engine, w, n, conn, outs, ins, drop),
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


def _serve(engine: ParallelEngine, w: int, n: int, conn: Connection, outs: dict, ins: dict,
           drop: tuple[list[Connection], list[int]]) -> None:
    """A worker process's main loop: run the parent's commands until ``stop``. ``outs`` and
    ``ins`` are the pipes to and from the other workers; ``drop`` the ends it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the search ends
    for c in drop[0]:
        c.close()
    for fd in drop[1]:
        os.close(fd)
    worker = Worker(engine, w, n, outs, ins)
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
    """One worker's findings on one level."""

    disc: list = field(default_factory=list)
    keys: list = field(default_factory=list)
    events: dict = field(default_factory=dict)
    dead: list = field(default_factory=list)
    counts: np.ndarray | None = None
    transitions: int = 0
    grew: bool = False


class Worker:
    """One worker's share: the states it owns, its part of the frontier, its phase clock."""

    def __init__(self, engine: ParallelEngine, index: int, count: int, outs: dict, ins: dict):
        self.engine, self.e = engine, engine.ve
        self.n_inst, self.layout = self.e.vm.n_inst, self.e.layout
        self.index, self.count = index, count
        self.outs, self.ins = outs, ins
        self.seen = StateSet(self.layout.nwords)
        self.keys, self.gpos = self.layout.empty(), np.zeros(0, np.int64)
        self.next_keys = self.layout.empty()
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

    def expand(self, gpos: np.ndarray, size: int, at_limit: bool, open_: list[str]) -> dict:
        """Expand this worker's new states of the last level, at level positions ``gpos`` (a
        level of ``size`` states); its new states of the next level and its findings."""
        self.keys, self.gpos = self.next_keys, gpos
        report = Report(counts=np.zeros(self.n_inst, np.int64))
        open_ = set(open_)
        step = self.e.chunk * self.count
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
            for name, i in self.e.events(nk, open_).items():  # the first round finding it
                report.events[name] = int(nd[i])
                open_.discard(name)
            report.keys.append(nk)
            report.disc.append(nd)
            self._tick("properties", clock)
        self.next_keys = np.concatenate(report.keys) if report.keys else self.layout.empty()
        disc = np.concatenate(report.disc) if report.disc else np.zeros(0, np.int64)
        return {"disc": disc, "keys": self.next_keys if self.engine.keep_levels else None,
                "events": report.events, "dead": report.dead, "counts": report.counts,
                "transitions": report.transitions, "grew": report.grew}

    def cut(self, p_stop: int, cut_disc: int | None) -> tuple[int, np.ndarray]:
        """Transitions from the frontier's parents up to ``p_stop``, and steps per instance
        up to discovery ``cut_disc`` (or of those parents)."""
        n, chunk = self.n_inst, self.e.chunk
        hi = int(np.searchsorted(self.gpos, p_stop, side="right"))
        transitions, counts = 0, np.zeros(n, np.int64)
        for lo in range(0, hi, chunk):
            succ, parent, inst, _, _ = self.e.vm.expand(self.keys[lo:min(lo + chunk, hi)])
            transitions += len(succ)
            if cut_disc is not None:
                inst = inst[self.gpos[lo + parent] * n + inst <= cut_disc]
            counts += np.bincount(inst, minlength=n)
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
            return self.layout.empty(), np.zeros(0, np.int64), np.zeros(0, np.uint64)
        clock = time.perf_counter()
        succ, parent, inst, counts, dead = e.candidates(keys)
        report.dead += [(int(gpos[r]), kind) for r, kind in dead]
        report.counts += counts
        report.transitions += len(succ)
        disc = gpos[parent] * self.n_inst + inst
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
