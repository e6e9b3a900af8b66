"""Pictures as SVG text, drawn here (no Graphviz): sequence diagrams, state graphs, charts.

Every function returns a complete, deterministic SVG document (no ids, no
timestamps, coordinates rounded), so that the same model gives the same bytes
and several pictures can be inlined into one HTML page.

* :func:`sequence_diagram`: a trace as lanes (one per thread, upcall or KSE,
  one per mailbox showing where it is, one for the global variables) and
  one row per step; each step is a box on every lane it changes, with the
  changed values written small, and the violated property in red at the end.
* :func:`state_graph`: every state of a small configuration laid out by BFS
  level (y = depth, x = order of discovery within the level), edges as thin
  lines, a counterexample path thick and red.
* :func:`summary_chart`: for bigger configurations, the states per BFS level
  as bars and the per-action coverage on a log scale.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from ksecheck.checker.core.domains import Ref, Set
from ksecheck.checker.results.result import DEADLOCK
from ksecheck.checker.core.schema import Array
from ksecheck.checker.results.trace import Trace

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
CHAR = 0.6  # width of a monospace character, in ems

RED, RED_BG = "#dc2626", "#fee2e2"
INK, GREY, LIGHT = "#1e293b", "#64748b", "#e2e8f0"
LANE_COLOURS = {  # lane kind: (fill, border)
    "actor": ("#dbeafe", "#2563eb"),
    "entity": ("#dcfce7", "#16a34a"),
    "value": ("#fef3c7", "#d97706"),
    "global": ("#f1f5f9", "#64748b"),
}


def _n(x: float) -> str:
    """A coordinate as short, stable text."""
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


class Canvas:
    """An SVG document under construction."""

    def __init__(self, title: str, css_class: str):
        self.title, self.css_class = title, css_class
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def rect(self, x, y, w, h, fill, stroke="none", *, rx=0, width=1.0, extra="") -> None:
        self.add(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="{_n(rx)}" '
                 f'fill="{fill}" stroke="{stroke}" stroke-width="{_n(width)}"{extra}/>')

    def line(self, x1, y1, x2, y2, stroke, width=1.0, *, dash="", extra="") -> None:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                 f'stroke="{stroke}" stroke-width="{_n(width)}"{d}{extra}/>')

    def text(self, x, y, text, *, size=10.0, fill=INK, weight="normal", anchor="start",
             family=FONT, extra="") -> None:
        w = ' font-weight="bold"' if weight == "bold" else ""
        a = f' text-anchor="{anchor}"' if anchor != "start" else ""
        self.add(f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" font-family="{family}" '
                 f'fill="{fill}"{w}{a}{extra}>{escape(text)}</text>')

    def svg(self, width: float, height: float) -> str:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="{self.css_class}" '
                f'width="{_n(width)}" height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}">')
        return "\n".join([head, f"<title>{escape(self.title)}</title>",
                          f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
                          *self.parts, "</svg>"]) + "\n"


def _wrap(text: str, chars: int) -> list[str]:
    return textwrap.wrap(text, max(chars, 8), break_long_words=True, break_on_hyphens=False) or [""]


# ---- sequence diagrams ------------------------------------------------------

@dataclass(frozen=True)
class Lane:
    """One vertical lane: an entity (``t0``), a value that moves (``m0``), or the globals."""

    name: str
    kind: str  # actor | entity | value | global
    slots: tuple[int, ...]  # entity/global: its slots; value: the slots that may hold it
    value: int = -1         # value lanes: the value's number


def lanes(model) -> list[Lane]:
    """The lanes of a model's traces: the acting entities (threads) first, then the other
    entities, then one lane per value of a reference-only kind (mailboxes), then globals."""
    schema = model.schema
    entities: dict[str, list[int]] = {}
    prefixes: list[str] = []
    glob: list[int] = []
    for var in schema.variables:
        base = schema.offsets[var.name]
        if isinstance(var, Array):
            if var.prefix not in prefixes:
                prefixes.append(var.prefix)
            for i in range(var.length):
                entities.setdefault(f"{var.prefix}{i}", []).append(base + i)
        else:
            glob.append(base)
    actors = [a.params[0].domain.prefix for a in model.actions
              if a.params and isinstance(a.params[0].domain, Ref)]
    actor = max(sorted(set(actors)), key=actors.count) if actors else None
    out = []
    for prefix in sorted(prefixes, key=lambda p: p != actor):
        out += [Lane(name, "actor" if prefix == actor else "entity", tuple(slots))
                for name, slots in entities.items() if name.rstrip("0123456789") == prefix]
    values: dict[str, tuple[int, list[int]]] = {}
    for n, dom in enumerate(schema.slot_domains):
        if isinstance(dom, (Ref, Set)) and dom.prefix not in prefixes:
            count, holders = values.setdefault(dom.prefix, (dom.count, []))
            holders.append(n)
    for prefix, (count, holders) in values.items():
        out += [Lane(f"{prefix}{i}", "value", tuple(holders), i) for i in range(count)]
    if glob:
        out.append(Lane("global", "global", tuple(glob)))
    return out


def _places(model, lane: Lane, state) -> str:
    """Where a value lane's value is: the slots holding it, or ``nowhere``."""
    names, doms = model.schema.slot_names, model.schema.slot_domains
    held = [names[n] for n in lane.slots
            if (isinstance(doms[n], Set) and state[n] >> lane.value & 1)
            or (isinstance(doms[n], Ref) and state[n] == lane.value)]
    return ", ".join(held) or "nowhere"


