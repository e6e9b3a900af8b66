"""State layout: named variables over finite domains, flattened into a tuple.

A state is a tuple of ints, one per scalar variable and one per element of
each array variable. Model code never sees the tuple: it reads and writes
through a *view* with one attribute per variable (``s.sa``, ``s.loc[t]``).
Views over a tuple are read-only (guards, properties); views over a list are
writable (effects).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Iterator, Mapping

from .domains import Domain
from ..errors import ModelError, SlotIndexError

State = tuple  # a tuple of ints laid out by a Schema


@dataclass(frozen=True)
class Var:
    """A scalar state variable."""

    name: str
    domain: Domain
    doc: str = ""


@dataclass(frozen=True)
class Array:
    """An array variable: one value per slot ``0..length-1`` of an entity.

    Printed as ``<prefix><i>.<label>``, e.g. ``t1.loc``; ``label`` defaults
    to ``name`` and lets two entities both have a field called ``exiting``.
    """

    name: str
    length: int
    domain: Domain
    prefix: str
    label: str = ""
    doc: str = ""

    @property
    def shown(self) -> str:
        """The field name used when printing an element."""
        return self.label or self.name


class Row:
    """One array variable inside a view: index it with a slot number."""

    __slots__ = ("_view", "_base", "_n", "_name", "_domain")

    def __init__(self, view, base: int, n: int, name: str, domain: Domain):
        self._view, self._base, self._n, self._name, self._domain = view, base, n, name, domain

    def _at(self, i) -> int:
        i = operator.index(i)
        if not 0 <= i < self._n:
            raise SlotIndexError(f"{self._name}[{i}] is out of range 0..{self._n - 1}: "
                             "guard the step so it never indexes with none")
        return self._base + i

    def __getitem__(self, i):
        return self._view._v[self._at(i)]

    def __setitem__(self, i, value):
        self._view._store(self._at(i), value)

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[int]:
        v, b = self._view._v, self._base
        return (v[b + i] for i in range(self._n))


class Schema:
    """The ordered variables of a model and the view class over them."""

    def __init__(self, *variables: Var | Array):
        for v in variables:
            if not isinstance(v, (Var, Array)):
                raise ModelError(f"{v!r} is not a Var or an Array")
        names = [v.name for v in variables]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ModelError(f"state variable(s) {sorted(dup)} declared twice: give each a unique name")
        for v in variables:
            if not isinstance(v.domain, Domain):
                raise ModelError(f"variable {v.name}: domain must be a checker.core.domains.Domain")
            if not v.name.isidentifier() or v.name.startswith("_"):
                raise ModelError(f"variable name {v.name!r} must be an identifier not starting with _")
        self.variables = tuple(variables)
        self.offsets: dict[str, int] = {}
        slots: list[tuple[str, Domain]] = []
        for v in variables:
            self.offsets[v.name] = len(slots)
            if isinstance(v, Var):
                slots.append((v.name, v.domain))
            else:
                slots.extend((f"{v.prefix}{i}.{v.shown}", v.domain) for i in range(v.length))
        self.slot_names = tuple(n for n, _ in slots)
        self.slot_domains = tuple(d for _, d in slots)
        self.width = len(slots)
        self.view = _view_class(self, checked=True)

    def default_state(self) -> State:
        """Every slot at its domain's default value."""
        return tuple(d.default for d in self.slot_domains)

    def reader(self, state: State):
        """A read-only view of ``state``."""
        return self.view(state)

    def readable(self, state: State) -> dict[str, str]:
        """``{slot name: printed value}`` for every slot, in layout order."""
        return {n: d.fmt(x) for n, d, x in zip(self.slot_names, self.slot_domains, state)}

    def parse(self, readable: Mapping[str, str]) -> State:
        """Inverse of :meth:`readable`; raises ValueError naming the bad slot."""
        missing = [n for n in self.slot_names if n not in readable]
        extra = [n for n in readable if n not in self.offsets and n not in self.slot_names]
        if missing or extra:
            raise ValueError(f"state does not match the model's variables "
                             f"(missing {missing[:3]}, unknown {extra[:3]})")
        out = []
        for name, dom in zip(self.slot_names, self.slot_domains):
            text = readable[name]
            if not isinstance(text, str):
                raise ValueError(f"{name}: value {text!r} must be a string")
            try:
                out.append(dom.parse(text))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return tuple(out)

    def diff(self, before: State, after: State) -> list[tuple[str, str, str]]:
        """``(slot, old, new)`` for every slot that differs."""
        return [(n, d.fmt(a), d.fmt(b))
                for n, d, a, b in zip(self.slot_names, self.slot_domains, before, after) if a != b]


def _view_class(schema: Schema, checked: bool) -> type:
    """Build a view class with one property per variable of ``schema``."""
    attrs: dict[str, object] = {"__slots__": ("_v", "_rows"), "schema": schema}

    def store(self, i: int, value) -> None:
        if isinstance(self._v, tuple):
            raise ModelError(f"assignment to {schema.slot_names[i]} outside an effect: "
                             "guards, properties and predicates only read the state")
        dom = schema.slot_domains[i]
        if checked and not (isinstance(value, int) and dom.lo <= value <= dom.hi):
            raise ModelError(f"{schema.slot_names[i]} = {value!r}: not {dom.describe()}; "
                             "an effect must assign ints of the variable's domain")
        self._v[i] = int(value)

    def init(self, values) -> None:
        self._v = values
        self._rows = {v.name: Row(self, schema.offsets[v.name], v.length, v.name, v.domain)
                      for v in schema.variables if isinstance(v, Array)}

    attrs["__init__"] = init
    attrs["_store"] = store
    for var in schema.variables:
        if isinstance(var, Var):
            i = schema.offsets[var.name]
            attrs[var.name] = property(lambda self, i=i: self._v[i],
                                       lambda self, value, i=i: self._store(i, value),
                                       doc=var.doc)
        else:
            attrs[var.name] = property(lambda self, n=var.name: self._rows[n], doc=var.doc)
    return type("View", (), attrs)
