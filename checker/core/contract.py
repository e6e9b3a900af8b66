"""The contract a transition system is written against.

A :class:`Model` gives a state :class:`~checker.core.schema.Schema`, one or more
initial states, named parameterised :class:`Action` s (a guard and an effect
each), :class:`Property` s, and optional ``terminal`` and ``at_bound``
predicates. Everything is checked when the model is built, so a malformed
model fails at once with a message saying how to fix it.
"""
from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from .domains import NONE, Domain, Ref
from ..errors import ModelError
from .schema import Schema, State

KINDS = ("always", "sometimes", "eventually")
"""Property kinds: an invariant, a reachability goal, a liveness goal."""


@dataclass(frozen=True)
class Param:
    """A parameter of an action, ranging over a finite domain."""

    name: str
    domain: Domain

    def fmt(self, value: int) -> str:
        """The parameter as printed in a step label."""
        return self.domain.fmt(value)


@dataclass(frozen=True)
class Action:
    """A named, parameterised step: ``guard(s, *p)`` enables ``effect(s, *p)``.

    The guard reads a state view and returns a truth value; the effect
    assigns to a writable view and returns None.
    """

    name: str
    params: tuple[Param, ...]
    guard: Callable[..., object]
    effect: Callable[..., None]
    doc: str = ""
    source: str = ""

    def label(self, args: Sequence[int]) -> str:
        """``name(a, b, key=c)``: optional params by keyword, omitted when none."""
        parts = []
        for p, a in zip(self.params, args):
            optional = isinstance(p.domain, Ref) and p.domain.optional
            if not optional:
                parts.append(p.fmt(a))
            elif a != NONE:
                parts.append(f"{p.name}={p.fmt(a)}")
        return f"{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class Property:
    """A named property of kind ``always``, ``sometimes`` or ``eventually``.

    ``check(s)`` is the state predicate: the invariant for ``always``, the
    goal for ``sometimes``. For ``eventually`` it is the goal *q* of a
    leads-to: whenever ``trigger(s, *params)`` holds, ``check(s, *params)``
    holds then or later, for every value of ``params``, on every execution
    fair to ``fairness``: pairs ``("weak" | "strong", action name)``, each
    fair separately for every value of the action's first parameter.
    """

    name: str
    kind: str
    check: Callable[..., object] | None
    source: str
    doc: str = ""
    trigger: Callable[..., object] | None = None
    params: tuple[Param, ...] = ()
    fairness: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Instance:
    """One action with concrete arguments."""

    action: Action
    args: tuple[int, ...]

    @property
    def label(self) -> str:
        """The step as printed in traces."""
        return self.action.label(self.args)


Init = Callable[..., None]


@dataclass(frozen=True)
class Origin:
    """Where a model was instantiated from: its family, configuration, variants, constants."""

    family: str
    config: str
    variants: tuple[str, ...] = ()
    constants: Mapping[str, int] = field(default_factory=dict)