def _lane_lines(model, lane: Lane, before, after) -> list[str]:
    """The changes of one step on one lane (``loc: USER → RET``), or the initial values."""
    names, doms = model.schema.slot_names, model.schema.slot_domains
    if lane.kind == "value":
        now = _places(model, lane, after)
        if before is None:
            return [f"at {now}"]
        was = _places(model, lane, before)
        return [] if was == now else [f"{was} → {now}"]
    out = []
    for n in lane.slots:
        field = names[n].split(".", 1)[1] if "." in names[n] else names[n]
        if before is None:
            out.append(f"{field} {doms[n].fmt(after[n])}")
        elif before[n] != after[n]:
            out.append(f"{field}: {doms[n].fmt(before[n])} → {doms[n].fmt(after[n])}")
    return out


def _actor(step, lane_names: list[str]) -> str | None:
    """The lane of the step's first parameter, if it names one."""
    inst = step.instance
    for p, a in zip(inst.action.params, inst.args):
        name = p.fmt(a)
        return name if name in lane_names else None
    return None


def sequence_diagram(trace: Trace, title: str, *, doc: str = "", source: str = "") -> str:
    """The trace as a sequence diagram; ``doc``/``source`` describe the violated property."""
    model = trace.model
    ls = lanes(model)
    names = [lane.name for lane in ls]
    fs, small, lh = 11.0, 9.5, 12.5
    lane_chars = 24
    lane_w = lane_chars * CHAR * small + 14
    gap = 10
    gutter_chars = max([30] + [len(s.label) + 4 for s in trace.steps])
    gutter = gutter_chars * CHAR * fs + 16
    x0 = gutter + 10
    width = x0 + len(ls) * (lane_w + gap) + 10
    cx = {lane.name: x0 + i * (lane_w + gap) + lane_w / 2 for i, lane in enumerate(ls)}

    c = Canvas(title, "ksecheck-sequence")
    y = 22.0
    c.text(12, y, title, size=13, weight="bold", family=SANS)
    y += 14

    # lane headers: name and initial values
    head = {lane.name: [line for raw in _lane_lines(model, lane, None, trace.initial)
                        for line in _wrap(raw, lane_chars)] for lane in ls}
    head_h = 22 + lh * max(len(v) for v in head.values()) + 6
    c.text(12, y + 16, "initial state", size=fs, fill=GREY, family=SANS)
    for lane in ls:
        fill, stroke = LANE_COLOURS[lane.kind]
        left = cx[lane.name] - lane_w / 2
        c.add(f'<g class="lane" data-lane={quoteattr(lane.name)} data-kind="{lane.kind}">')
        c.rect(left, y, lane_w, head_h, fill, stroke, rx=5, width=1.4)
        c.text(cx[lane.name], y + 16, lane.name, size=13, weight="bold", anchor="middle")
        for k, line in enumerate(head[lane.name]):
            c.text(left + 7, y + 32 + k * lh, line, size=small, fill=GREY)
        c.add("</g>")
    top = y + head_h
    y = top + 10

    rows = []  # (y, height) of each step, drawn after the lane lines
    body: list[str] = []
    outer = c.parts
    c.parts = body
    prev = trace.initial
    for n, step in enumerate(trace.steps, 1):
        changes = {lane.name: [line for raw in _lane_lines(model, lane, prev, step.state)
                               for line in _wrap(raw, lane_chars)] for lane in ls}
        changes = {k: v for k, v in changes.items() if v}
        what = step.instance.action.doc
        doc_lines = _wrap(what, int((gutter - 4 * CHAR * fs - 14) / (0.55 * (small - 0.5)))) if what else []
        box_h = {k: 8 + lh * len(v) for k, v in changes.items()}
        h = max([lh * (1 + len(doc_lines)) + 10] + [bh + 8 for bh in box_h.values()])
        actor = _actor(step, names)
        c.add(f'<g class="step" data-step="{n}" data-action={quoteattr(step.label)}>')
        c.line(10, y - 5, width - 10, y - 5, LIGHT, 0.8)
        c.text(12, y + 11, f"{n:>2}.", size=fs, weight="bold", fill=GREY)
        c.text(12 + 4 * CHAR * fs, y + 11, step.label, size=fs, weight="bold")
        for k, line in enumerate(doc_lines):
            c.text(12 + 4 * CHAR * fs, y + 11 + (k + 1) * lh, line, size=small - 0.5, fill=GREY,
                   family=SANS)
        touched = sorted(set(changes) | ({actor} if actor else set()), key=names.index)
        mid = y + 10
        if len(touched) > 1:  # the step's connector, from its actor to every lane it changes
            c.line(cx[touched[0]], mid, cx[touched[-1]], mid, GREY, 1.2)
            for name in touched:
                if actor and name != actor and name in changes:
                    side = -1 if cx[name] > cx[actor] else 1
                    tip = cx[name] + side * lane_w / 2
                    c.add(f'<polygon points="{_n(tip)},{_n(mid)} {_n(tip + 7 * side)},{_n(mid - 4)} '
                          f'{_n(tip + 7 * side)},{_n(mid + 4)}" fill="{GREY}"/>')
        if actor and actor not in changes:
            c.add(f'<circle cx="{_n(cx[actor])}" cy="{_n(mid)}" r="5" fill="{LANE_COLOURS["actor"][1]}"/>')
        for name, lines in changes.items():
            lane = ls[names.index(name)]
            fill, stroke = LANE_COLOURS[lane.kind]
            left = cx[name] - lane_w / 2
            c.add(f'<g class="change" data-lane={quoteattr(name)}>')
            c.rect(left, y, lane_w, box_h[name], "#ffffff", stroke, rx=4,
                   width=2.2 if name == actor else 1.0)
            for k, line in enumerate(lines):
                c.text(left + 6, y + 13 + k * lh, line, size=small)
            c.add("</g>")
        c.add("</g>")
        rows.append((y, h))
        y += h + 6
        prev = step.state
    bottom = y

    c.parts = outer
    for lane in ls:  # lifelines behind the step boxes
        c.line(cx[lane.name], top, cx[lane.name], bottom, LANE_COLOURS[lane.kind][1], 1, dash="3 3")
    c.parts += body

    # the end: the violated property, or the loop that never reaches the goal
    loop = trace.loop
    if loop is not None and loop < len(rows):
        first = rows[loop][0]
        c.add('<g class="loop">')
        c.line(6, first - 2, 6, bottom - 6, RED, 2.5)
        c.line(6, first - 2, 11, first - 2, RED, 2.5)
        c.line(6, bottom - 6, 11, bottom - 6, RED, 2.5)
        c.add("</g>")
    if trace.kind == "counterexample":
        if loop is None:
            broken = trace.broken_at_end() or [trace.goal]
            what = ("no step is enabled: the system is stuck" if trace.goal == DEADLOCK else
                    "violated in the final state")
            head_line = f"✗ {', '.join(broken)}: {what}"
        elif loop == len(trace.steps):
            head_line = f"✗ {trace.goal}: no step is enabled after step {loop}, so it never happens"
        else:
            head_line = (f"✗ {trace.goal}: steps {loop + 1}-{len(trace.steps)} repeat forever "
                         "and it never happens")
        detail = (_wrap(doc, int((width - 40) / (CHAR * small))) if doc else [])
        if source:
            detail += _wrap(f"source: {source}", int((width - 40) / (CHAR * small)))
        box_h = 26 + lh * len(detail)
        c.add('<g class="violation">')
        c.rect(10, y, width - 20, box_h, RED_BG, RED, rx=5, width=2)
        c.text(20, y + 18, head_line, size=12.5, weight="bold", fill=RED)
        for k, line in enumerate(detail):
            c.text(20, y + 18 + (k + 1) * lh, line, size=small, fill="#7f1d1d")
        c.add("</g>")
        y += box_h
    return c.svg(width, y + 12)


