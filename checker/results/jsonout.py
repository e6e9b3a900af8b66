"""The stable JSON form of a check result (schema ``ksecheck-result/1``)."""
from __future__ import annotations

from typing import Any

from .result import CheckResult
from .trace import to_json

SCHEMA = "ksecheck-result/1"


def result_json(result: CheckResult, *, timings: bool = True) -> dict[str, Any]:
    """Verdicts, statistics, coverage and traces; ``timings=False`` drops times and memory."""
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
        "properties": [{
            "name": p.name, "kind": p.kind, "verdict": p.verdict.value,
            "source": p.source, "note": p.note or None,
            "trace_length": len(p.trace) if p.trace is not None else None,
            "trace": to_json(p.trace) if p.trace is not None else None,
        } for p in result.properties],
        "statistics": stats,
        "coverage": {"fired": s.action_counts, "never_fired": s.unfired},
    }
