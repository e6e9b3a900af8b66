"""Text rendering of results for the terminal: verdict tables, statistics, traces."""
from __future__ import annotations

from tabulate import tabulate

from .result import CheckResult, Verdict
from .trace import format_trace

_COLOURS = {"title": "1", "action": "1;36", "old": "2", "new": "33", "bad": "1;31",
            "good": "32", "warn": "33"}


def styler(colour: bool):
    """A ``style(text, role)`` function: ANSI colours when ``colour``, identity otherwise."""
    if not colour:
        return lambda text, role: text
    return lambda text, role: f"\x1b[{_COLOURS[role]}m{text}\x1b[0m" if role in _COLOURS else text


def verdict_role(v: Verdict) -> str:
    """The colour role of a verdict."""
    return "good" if v.ok else "bad" if v.failed else "warn"


def header(result: CheckResult) -> str:
    """One line naming what was checked."""
    consts = " ".join(f"{k}={v}" for k, v in result.constants.items())
    variants = ", ".join(result.variants) or "none"
    return (f"model {result.model}, configuration {result.config or '-'}"
            + (f" ({consts})" if consts else "") + f", variants: {variants}")


def property_table(result: CheckResult, style) -> str:
    """Verdict per property, with trace length and a note."""
    rows = []
    for p in result.properties:
        length = len(p.trace) if p.trace is not None else ""
        rows.append([p.name, p.kind, style(p.verdict.value, verdict_role(p.verdict)), length,
                     p.note])
    return tabulate(rows, headers=["property", "kind", "verdict", "trace", "note"])


def stats_table(result: CheckResult) -> str:
    """Distinct states, transitions, depth, classification of dead ends, speed, memory."""
    s = result.stats
    rows = [["distinct states", f"{s.states:,}"], ["transitions", f"{s.transitions:,}"],
            ["BFS depth", s.depth],
            ["terminal states", f"{s.terminal_states:,}"],
            ["at-bound states", f"{s.at_bound_states:,}"],
            ["deadlock states", f"{s.deadlock_states:,}"],
            ["search", "complete" if s.complete else f"INCOMPLETE ({s.stopped_by})"],
            ["engine", s.engine],
            ["time", f"{s.seconds:.2f} s"], ["states/s", f"{s.states_per_second:,.0f}"],
            ["peak memory", f"{s.peak_rss_bytes / 2**20:,.0f} MiB"]]
    return tabulate(rows, tablefmt="plain")


def coverage_table(result: CheckResult, style) -> str:
    """How often each action fired; actions that never fired are flagged."""
    rows = [[name, f"{n:,}", style("NEVER FIRED", "warn") if n == 0 else ""]
            for name, n in result.stats.action_counts.items()]
    return tabulate(rows, headers=["action", "fired", ""], colalign=("left", "right", "left"))


def render(result: CheckResult, *, colour: bool = False, witnesses: bool = False) -> str:
    """The full text report of one check."""
    style = styler(colour)
    parts = [style(header(result), "title"), "", property_table(result, style), "",
             stats_table(result), "", coverage_table(result, style)]
    shown: set[tuple] = set()
    for p in result.properties:
        if p.trace is None or (p.trace.kind == "witness" and not witnesses):
            continue
        key = (p.trace.kind, p.trace.final, len(p.trace))
        if key in shown:  # one path reaches a state that breaks several properties
            continue
        shown.add(key)
        parts += ["", format_trace(p.trace, style=style)]
    outcome = result.outcome
    parts += ["", style(f"Result: {outcome.value}", verdict_role(outcome))]
    return "\n".join(parts)