# ---- the state graph ----------------------------------------------------------

def state_graph(g, path: list[int], title: str, *, extra: set[int] = frozenset(),
                labels: list[str] = ()) -> str:
    """Every node of ``g`` by BFS level (attribute ``depth``), the ``path`` thick and red.

    ``labels[i]`` names the step into ``path[i + 1]``; ``extra`` nodes are orange.
    """
    levels: dict[int, list[int]] = {}
    for n in sorted(g.nodes):
        levels.setdefault(g.nodes[n]["depth"], []).append(n)
    widest = max(len(v) for v in levels.values())
    dx, dy, left, top = 9.0, 24.0, 70.0, 86.0
    width = max(left + widest * dx + 190, 760)
    mid = left + widest * dx / 2
    pos = {}
    for depth, nodes in levels.items():
        start = mid - (len(nodes) - 1) * dx / 2
        for i, n in enumerate(nodes):
            pos[n] = (start + i * dx, top + depth * dy)
    height = top + max(levels) * dy + 40

    c = Canvas(title, "ksecheck-state-graph")
    c.text(12, 22, title, size=13, weight="bold", family=SANS)
    ends = {n: d["end"] for n, d in g.nodes(data=True) if d["end"]}
    c.text(12, 40, f"{g.number_of_nodes():,} states, {g.number_of_edges():,} transitions, "
           f"{len(levels)} BFS levels; y = BFS depth, x = order of discovery within the level",
           size=10, fill=GREY, family=SANS)
    legend = [("#dc2626", "counterexample path (step numbers; orange ring: a state the "
                          "correct model never reaches)"), ("#16a34a", "initial state"),
              ("#ea580c", "state the correct model never reaches"), ("#000000", "deadlock"),
              ("#2563eb", "terminal or at-bound state")]
    lx = 12.0
    for colour, text in legend:
        c.add(f'<circle cx="{_n(lx + 4)}" cy="56" r="4" fill="{colour}"/>')
        c.text(lx + 12, 59.5, text, size=9.5, fill=INK, family=SANS)
        lx += 24 + len(text) * 5.6
    for depth in range(0, max(levels) + 1, 5):
        c.text(left - 14, top + depth * dy + 3.5, f"depth {depth}", size=8.5, fill=GREY,
               anchor="end", family=SANS)

    on_path = set(zip(path, path[1:]))
    pairs = sorted({(a, b) for a, b in g.edges() if a != b and (a, b) not in on_path})
    d = " ".join(f"M{_n(pos[a][0])} {_n(pos[a][1])}L{_n(pos[b][0])} {_n(pos[b][1])}" for a, b in pairs)
    c.add(f'<path class="edges" d="{d}" stroke="#64748b" stroke-width="0.35" '
          f'stroke-opacity="0.45" fill="none"/>')
    for n in sorted(g.nodes):
        x, y = pos[n]
        if ends.get(n) == "deadlock":
            c.rect(x - 3, y - 3, 6, 6, "#000000")
        else:
            colour = "#2563eb" if n in ends else "#ea580c" if n in extra else "#475569"
            c.add(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{1.9 if colour == "#475569" else 2.6}" '
                  f'fill="{colour}"/>')
    c.add('<g class="path">')
    for i, (a, b) in enumerate(zip(path, path[1:]), 1):
        label = labels[i - 1] if i - 1 < len(labels) else ""
        c.line(pos[a][0], pos[a][1], pos[b][0], pos[b][1], RED, 3,
               extra=f' class="cx-edge" data-step="{i}" data-action={quoteattr(label)}')
    halo = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'
    for i, n in enumerate(path):
        x, y = pos[n]
        ring = ("#ea580c", 2) if n in extra else ("#ffffff", 1)
        if ends.get(n) == "deadlock":
            c.rect(x - 5, y - 5, 10, 10, "#000000", RED, width=2)
        else:
            c.add(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4.5" fill="{RED}" stroke="{ring[0]}" '
                  f'stroke-width="{ring[1]}"/>')
        if i:
            c.text(x - 8, y + 3.5, f"{i}", size=9.5, weight="bold", fill=RED, anchor="end", extra=halo)
    c.add("</g>")
    for s in g.nodes:
        if g.nodes[s]["depth"] == 0:
            x, y = pos[s]
            c.add(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="6" fill="#16a34a"/>')
            c.text(x + 9, y + 4, "initial", size=9, fill="#16a34a", weight="bold",
                   extra=' stroke="#ffffff" stroke-width="3" paint-order="stroke"')
    if path:
        x, y = pos[path[-1]]
        c.text(x + 9, y + 4, "deadlock" if ends.get(path[-1]) == "deadlock" else "violation",
               size=10, fill=RED, weight="bold", extra=halo)
    # the step labels of the path, listed at the right
    c.text(width - 180, top - 8, "the path", size=10, weight="bold", fill=RED, family=SANS)
    for i, label in enumerate(labels, 1):
        c.text(width - 180, top + 6 + (i - 1) * 13, f"{i:>2}. {label}", size=9, fill=INK)
    return c.svg(width, max(height, top + 13 * len(labels) + 20))


# ---- charts -------------------------------------------------------------------

def _ticks(top: float) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0:
        return [0, 1]
    raw = top / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(math.ceil(top / step)) + 1)]


