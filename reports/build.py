"""Collect what a report shows: every CI run of the KSE models, measured now.

A report covers the KSE families of :func:`model.registry.catalogue` (the
example systems are left out). It explores every configuration of tier
``ci`` completely, runs every variant on each ``ci`` configuration of its
``check_on`` list exactly as ``ksecheck regress`` does (so the numbers are
those of ``model/pinned.json``), and quotes the pinned numbers of the
``slow`` configurations instead of running them. The runs are independent,
so :func:`collect` spreads them over worker processes; each worker returns
plain JSON-ready data, and every trace is replayed through the model again
when it is read back here.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from ksecheck.checker.core.catalogue import Catalogue, Config, Family, Variant
from ksecheck.checker.core.contract import Model
from ksecheck.checker.errors import CheckerBug, UsageError
from ksecheck.checker.explicit.graph import reachable
from ksecheck.checker.explicit.options import Options
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.jsonout import result_json
from ksecheck.checker.regress import load, variant_stop
from ksecheck.checker.results.result import DEADLOCK, PropertyResult, Result, Stats, Verdict
from ksecheck.checker.results.trace import Trace, from_json

from ksecheck.reports import graph

STATE_GRAPH = ("tiny", "no_wake_parked", "deadlock_free")
"""The configuration whose whole state graph is drawn, the variant it runs, and the
counterexample highlighted on it: the parked UTS that is never woken, an 11-step
path to a deadlock that the correct model (whose graph has no dead end) avoids."""

DEADLOCK_DOC = "some step is enabled in every state that is neither terminal nor at a bound"


@dataclass(frozen=True)
class Job:
    """One unit of work for a worker process."""

    family: str
    config: str
    variant: str = ""
    kind: str = "check"  # "check": explore and check; "graph": keep the whole state graph

    @property
    def key(self) -> str:
        """``config`` or ``config+variant``, as in the pinned file."""
        return f"{self.config}+{self.variant}" if self.variant else self.config


@dataclass
class ConfigRun:
    """A configuration of the correct model, explored completely."""

    family: Family
    config: Config
    result: Result
    levels: list[int]


@dataclass
class VariantRun:
    """A variant on one configuration: measured now (tier ci) or quoted from the pinned file."""

    family: Family
    variant: Variant
    config: Config
    result: Result | None = None
    pinned: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """``config+variant``."""
        return f"{self.config.name}+{self.variant.name}"

    def outcomes(self) -> list[tuple[str, str, int | None]]:
        """``(property, verdict, trace length)`` of every property the variant must break."""
        out = []
        for name in self.variant.violates:
            if self.result is not None:
                p = self.result.get(name)
                out.append((name, p.verdict.value, len(p.trace) if p.trace is not None else None))
            elif self.pinned is not None:
                out.append((name, self.pinned["verdicts"].get(name, "?"),
                            self.pinned.get("lengths", {}).get(name)))
        return out


@dataclass
class StateGraph:
    """The whole state graph of one small configuration with a variant, and its path."""

    config: Config
    variant: Variant
    model: Model
    graph: Any  # networkx.MultiDiGraph
    path: list[int]
    goal: str
    trace: Trace | None
    extra: set[int] = field(default_factory=set)
    """States that the correct model does not reach."""


@dataclass
class Report:
    """Everything a report shows."""

    families: list[Family]
    configs: list[ConfigRun]
    slow: list[tuple[Family, Config, dict[str, Any] | None]]
    variants: list[VariantRun]
    state_graph: StateGraph
    timings: bool = False


def kse_families(cat: Catalogue) -> list[Family]:
    """The families a report covers: all but the example systems."""
    from ksecheck.model.examples import FAMILIES
    return [f for f in cat.families.values() if f not in FAMILIES]


def jobs(cat: Catalogue) -> list[Job]:
    """Every run a report makes, configurations first, then variants, then the state graph."""
    out = []
    fams = kse_families(cat)
    for fam in fams:
        out += [Job(fam.name, c.name) for c in fam.configs if c.tier == "ci"]
    for fam in fams:
        for v in fam.variants:
            out += [Job(fam.name, c, v.name) for c in v.check_on if fam.config(c).tier == "ci"]
    config, variant, _ = STATE_GRAPH
    fam, _ = cat.resolve(None, config)
    out += [Job(fam.name, config, variant, "graph"), Job(fam.name, config, "", "graph")]
    return out


def work(job: Job) -> dict[str, Any]:
    """Run one job; plain data only, so that it can come back from a worker process."""
    from ksecheck.registry import catalogue
    fam = catalogue().family(job.family)
    cfg = fam.config(job.config)
    variants = [job.variant] if job.variant else []
    model = fam.instantiate(cfg, variants)
    if job.kind == "graph":
        return reachable(model)
    if not job.variant:
        result = explore(model)
        return {"result": result_json(result), "levels": result.stats.levels}
    stop = variant_stop(model, fam.variant(job.variant).violates)
    return {"result": result_json(explore(model, Options(stop_when=stop)))}


PR_SET_PDEATHSIG = 1
"""Linux's prctl option: the signal a process gets when its parent ends."""


