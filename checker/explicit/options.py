"""How a search runs: one options object, its limits, and the progress it reports."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import UsageError

if TYPE_CHECKING:
    from .symmetry import Symmetry

ENGINES = ("auto", "compiled", "interpreted", "vector")
"""How successors are computed: ``compiled`` (Python source generated from the traced
model), ``interpreted`` (the model's own functions), ``vector`` (numpy, a frontier chunk
at a time). ``auto`` compiles unless the model uses a construct the tracer cannot follow,
and then interprets; with several workers or symmetry reduction it is ``vector``."""


@dataclass(frozen=True)
class Limits:
    """Bounds on a search; hitting any makes the verdicts INCOMPLETE, never HOLDS."""

    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None


@dataclass(frozen=True)
class Progress:
    """A snapshot handed to the progress callback."""

    states: int
    queue: int
    depth: int
    seconds: float

    @property
    def rate(self) -> float:
        """States per second so far."""
        return self.states / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Options:
    """Everything that shapes one search.

    ``stop_at_first`` ends it at the first violated invariant (or deadlock);
    ``stop_when`` once every named invariant (or ``deadlock_free``) is violated.
    ``engine`` is one of :data:`ENGINES`; ``workers`` > 1 searches with that many
    processes and ``symmetry`` (a :class:`~checker.explicit.symmetry.Symmetry`)
    explores one state per orbit, both on the vector engine. ``liveness`` False
    leaves ``eventually`` properties NOT CHECKED. ``on_progress`` is called with a
    :class:`Progress` at most every ``progress_every`` seconds; ``chunk`` is how
    many frontier states an engine expands at once (its own default if None).
    ``cancelled()``, asked between chunks, ends the search early when it says
    True (an interrupt): the result is then INCOMPLETE, as at a limit.
    """

    limits: Limits = Limits()
    stop_at_first: bool = False
    stop_when: tuple[str, ...] = ()
    engine: str = "auto"
    workers: int = 1
    symmetry: "Symmetry | None" = None
    liveness: bool = True
    on_progress: Callable[[Progress], None] | None = None
    progress_every: float = 3.0
    chunk: int | None = None
    cancelled: Callable[[], bool] | None = None

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise UsageError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        if self.workers < 1:
            raise UsageError(f"workers must be at least 1, not {self.workers}")
        if (self.workers > 1 or self.symmetry is not None) and self.engine not in ("auto", "vector"):
            raise UsageError("several workers and symmetry reduction run on the vector engine; "
                             f"drop engine={self.engine!r} or use vector")
        if self.chunk is not None and self.chunk < 1:
            raise UsageError(f"chunk must be at least 1, not {self.chunk}")
