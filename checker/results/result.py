"""Results as data: one vocabulary for every engine.

A :class:`Result` is what one run found, whatever ran it: the explicit search
(``mode`` ``"search"``, with :class:`Stats`), the symbolic engines on one
configuration (``bmc``, ``pdr``, ``induction``, ``kinduction``, ``proof``) or
the relational prover for every size (``any-size``). Each property, goal,
invariant or lemma has a :class:`PropertyResult`; each solver query a
:class:`Query`, carrying a :class:`Cti` when Z3 found a counterexample to
induction. Engines return results and never print; :mod:`checker.results.text`,
:mod:`checker.results.jsonout` and :mod:`checker.results.junit` render them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Sequence

from ..core.contract import Model
from .trace import Trace


class Verdict(str, Enum):
    """The outcome of one property; never conflate INCOMPLETE or UNKNOWN with HOLDS."""

    HOLDS = "HOLDS"              # an invariant holds in every reachable state
    VIOLATED = "VIOLATED"        # a reachable state breaks it: see the trace
    REACHED = "REACHED"          # a `sometimes` goal was reached: see the witness
    UNREACHED = "UNREACHED"      # exhaustive search never reached the goal
    INCOMPLETE = "INCOMPLETE"    # a limit cut the search short before a verdict
    UNKNOWN = "UNKNOWN"          # a solver gave up
    NOT_CHECKED = "NOT CHECKED"  # no engine here checks this kind of property

    @property
    def ok(self) -> bool:
        """True only for a verdict that is a definite success."""
        return self in (Verdict.HOLDS, Verdict.REACHED)

    @property
    def failed(self) -> bool:
        """True for a definite failure: a violation or an unreached goal."""
        return self in (Verdict.VIOLATED, Verdict.UNREACHED)


DEADLOCK = "deadlock_free"
"""The name under which the built-in absence-of-deadlock check is reported."""


@dataclass
class Cti:
    """A counterexample to induction: states satisfying every hypothesis, joined by steps,
    the last state breaking ``goal`` (or, with ``error``, the last step raising).

    ``states`` are states of ``system`` (the explicit :class:`~checker.core.contract.Model`,
    or a finite relational structure); ``steps`` what led from each state to the next
    (the model's instances, or relational steps). With no step, an initial state breaks
    the goal. ``readable`` (each state as ``{name: value}``, a value being a text or a list
    of true atoms), ``labels`` (each step as text) and ``context`` (lines to show first,
    such as a structure's universe) are what renderers print.
    """

    query: str
    goal: str
    states: list
    steps: list
    system: Any = field(repr=False)
    readable: list[dict[str, str | list[str]]] = field(repr=False, default_factory=list)
    labels: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    error: str = ""
    context: list[str] = field(default_factory=list)

    @property
    def pre(self):
        """The state before the last step."""
        return self.states[-2] if len(self.states) > 1 else self.states[-1]

    @property
    def post(self):
        """The state after the last step."""
        return self.states[-1]

    @property
    def step(self):
        """The last step (None when an initial state breaks the goal)."""
        return self.steps[-1] if self.steps else None


def model_cti(model: Model, query: str, goal: str, states: Sequence[tuple], steps: Sequence,
              broken: Sequence[str] = (), error: str = "") -> Cti:
    """A CTI over states of the explicit ``model``, joined by its instances."""
    return Cti(query, goal, list(states), list(steps), model,
               [model.schema.readable(s) for s in states], [i.label for i in steps],
               list(broken), error)


@dataclass
class Query:
    """One scoped solver query, named ``step/goal`` (``init/goal``, ``depth3/goal``, ...).

    HOLDS: its claim was proved (UNSAT). VIOLATED: Z3 found a counterexample,
    checked concretely (a :class:`Cti` for induction queries). UNKNOWN: the
    solver gave up (``note`` says why). INCOMPLETE: nothing found within a bound.
    """

    name: str
    verdict: Verdict
    seconds: float
    cti: Cti | None = None
    note: str = ""

    @property
    def step(self) -> str:
        """What the query is about: a step, ``init``, a depth or a frame."""
        return self.name.rpartition("/")[0]

    @property
    def goal(self) -> str:
        """The property the query checks."""
        return self.name.rpartition("/")[2]


@dataclass
class PropertyResult:
    """One property's verdict, with its counterexample or witness trace.

    For a proof, ``lemma`` marks a strengthening lemma and ``queries`` are the
    queries that have it as their goal.
    """

    name: str
    kind: str
    verdict: Verdict
    source: str = ""
    doc: str = ""
    trace: Trace | None = None
    note: str = ""
    lemma: bool = False
    queries: list[Query] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Solver time of its own queries."""
        return sum(q.seconds for q in self.queries)


@dataclass
class Stats:
    """What a search did."""

    states: int = 0
    transitions: int = 0
    depth: int = 0
    action_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    peak_rss_bytes: int = 0
    terminal_states: int = 0
    at_bound_states: int = 0
    deadlock_states: int = 0
    complete: bool = True
    stopped_by: str = ""
    engine: str = ""
    workers: int = 1  # processes that searched
    levels: list[int] = field(default_factory=list)  # distinct states first found at each depth
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, where measured

    @property
    def states_per_second(self) -> float:
        """Distinct states found per second of search."""
        return self.states / self.seconds if self.seconds > 0 else 0.0

    @property
    def unfired(self) -> list[str]:
        """Actions that never fired: dead code in the model or too small a configuration."""
        return [a for a, n in self.action_counts.items() if n == 0]


SEARCH = "search"
"""The mode of an explicit-state search (``ksecheck check``)."""


@dataclass
class Result:
    """Everything one run found: per-property verdicts, and the search's statistics or the
    solver's queries."""

    model: str
    properties: list[PropertyResult]
    mode: str = SEARCH
    config: str = ""
    variants: tuple[str, ...] = ()
    constants: dict[str, int] = field(default_factory=dict)
    stats: Stats | None = None
    queries: list[Query] = field(default_factory=list)
    bound: int | None = None
    sizes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, model: Model | str, properties: list[PropertyResult], **kw) -> "Result":
        """A result about ``model``, naming its configuration when the model knows it."""
        if isinstance(model, str):
            return cls(model, properties, **kw)
        origin = model.origin
        if origin is not None:
            kw = dict(config=origin.config, variants=tuple(origin.variants),
                      constants=dict(origin.constants)) | kw
        return cls(model.name, properties, **kw)

    def get(self, name: str) -> PropertyResult:
        """The result of the property called ``name``."""
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    def query(self, name: str) -> Query:
        """The query called ``name``."""
        for q in self.queries:
            if q.name == name:
                return q
        raise KeyError(name)

    @property
    def violated(self) -> list[PropertyResult]:
        """Properties with a definite failure."""
        return [p for p in self.properties if p.verdict.failed]

    @property
    def ctis(self) -> list[Cti]:
        """Every counterexample to induction found (initial states that break a goal included)."""
        return [q.cti for q in self.queries if q.cti is not None]

    @property
    def seconds(self) -> float:
        """Total solver time over all queries."""
        return sum(q.seconds for q in self.queries)

    @property
    def outcome(self) -> Verdict:
        """VIOLATED if anything failed; else UNKNOWN, then INCOMPLETE, if anything is open;
        else HOLDS. A property left NOT CHECKED is not known to hold: INCOMPLETE."""
        if self.violated:
            return Verdict.VIOLATED
        verdicts = {p.verdict for p in self.properties}
        if Verdict.UNKNOWN in verdicts:
            return Verdict.UNKNOWN
        if verdicts & {Verdict.INCOMPLETE, Verdict.NOT_CHECKED}:
            return Verdict.INCOMPLETE
        return Verdict.HOLDS