def run_jobs(todo: list[Job], workers: int) -> list[dict[str, Any]]:
    """The outputs of ``todo``, in order; in worker processes when ``workers`` > 1.

    However this ends (an error, an interrupt, SIGTERM raised as an exception), no
    worker outlives it; were the parent killed outright, its workers die with it.
    """
    if workers <= 1:
        return [work(j) for j in todo]
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), initializer=_worker_start,
                               initargs=(os.getpid(),))
    try:
        outputs = list(pool.map(work, todo))
    except BrokenProcessPool:
        _stop(pool, before)
        raise CheckerBug("a report worker process died (killed, or out of memory?)") from None
    except BaseException:
        _stop(pool, before)
        raise
    pool.shutdown()
    return outputs


def _stop(pool: ProcessPoolExecutor, before: set) -> None:
    """End ``pool`` now: its queued jobs dropped, its workers (the children not in
    ``before``) ended without waiting for their jobs."""
    pool.shutdown(wait=False, cancel_futures=True)
    for child in set(multiprocessing.active_children()) - before:
        child.kill()
        child.join()


def _worker_start(parent: int) -> None:
    """A pool worker's start: it dies with its parent (Linux), leaves interrupts to it, and
    ends on SIGTERM (not with the parent's handler, which it inherits)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before the death signal was set
        os._exit(1)


def result_from_json(model: Model, data: dict[str, Any]) -> Result:
    """A :class:`Result` from its ``ksecheck-result/1`` form; every trace is replayed."""
    s = data["statistics"]
    stats = Stats(states=s["states"], transitions=s["transitions"], depth=s["depth"],
                  action_counts=dict(data["coverage"]["fired"]), seconds=s.get("seconds", 0.0),
                  peak_rss_bytes=s.get("peak_rss_bytes", 0), terminal_states=s["terminal_states"],
                  at_bound_states=s["at_bound_states"], deadlock_states=s["deadlock_states"],
                  complete=s["complete"], stopped_by=s["stopped_by"] or "", engine=s["engine"])
    docs = {p.name: p.doc for p in model.properties} | {DEADLOCK: DEADLOCK_DOC}
    props = [PropertyResult(p["name"], p["kind"], Verdict(p["verdict"]), p["source"],
                            docs.get(p["name"], ""),
                            from_json(model, p["trace"]) if p["trace"] is not None else None,
                            p["note"] or "")
             for p in data["properties"]]
    return Result(model=data["model"], config=data["config"], variants=tuple(data["variants"]),
                  constants=dict(data["constants"]), properties=props, stats=stats)


def collect(cat: Catalogue, pinned_path, *, workers: int | None = None,
            timings: bool = False) -> Report:
    """Run every job of :func:`jobs` and assemble the :class:`Report`."""
    pinned = load(pinned_path)
    todo = jobs(cat)
    if workers is None:
        workers = os.cpu_count() or 1
    # the big runs first, so that the workers finish together
    order = sorted(range(len(todo)), key=lambda i: -(pinned.get(todo[i].key, {}).get("states") or 0))
    outputs = dict(zip(order, run_jobs([todo[i] for i in order], workers)))
    done = {(j.key, j.kind): outputs[i] for i, j in enumerate(todo)}

    fams = kse_families(cat)
    configs, slow, variants = [], [], []
    for fam in fams:
        for cfg in fam.configs:
            if cfg.tier == "ci":
                out = done[(cfg.name, "check")]
                model = fam.instantiate(cfg)
                configs.append(ConfigRun(fam, cfg, result_from_json(model, out["result"]),
                                         out["levels"]))
            elif cfg.tier == "slow":
                slow.append((fam, cfg, pinned.get(cfg.name)))
    for fam in fams:
        for v in fam.variants:
            for name in v.check_on:
                cfg = fam.config(name)
                run = VariantRun(fam, v, cfg)
                if cfg.tier == "ci":
                    model = fam.instantiate(cfg, [v.name])
                    run.result = result_from_json(model, done[(f"{name}+{v.name}", "check")]["result"])
                else:
                    run.pinned = pinned.get(run.key)
                variants.append(run)
    return Report(fams, configs, slow, variants, _state_graph(cat, done, variants), timings)


def _state_graph(cat: Catalogue, done, variants: list[VariantRun]) -> StateGraph:
    config, variant, goal = STATE_GRAPH
    fam, cfg = cat.resolve(None, config)
    model = fam.instantiate(cfg, [variant])
    g = graph.state_graph(done[(f"{config}+{variant}", "graph")], list(model.initial_states))
    correct = set(done[(config, "graph")]["states"])
    extra = {n for n, d in g.nodes(data=True) if d["state"] not in correct}
    run = next((r for r in variants if r.key == f"{config}+{variant}"), None)
    if run is None or run.result is None:
        raise UsageError(f"reports.build.STATE_GRAPH names {config}+{variant}, which is not a ci run "
                         f"of the catalogue: add {config} to the variant's check_on or pick another")
    trace = run.result.get(goal).trace
    path = graph.path_nodes(g, trace.states) if trace is not None else []
    return StateGraph(cfg, fam.variant(variant), model, g, path, goal, trace, extra)