def _num(x: float) -> str:
    return f"{int(x):,}" if x == int(x) else f"{x:,}"


def summary_chart(title: str, levels: list[int], coverage: dict[str, int]) -> str:
    """States per BFS level (bars) beside how often each action fired (log scale)."""
    c = Canvas(title, "ksecheck-summary")
    c.text(12, 22, title, size=13, weight="bold", family=SANS)
    # left panel: states per level
    px, py, pw, ph = 70.0, 60.0, 430.0, 260.0
    c.text(px, py - 14, f"distinct states per BFS level ({sum(levels):,} in {len(levels)} levels)",
           size=10.5, weight="bold", family=SANS)
    ticks = _ticks(max(levels))
    scale = ph / ticks[-1]
    for t in ticks:
        y = py + ph - t * scale
        c.line(px, y, px + pw, y, LIGHT, 0.8)
        c.text(px - 6, y + 3.5, _num(t), size=9, fill=GREY, anchor="end", family=SANS)
    bw = pw / len(levels)
    c.add('<g class="levels">')
    for depth, count in enumerate(levels):
        h = count * scale
        c.rect(px + depth * bw + bw * 0.1, py + ph - h, bw * 0.8, h, "#3b82f6",
               extra=f' data-depth="{depth}" data-states="{count}"')
    c.add("</g>")
    c.line(px, py + ph, px + pw, py + ph, INK, 1)
    step = max(1, int(math.ceil(len(levels) / 10)))
    for depth in range(0, len(levels), step):
        c.text(px + (depth + 0.5) * bw, py + ph + 13, str(depth), size=9, fill=GREY,
               anchor="middle", family=SANS)
    c.text(px + pw / 2, py + ph + 28, "BFS depth", size=9.5, fill=GREY, anchor="middle", family=SANS)

    # right panel: coverage, log scale
    qx, qy = px + pw + 60 + 14 * 6.0, 60.0
    names = list(coverage)
    row = 15.0
    qw = 300.0
    c.text(qx - 14 * 6.0, qy - 14, "how often each action fired (log scale)", size=10.5,
           weight="bold", family=SANS)
    top = max([*coverage.values(), 1])
    decades = max(1, math.ceil(math.log10(top + 1)))
    for k in range(decades + 1):
        x = qx + qw * k / decades
        c.line(x, qy - 4, x, qy + row * len(names), LIGHT, 0.8)
        c.text(x, qy + row * len(names) + 12, _num(10 ** k), size=8.5, fill=GREY, anchor="middle",
               family=SANS)
    c.add('<g class="coverage">')
    for i, name in enumerate(names):
        y = qy + i * row
        n = coverage[name]
        c.text(qx - 6, y + 9, name, size=9, anchor="end", fill=RED if n == 0 else INK)
        if n == 0:
            c.text(qx + 4, y + 9, "never fired", size=9, fill=RED, weight="bold", family=SANS)
            continue
        w = max(1.5, qw * math.log10(n + 1) / decades)
        c.rect(qx, y + 2, w, row - 5, "#16a34a", extra=f' data-action={quoteattr(name)} data-fired="{n}"')
        c.text(qx + w + 4, y + 9.5, f"{n:,}", size=8.5, fill=GREY, family=SANS)
    c.add("</g>")
    height = max(py + ph + 40, qy + row * len(names) + 24)
    return c.svg(qx + qw + 70, height)
