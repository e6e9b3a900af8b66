"""Results as data: verdicts, per-property outcomes, statistics."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

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
class PropertyResult:
    """One property's verdict, with its counterexample or witness trace."""

    name: str
    kind: str
    verdict: Verdict
    source: str = ""
    doc: str = ""
    trace: Trace | None = None
    note: str = ""


@dataclass
class Stats:
    """What the search did."""

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

    @property
    def states_per_second(self) -> float:
        """Distinct states found per second of search."""
        return self.states / self.seconds if self.seconds > 0 else 0.0

    @property
    def unfired(self) -> list[str]:
        """Actions that never fired: dead code in the model or too small a configuration."""
        return [a for a, n in self.action_counts.items() if n == 0]


@dataclass
class CheckResult:
    """Everything one explicit-state check found."""

    model: str
    config: str
    variants: tuple[str, ...]
    constants: dict[str, int]
    properties: list[PropertyResult]
    stats: Stats

    def get(self, name: str) -> PropertyResult:
        """The result of the property called ``name``."""
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def violated(self) -> list[PropertyResult]:
        """Properties with a definite failure."""
        return [p for p in self.properties if p.verdict.failed]

    @property
    def outcome(self) -> Verdict:
        """VIOLATED if anything failed; else INCOMPLETE/UNKNOWN if anything is open; else HOLDS.

        A property left NOT CHECKED makes the whole check INCOMPLETE: it is not known to hold.
        """
        if self.violated:
            return Verdict.VIOLATED
        if any(p.verdict is Verdict.UNKNOWN for p in self.properties):
            return Verdict.UNKNOWN
        if any(p.verdict in (Verdict.INCOMPLETE, Verdict.NOT_CHECKED) for p in self.properties):
            return Verdict.INCOMPLETE
        return Verdict.HOLDS