@dataclass
class Model:
    """A transition system ready to be explored.

    ``init`` is one function (or a list) assigning the initial values onto a
    writable view that starts at every variable's default. ``origin`` says which
    configuration of which family it is (set by :meth:`Family.instantiate
    <checker.core.catalogue.Family.instantiate>`); results and traces name it.
    """

    name: str
    schema: Schema
    init: Init | Sequence[Init]
    actions: Sequence[Action]
    properties: Sequence[Property] = ()
    terminal: Callable[..., object] | None = None
    at_bound: Callable[..., object] | None = None
    check_deadlock: bool = True
    doc: str = ""
    origin: Origin | None = None
    instances: tuple[Instance, ...] = field(init=False, repr=False)
    initial_states: tuple[State, ...] = field(init=False, repr=False)
    _scratch: tuple | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.schema, Schema):
            raise ModelError(f"model {self.name}: schema must be a checker.core.schema.Schema")
        self.actions = tuple(self.actions)
        self.properties = tuple(self.properties)
        for a in self.actions:
            if not isinstance(a, Action):
                raise ModelError(f"model {self.name}: {a!r} is not a checker.Action")
        for p in self.properties:
            if not isinstance(p, Property):
                raise ModelError(f"model {self.name}: {p!r} is not a checker.Property")
        _unique(self.name, "action", [a.name for a in self.actions])
        _unique(self.name, "property", [p.name for p in self.properties])
        for a in self.actions:
            _check_action(self.name, a)
        for p in self.properties:
            _check_property(self.name, p)
            unknown = [a for _, a in p.fairness if a not in {x.name for x in self.actions}]
            if unknown:
                raise ModelError(f"model {self.name}, property {p.name!r}: fairness names "
                                 f"unknown action(s) {unknown}")
        for pred, what in ((self.terminal, "terminal"), (self.at_bound, "at_bound")):
            if pred is not None and not callable(pred):
                raise ModelError(f"model {self.name}: {what} must be a predicate s -> bool")
        self.instances = tuple(
            Instance(a, args)
            for a in self.actions
            for args in itertools.product(*(p.domain.values() for p in a.params)))
        self.initial_states = tuple(dict.fromkeys(self._initial()))
        for s in self.initial_states:  # smoke-test every guard and effect once
            self.successors(s)

    def _initial(self) -> Iterable[State]:
        inits = self.init if isinstance(self.init, (list, tuple)) else [self.init]
        if not inits:
            raise ModelError(f"model {self.name}: give at least one initial state")
        for fn in inits:
            view = self.schema.view(list(self.schema.default_state()))
            if fn(view) is not None:
                raise ModelError(f"model {self.name}: init must assign to the view and return None")
            yield tuple(view._v)

    def successors(self, state: State) -> list[tuple[Instance, State]]:
        """Every enabled instance of ``state`` with the state it leads to."""
        return [(self.instances[k], nxt) for k, nxt in self.successor_indices(state)]

    def successor_indices(self, state: State) -> list[tuple[int, State]]:
        """Every enabled instance of ``state`` (its index in :attr:`instances`) with the
        state it leads to: the model run directly, the reference every engine agrees with."""
        reader, writer = self._views()
        reader._v = state
        out = []
        for k, inst in enumerate(self.instances):
            if inst.action.guard(reader, *inst.args):
                writer._v = list(state)
                self._effect(inst, writer)
                out.append((k, tuple(writer._v)))
        return out

    def enabled(self, inst: Instance, state: State) -> bool:
        """Whether ``inst`` is enabled in ``state``."""
        return bool(inst.action.guard(self.schema.view(state), *inst.args))

    def apply(self, inst: Instance, state: State) -> State:
        """The state ``inst``'s effect makes from ``state`` (guard not checked)."""
        view = self.schema.view(list(state))
        self._effect(inst, view)
        return tuple(view._v)

    def _effect(self, inst: Instance, writer) -> None:
        if inst.action.effect(writer, *inst.args) is not None:
            raise ModelError(f"model {self.name}: effect of {inst.action.name} returned a value; "
                             "an effect assigns to the view and returns None")

    def _views(self):
        """A reader and a writer view, reused across calls (never handed out)."""
        if self._scratch is None:
            start = self.initial_states[0] if self.initial_states else self.schema.default_state()
            self._scratch = (self.schema.view(start), self.schema.view(list(start)))
        return self._scratch

    def instance(self, name: str, args: Sequence[int]) -> Instance:
        """The instance of action ``name`` with ``args``; KeyError if none."""
        for a in self.actions:
            if a.name == name:
                inst = Instance(a, tuple(args))
                if len(args) != len(a.params) or any(
                        not p.domain.contains(x) for p, x in zip(a.params, args)):
                    raise KeyError(f"{name}{tuple(args)}: arguments do not fit its parameters")
                return inst
        raise KeyError(f"no action named {name!r}")

    def property(self, name: str) -> Property:
        """The property called ``name``; KeyError if none."""
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)


def _unique(model: str, what: str, names: list[str]) -> None:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ModelError(f"model {model}: {what} name(s) {dup} used twice; give each {what} a unique name")


def _check_action(model: str, a: Action) -> None:
    where = f"model {model}, action {a.name!r}"
    if not isinstance(a, Action):
        raise ModelError(f"model {model}: {a!r} is not a checker.Action")
    if not a.name.isidentifier():
        raise ModelError(f"{where}: the name must be an identifier")
    if not callable(a.guard) or not callable(a.effect):
        raise ModelError(f"{where}: guard and effect must be functions (s, *params)")
    for p in a.params:
        if not isinstance(p, Param) or not isinstance(p.domain, Domain):
            raise ModelError(f"{where}: parameters must be Param(name, domain)")
    for fn, role in ((a.guard, "guard"), (a.effect, "effect")):
        try:
            inspect.signature(fn).bind(None, *(0 for _ in a.params))
        except TypeError:
            raise ModelError(f"{where}: the {role} must take the state and "
                             f"{len(a.params)} parameter(s) {[p.name for p in a.params]}") from None
        except ValueError:
            pass  # builtins without signatures


def _check_property(model: str, p: Property) -> None:
    where = f"model {model}, property {p.name!r}"
    if p.kind not in KINDS:
        raise ModelError(f"{where}: unknown kind {p.kind!r}; use one of {', '.join(KINDS)}")
    if not callable(p.check):
        raise ModelError(f"{where}: an {p.kind} property needs a predicate check(s) -> bool")
    if p.kind == "eventually":
        if not callable(p.trigger):
            raise ModelError(f"{where}: an eventually property needs trigger(s, *params) -> bool "
                             "(when the goal becomes due) besides check (the goal)")
        for entry in p.fairness:
            if not (isinstance(entry, tuple) and len(entry) == 2 and entry[0] in ("weak", "strong")):
                raise ModelError(f"{where}: fairness entries are (\"weak\" | \"strong\", action name); "
                                 f"got {entry!r}")
    elif p.params or p.trigger or p.fairness:
        raise ModelError(f"{where}: params, trigger and fairness belong to eventually properties")
    if not p.source:
        raise ModelError(f"{where}: say where the property comes from (source=...)")
