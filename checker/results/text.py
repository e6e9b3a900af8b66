"""Results as text for the terminal: one renderer for every command.

:func:`render` prints any :class:`~checker.results.result.Result`: what was
checked, a verdict per property, then the search's statistics and coverage
or the solver's queries, every counterexample (:func:`trace_table`, or the
numbered :func:`format_trace`) and counterexample to induction
(:func:`format_cti`), and the overall result.
"""
from __future__ import annotations

from tabulate import tabulate

from ..core.contract import Model
from ..core.schema import State
from .result import SEARCH, Cti, Result, Verdict
from .trace import Trace

_COLOURS = {"title": "1", "action": "1;36", "old": "2", "new": "33", "bad": "1;31",
            "good": "32", "warn": "33"}


def styler(colour: bool):
    """A ``style(text, role)`` function: ANSI colours when ``colour``, identity otherwise."""
    if not colour:
        return lambda text, role: text
    return lambda text, role: f"\x1b[{_COLOURS[role]}m{text}\x1b[0m" if role in _COLOURS else text


def printable(text: str) -> str:
    """``text`` safe for a terminal: control and other unprintable characters escaped
    (``\\x1b``, ``\\n``), so that a name read from a file cannot steer the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def verdict_role(v: Verdict) -> str:
    """The colour role of a verdict."""
    return "good" if v.ok else "bad" if v.failed else "warn"


def header(result: Result) -> str:
    """One line naming what was checked."""
    consts = " ".join(f"{k}={v}" for k, v in result.constants.items())
    variants = ", ".join(result.variants) or "none"
    return (f"model {result.model}, configuration {result.config or '-'}"
            + (f" ({consts})" if consts else "") + f", variants: {variants}")


def mode_line(result: Result) -> str:
    """The symbolic engine that ran, and its bound."""
    bound = f" (bound {result.bound})" if result.bound is not None else ""
    sizes = (" (structures up to " + ", ".join(f"{n} {s}" for s, n in result.sizes.items()) + ")"
             if result.sizes else "")
    return f"mode: {result.mode}{bound}{sizes}"


def property_table(result: Result, style, query_times: bool = True) -> str:
    """Verdict per property, with trace length and a note; for proofs by induction, the
    queries held."""
    rows, proof = [], result.mode not in (SEARCH, "bmc", "pdr")
    for p in result.properties:
        name = p.name + (" (lemma)" if p.lemma else "")
        row = [name, p.kind, style(p.verdict.value, verdict_role(p.verdict)),
               len(p.trace) if p.trace is not None else ""]
        if proof:
            held = sum(q.verdict is Verdict.HOLDS for q in p.queries)
            row.append(f"{held}/{len(p.queries)}" if p.queries else "")
            if query_times:
                row.append(f"{p.seconds:.2f}" if p.queries else "")
        rows.append(row + [p.note])
    headers = ["property", "kind", "verdict", "trace"]
    if proof:
        headers += ["queries held"] + (["seconds"] if query_times else [])
    return tabulate(rows, headers=headers + ["note"], disable_numparse=True)


def stats_table(result: Result) -> str:
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


def coverage_table(result: Result, style) -> str:
    """How often each action fired; actions that never fired are flagged."""
    rows = [[name, f"{n:,}", style("NEVER FIRED", "warn") if n == 0 else ""]
            for name, n in result.stats.action_counts.items()]
    return tabulate(rows, headers=["action", "fired", ""], colalign=("left", "right", "left"))


def format_state(model: Model, state: State) -> list[str]:
    """The state as lines, one per entity (``t1: loc=USER upcall=u0 ...``)."""
    return _entries(model.schema.readable(state))


def format_trace(trace: Trace, *, style=lambda text, role: text) -> str:
    """Numbered steps, each with only the variables it changed, aligned.

    ``style(text, role)`` may colour parts; roles are ``title``, ``action``,
    ``old``, ``new`` and ``bad``.
    """
    model, schema = trace.model, trace.model.schema
    lines = [style(_title(trace), "title"), "  initial state:"]
    lines += [f"    {line}" for line in format_state(model, trace.initial)]
    prev = trace.initial
    width = max((len(n) for n in schema.slot_names), default=0)
    for n, step in enumerate(trace.steps, 1):
        if trace.loop is not None and n == trace.loop + 1:
            lines.append("  " + style("-- loop: from here the steps repeat forever --", "bad"))
        doc = step.instance.action.doc
        lines.append(f"  {n:>3}. " + style(step.label, "action")
                     + ("  " + style(f"({doc})", "old") if doc else ""))
        for name, old, new in schema.diff(prev, step.state):
            lines.append(f"         {name:<{width}}  {style(old, 'old')} -> {style(new, 'new')}")
        prev = step.state
    if trace.loop is not None:
        back = f"back to the state after step {trace.loop}" if trace.loop else "back to the initial state"
        if trace.loop == len(trace.steps):
            back = "no step is enabled: it stays here forever"
        lines.append("  " + style(f"-- {back}; {printable(trace.goal)} never happens", "bad"))
        if trace.note:
            lines.append("  " + printable(trace.note))
    elif trace.kind == "counterexample":
        broken = trace.broken_at_end() or [printable(trace.goal)]
        lines.append("  " + style("violated in the final state: " + ", ".join(broken), "bad"))
    return "\n".join(lines)


def _title(trace: Trace) -> str:
    what = "Counterexample to" if trace.kind == "counterexample" else "Witness for"
    return f"{what} {printable(trace.goal)} ({len(trace)} steps)"


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
        return (f"{back}; {printable(trace.goal)} never happens"
                + (f" ({printable(trace.note)})" if trace.note else ""))
    if trace.kind == "counterexample":
        return "violated in the final state: " + ", ".join(trace.broken_at_end()
                                                           or [printable(trace.goal)])
    return f"{printable(trace.goal)} holds in the final state"


def trace_table(trace: Trace, style=lambda text, role: text) -> str:
    """The trace as a table: each step's action, then each variable it changed, before and after.

    ``style(text, role)`` may colour parts (roles ``title``, ``action``, ``old``,
    ``new``, ``bad``, ``good``).
    """
    lines = [style(_title(trace), "title"), "  initial state:"]
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


def render(result: Result, *, colour: bool = False, witnesses: bool = False,
           query_times: bool = True) -> str:
    """The full text report of one run: a search (``ksecheck check``) or a proof (``prove``).

    ``witnesses`` also prints the witness of every reached goal; without
    ``query_times`` the report leaves solver times out (for golden files).
    """
    style = styler(colour)
    parts = [style(header(result), "title")]
    if result.mode != SEARCH:
        parts.append(mode_line(result))
    parts += ["", property_table(result, style, query_times)]
    if result.stats is not None:
        parts += ["", stats_table(result), "", coverage_table(result, style)]
    if result.queries:
        parts += query_summary(result, query_times)
    if result.notes:
        parts += ["", *result.notes]
    shown: set[tuple] = set()
    for p in result.properties:
        if p.trace is None or (p.trace.kind == "witness" and not witnesses):
            continue
        key = (p.trace.kind, p.trace.final, len(p.trace))
        if key in shown:  # one path reaches a state that breaks several properties
            continue
        shown.add(key)
        parts += ["", trace_table(p.trace, style) if result.mode == SEARCH else format_trace(p.trace)]
    for cti in result.ctis:
        parts += ["", format_cti(cti)]
    outcome = result.outcome
    unchecked = [p.name for p in result.properties if p.verdict is Verdict.NOT_CHECKED]
    suffix = f" ({len(unchecked)} not checked: {', '.join(unchecked)})" if unchecked else ""
    parts += ["", style(f"Result: {outcome.value}{suffix}", verdict_role(outcome))]
    return "\n".join(parts)


def query_summary(result: Result, query_times: bool = True) -> list[str]:
    """The queries that did not hold (for induction and proofs), and where the time went."""
    out = []
    open_q = [q for q in result.queries if q.verdict is not Verdict.HOLDS]
    if result.mode not in ("bmc", "pdr") and open_q:
        rows = [[q.name, _answer(q)] + ([f"{q.seconds:.2f}"] if query_times else []) + [q.note]
                for q in open_q]
        out += ["", tabulate(rows, headers=["query", "answer"] + (["seconds"] if query_times else [])
                             + ["note"], disable_numparse=True)]
    counted = "frames (each a batch of one-step queries)" if result.mode == "pdr" else "solver queries"
    line = f"{len(result.queries)} {counted}"
    if query_times:
        slowest = sorted(result.queries, key=lambda q: -q.seconds)[:5]
        line += (f", {result.seconds:.2f} s in the solver; slowest: "
                 + ", ".join(f"{q.name} {q.seconds:.2f} s" for q in slowest))
    return out + ["", line]


def _answer(q) -> str:
    if q.cti is None:
        return q.verdict.value
    return "FAILS" if q.cti.error else "CTI" if q.cti.steps else "VIOLATED"


def _entries(readable: dict[str, str | list[str]]) -> list[str]:
    """A readable state as lines: slots grouped by entity (``t1: loc=USER ...``), or one line
    per relation or function with its true atoms."""
    groups: dict[str, list[str]] = {}
    for name, value in readable.items():
        if isinstance(value, list):
            groups[name] = [", ".join(value) or "(empty)"]
        else:
            entity, _, var = name.rpartition(".")
            groups.setdefault(entity, []).append(f"{var}={value}")
    return [f"{entity or 'global'}: " + " ".join(vals) for entity, vals in groups.items()]


def _changes(before: dict, after: dict, width: int) -> list[str]:
    """What changed between two readable states: ``name old -> new``, or for a set of atoms
    ``name: -gone, +new``."""
    out = []
    for name, old in before.items():
        new = after[name]
        if isinstance(old, list):
            moved = [f"-{a}" for a in old if a not in new] + [f"+{a}" for a in new if a not in old]
            if moved:
                out.append(f"         {name}: {', '.join(moved)}")
        elif old != new:
            out.append(f"         {name:<{width}}  {old} -> {new}")
    return out


def format_cti(cti: Cti) -> str:
    """A CTI as its first state in full, then each step with only what it changed."""
    if not cti.steps:
        head = f"An initial state breaks {cti.goal} ({cti.query}):"
        return "\n".join([head] + [f"  {line}" for line in cti.context]
                         + [f"    {line}" for line in _entries(cti.readable[-1])])
    if cti.error:
        lines = [f"Contract violation ({cti.query}): in a state satisfying every invariant and "
                 f"lemma, {cti.labels[-1]} raises: {cti.error}", "  state:"]
        return "\n".join(lines + [f"    {line}" for line in _entries(cti.readable[-1])])
    lines = [f"Counterexample to induction of {cti.goal} ({cti.query}):"]
    lines += [f"  {line}" for line in cti.context]
    lines.append("  a state satisfying every invariant and lemma:")
    lines += [f"    {line}" for line in _entries(cti.readable[0])]
    width = max((len(n) for n in cti.readable[0]), default=0)
    for n, (label, before, after) in enumerate(zip(cti.labels, cti.readable, cti.readable[1:]), 1):
        lines.append(f"  {n:>3}. {label}")
        lines += _changes(before, after, width)
    lines.append("  broken after the step: " + ", ".join(cti.broken or [cti.goal]))
    return "\n".join(lines)
