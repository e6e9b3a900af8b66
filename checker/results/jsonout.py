"""Results as stable JSON: ``ksecheck-result/1`` for searches, ``ksecheck-proof/1`` for proofs.

Both are described in ``docs/json-schema.md``; one function, :func:`result_json`,
writes either from a :class:`~checker.results.result.Result`.
"""
from __future__ import annotations

from typing import Any

from .result import SEARCH, Cti, Result
from .trace import to_json

SCHEMA = "ksecheck-result/1"
PROOF_SCHEMA = "ksecheck-proof/1"


def result_json(result: Result, *, timings: bool = True) -> dict[str, Any]:
    """The result as JSON-ready data; ``timings=False`` drops times and memory."""
    return _search(result, timings) if result.mode == SEARCH else _proof(result, timings)


def _trace(p) -> dict[str, Any]:
    return {"trace_length": len(p.trace) if p.trace is not None else None,
            "trace": to_json(p.trace) if p.trace is not None else None}


def _search(result: Result, timings: bool) -> dict[str, Any]:
    s = result.stats
    stats: dict[str, Any] = {
        "states": s.states, "transitions": s.transitions, "depth": s.depth,
        "terminal_states": s.terminal_states, "at_bound_states": s.at_bound_states,
        "deadlock_states": s.deadlock_states, "complete": s.complete,
        "stopped_by": s.stopped_by or None, "engine": s.engine, "workers": s.workers,
    }
    if timings:
        stats.update(seconds=round(s.seconds, 3), states_per_second=round(s.states_per_second),
                     peak_rss_bytes=s.peak_rss_bytes)
    return {
        "schema": SCHEMA,
        "model": result.model,
        "config": result.config,
        "variants": list(result.variants),
        "constants": result.constants,
        "outcome": result.outcome.value,
        "properties": [{"name": p.name, "kind": p.kind, "verdict": p.verdict.value,
                        "source": p.source, "note": p.note or None, **_trace(p)}
                       for p in result.properties],
        "statistics": stats,
        "coverage": {"fired": s.action_counts, "never_fired": s.unfired},
    }


def _proof(result: Result, timings: bool) -> dict[str, Any]:
    out = {
        "schema": PROOF_SCHEMA, "model": result.model, "config": result.config or None,
        "variants": list(result.variants), "constants": result.constants,
        "mode": result.mode, "bound": result.bound, "outcome": result.outcome.value,
        "goals": [{"name": g.name, "kind": g.kind, "lemma": g.lemma, "verdict": g.verdict.value,
                   "source": g.source, "note": g.note or None, **_trace(g)}
                  for g in result.properties],
        "queries": [{"name": q.name, "verdict": q.verdict.value, "note": q.note or None,
                     **({"seconds": round(q.seconds, 4)} if timings else {}),
                     "cti": cti_json(q.cti) if q.cti is not None else None}
                    for q in result.queries],
    }
    if result.sizes:
        out["sizes"] = dict(result.sizes)
    if result.notes:
        out["notes"] = list(result.notes)
    return out


def cti_json(cti: Cti) -> dict[str, Any]:
    """A CTI as its first state and each step's changes (readable values throughout)."""
    steps = [{"action": label,
              "changes": {n: v for n, v in after.items() if before.get(n) != v}}
             for label, before, after in zip(cti.labels, cti.readable, cti.readable[1:])]
    return {"goal": cti.goal, "broken": cti.broken, "error": cti.error or None,
            "instance": cti.labels[-1] if cti.labels else None,
            "context": cti.context or None, "first": cti.readable[0], "steps": steps}
