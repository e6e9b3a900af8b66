"""Text rendering of results for the terminal: verdict tables, statistics, traces."""
from __future__ import annotations

from tabulate import tabulate

from .result import CheckResult, Verdict
from .trace import Trace, format_state

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


def trace_rows(trace: Trace) -> list[tuple[str, str, str, str, str, str]]:
    """``(step, action, what it does, variable, before, after)``: one row per changed variable.

    The step's number, action and description fill only its first row; a step
    that changes nothing has one row with an empty variable.
    """
    rows = []
    prev = trace.initial
    for n, step in enumerate(trace.steps, 1):
        diff = trace.model.schema.diff(prev, step.state) or [("", "", "")]
        for k, (name, old, new) in enumerate(diff):
            first = k == 0
            rows.append((str(n) if first else "", step.label if first else "",
                         step.instance.action.doc if first else "", name, old, new))
        prev = step.state
    return rows


def trace_ending(trace: Trace) -> str:
    """What the trace ends in: the properties broken in its last state, or its loop."""
    if trace.loop is not None:
        if trace.loop == len(trace.steps):
            back = f"no step is enabled after step {trace.loop}: it stays there forever"
        elif trace.loop:
            back = f"steps {trace.loop + 1}-{len(trace.steps)} repeat forever"
        else:
            back = "the whole trace repeats forever"
        return f"{back}; {trace.goal} never happens" + (f" ({trace.note})" if trace.note else "")
    if trace.kind == "counterexample":
        return "violated in the final state: " + ", ".join(trace.broken_at_end() or [trace.goal])
    return f"{trace.goal} holds in the final state"


def trace_table(trace: Trace, style=lambda text, role: text) -> str:
    """The trace as a table: each step's action, then each variable it changed, before and after.

    ``style(text, role)`` may colour parts (roles ``title``, ``action``, ``old``,
    ``new``, ``bad``, ``good``).
    """
    what = "Counterexample to" if trace.kind == "counterexample" else "Witness for"
    lines = [style(f"{what} {trace.goal} ({len(trace)} steps)", "title"), "  initial state:"]
    lines += [f"    {line}" for line in format_state(trace.model, trace.initial)]
    rows = []
    for n, label, doc, name, old, new in trace_rows(trace):
        if n and trace.loop is not None and int(n) == trace.loop + 1:
            rows.append(["", style("-- loop: from here the steps repeat forever --", "bad"),
                         "", "", "", ""])
        rows.append([n, style(label, "action") if label else "", name,
                     style(old, "old") if old else "", style(new, "new") if new else "",
                     style(doc, "old") if doc else ""])
    table = tabulate(rows, headers=["#", "step", "variable", "before", "after", "what the step does"],
                     colalign=("right", "left", "left", "left", "left", "left"),
                     disable_numparse=True)
    lines += ["  " + line for line in table.splitlines()]
    role = "bad" if trace.kind == "counterexample" else "good"
    lines.append("  " + style(trace_ending(trace), role))
    return "\n".join(lines)


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
        parts += ["", trace_table(p.trace, style)]
    outcome = result.outcome
    unchecked = [p.name for p in result.properties if p.verdict is Verdict.NOT_CHECKED]
    suffix = f" ({len(unchecked)} not checked: {', '.join(unchecked)})" if unchecked else ""
    parts += ["", style(f"Result: {outcome.value}{suffix}", verdict_role(outcome))]
    return "\n".join(parts)
