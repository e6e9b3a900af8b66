"""Symmetry reduction: explore one state per orbit of interchangeable slots.

A model whose slots of some kind (threads, upcalls, mailboxes) are
interchangeable declares them as :class:`Entity` s of a :class:`Symmetry`:
the array variables indexed by the entity, the variables whose values
refer to one of its slots (:class:`~checker.core.domains.Ref`) and those that
hold sets of its slots (:class:`~checker.core.domains.Set`). A permutation of
the entity's slots moves the arrays' elements, renames the references and
maps the sets' bits, all consistently; the group is the product of the
entities' full permutation groups.

Sound when the transition relation commutes with every permutation of the
group (up to the group: a step that picks "the lowest free slot" commutes
as long as free slots are indistinguishable, so that which one is picked
does not matter) and the properties checked are invariant under it. The
initial state need not be invariant: the search starts from its orbit.
Properties that are not invariant (a goal that reads slot order) are
declared in ``not_invariant`` and reported NOT CHECKED under reduction. The
model's declaration says why the rest is sound; the tests check it on
every reachable state of small configurations.

:meth:`Symmetry.canonicaliser` maps packed states to a representative of
their orbit: the least packed key over every permutation of the
``enumerate`` entities, the ``sort`` entity (at most one) being ordered,
for each of those, by its slots' own fields (a reference to its own kind
reduced to "some or none"; a reference to a ``place`` entity replaced by
where else that label is held), then refined by the rank of the slot that
refers to it; each ``place`` entity comes last, its labels ordered by the
positions (references and set bits) that hold them. When slots with
equal keys are truly interchangeable (as in every reachable state of the
KSE model at ``small``, which the tests check orbit by orbit) that is a
canonical form: one representative per orbit. Otherwise it is still a
member of the orbit, so the search stays sound and only reduces less.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..core.contract import Model
from ..core.domains import NONE, Ref, Set
from ..errors import ModelError
from .pack import Layout
from ..core.schema import Array

HOW = ("enumerate", "sort", "place")


@dataclass(frozen=True)
class Entity:
    """A kind of interchangeable slots.

    ``arrays``: array variables indexed by the entity; ``refs``: variables
    (scalar or array) whose values are references to its slots; ``sets``:
    variables whose values are sets of its slots. ``how``: canonicalise by
    trying every permutation (``enumerate``), by sorting its slots on their
    fields (``sort``), or, for pure labels with no arrays of their own
    (``place``), by sorting them on where they are: the references and sets
    that hold each, once the other entities are in canonical order.
    """

    name: str
    count: int
    arrays: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    how: str = "enumerate"


@dataclass(frozen=True)
class Symmetry:
    """The interchangeable entities of a model, and the properties that are not invariant."""

    entities: tuple[Entity, ...]
    not_invariant: dict[str, str] = field(default_factory=dict)
    """Property name -> why it is not invariant; reported NOT CHECKED under reduction."""

    def check(self, model: Model) -> None:
        """Reject a declaration that does not fit ``model``, saying what to fix."""
        schema = model.schema
        byname = {v.name: v for v in schema.variables}
        if sum(e.how == "sort" for e in self.entities) > 1:
            raise ModelError("symmetry: at most one entity can be canonicalised by sorting")
        for e in self.entities:
            if e.how not in HOW:
                raise ModelError(f"symmetry: entity {e.name}: how must be one of {HOW}")
            if e.how == "place" and e.arrays:
                raise ModelError(f"symmetry: entity {e.name} has arrays: enumerate or sort it, "
                                 "\"place\" is for pure labels")
            for name in e.arrays + e.refs + e.sets:
                if name not in byname:
                    raise ModelError(f"symmetry: entity {e.name}: the model has no variable {name!r}")
            for name in e.arrays:
                v = byname[name]
                if not isinstance(v, Array) or v.length != e.count:
                    raise ModelError(f"symmetry: {name} is not an array of {e.count} {e.name} slots")
            for name in e.refs:
                d = byname[name].domain
                if not isinstance(d, Ref) or d.count != e.count:
                    raise ModelError(f"symmetry: {name} does not hold references to {e.name} slots")
            for name in e.sets:
                d = byname[name].domain
                if not isinstance(d, Set) or d.count != e.count:
                    raise ModelError(f"symmetry: {name} does not hold sets of {e.name} slots")
        unknown = [p for p in self.not_invariant if p not in {q.name for q in model.properties}]
        if unknown:
            raise ModelError(f"symmetry: not_invariant names unknown properties {unknown}")

    # -- one permutation, on one state (for replay and tests) ---------------------------

    def permute(self, model: Model, state: tuple, perms: dict[str, Sequence[int]]) -> tuple:
        """``state`` with entity ``e``'s slot ``i`` renamed ``perms[e][i]``, for each entity given."""
        schema = model.schema
        out = list(state)
        for e in self.entities:
            p = perms.get(e.name)
            if p is None:
                continue
            for name in e.arrays:
                base = schema.offsets[name]
                for i in range(e.count):
                    out[base + p[i]] = state[base + i]
            for name in e.refs:
                for slot in _slots(schema, name):
                    v = out[slot]
                    out[slot] = v if v == NONE else p[v]
            for name in e.sets:
                for slot in _slots(schema, name):
                    v = out[slot]
                    out[slot] = sum(1 << p[i] for i in range(e.count) if v >> i & 1)
            state = tuple(out)
        return tuple(out)

    def group(self) -> list[dict[str, tuple[int, ...]]]:
        """Every element of the group (only for small counts: tests)."""
        names = [e.name for e in self.entities]
        return [dict(zip(names, combo)) for combo in
                itertools.product(*(itertools.permutations(range(e.count)) for e in self.entities))]

    # -- canonical representatives of packed states --------------------------------------

    def canonicaliser(self, model: Model, layout: Layout, batch: int = 1 << 16) -> Callable:
        """``f(keys) -> keys``: a representative of each packed state's orbit."""
        self.check(model)
        c = _Canon(self, model, layout)

        def canon(keys: np.ndarray) -> np.ndarray:
            if len(keys) <= batch:
                return c(keys)
            return np.concatenate([c(keys[i:i + batch]) for i in range(0, len(keys), batch)])
        return canon


def _slots(schema, name: str) -> list[int]:
    v = next(v for v in schema.variables if v.name == name)
    base = schema.offsets[name]
    return list(range(base, base + (v.length if isinstance(v, Array) else 1)))


class _Canon:
    """The vectorised canonical form of :meth:`Symmetry.canonicaliser`."""

    def __init__(self, sym: Symmetry, model: Model, layout: Layout):
        schema = model.schema
        self.layout, self.width = layout, schema.width
        self.enum = [e for e in sym.entities if e.how == "enumerate"]
        self.sorted = next((e for e in sym.entities if e.how == "sort"), None)
        self.places = []
        for e in sym.entities:
            if e.how == "place":
                refs = [s for n in e.refs for s in _slots(schema, n)]
                sets = [s for n in e.sets for s in _slots(schema, n)]
                if len(refs) + len(sets) > 62:
                    raise ModelError(f"symmetry: {e.name} is held in too many places to sort by them")
                self.places.append((e.count, refs, sets))
        place_refs = {n for e in sym.entities if e.how == "place" for n in e.refs}
        self.place_of = {}  # ref variable -> (count, places outside the sorted entity's arrays)
        sorted_arrays = set(self.sorted.arrays) if self.sorted is not None else set()
        for e in sym.entities:
            if e.how == "place":
                outside = [(s, False) for n in e.refs if n not in sorted_arrays for s in _slots(schema, n)]
                outside += [(s, True) for n in e.sets if n not in sorted_arrays for s in _slots(schema, n)]
                for n in e.refs:
                    self.place_of[n] = (e.count, outside)
        # for each enumerated entity and permutation: a column permutation and value maps
        self.choices = []
        for e in self.enum:
            options = []
            for p in itertools.permutations(range(e.count)):
                source = np.arange(self.width)
                for name in e.arrays:
                    base = schema.offsets[name]
                    for i in range(e.count):
                        source[base + p[i]] = base + i
                ref_lut = np.array([NONE] + list(p), np.int64)  # index v + 1
                set_lut = np.array([sum(1 << p[i] for i in range(e.count) if v >> i & 1)
                                    for v in range(1 << e.count)], np.int64)
                options.append((source, ref_lut, set_lut))
            self.choices.append((e, [s for n in e.refs for s in _slots(schema, n)],
                                 [s for n in e.sets for s in _slots(schema, n)], options))
        if self.sorted is not None:
            e = self.sorted
            self.t_count = e.count
            self.t_arrays = [schema.offsets[n] for n in e.arrays]
            self_refs = (set(e.refs) | place_refs) & set(e.arrays)  # keyed on "some or none"
            self.t_selfref = [schema.offsets[n] for n in e.arrays if n in set(e.refs)]
            self.t_refs = [s for n in e.refs for s in _slots(schema, n)]
            self.t_sets = [s for n in e.sets for s in _slots(schema, n)]
            radix = 1
            self.t_fields = []  # (base slot, lo, size, kind, place) of each field of the sort key
            for n in e.arrays:
                d = schema.slot_domains[schema.offsets[n]]
                if n in self.place_of:  # a label: keyed on where else it is held
                    count, outside = self.place_of[n]
                    size, kind, place = (1 << len(outside)) + 1, "label", (count, outside)
                elif n in self_refs:
                    size, kind, place = 2, "some", None
                else:
                    size, kind, place = d.hi - d.lo + 1, "value", None
                self.t_fields.append((schema.offsets[n], d.lo, size, kind, place))
                radix *= size
            if radix * (e.count + 2) >= 2**62:
                raise ModelError(f"symmetry: the fields of {e.name} make too wide a sort key")

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        n = len(keys)
        if not n:
            return keys
        base = np.stack([self.layout.column(keys, i).astype(np.int64)
                         for i in range(self.width)], axis=1)
        best = None
        for combo in itertools.product(*(options for *_, options in self.choices)):
            x = base
            for (e, ref_slots, set_slots, _), (source, ref_lut, set_lut) in zip(self.choices, combo):
                x = x[:, source]
                if ref_slots:
                    x[:, ref_slots] = ref_lut[x[:, ref_slots] + 1]
                if set_slots:
                    x[:, set_slots] = set_lut[x[:, set_slots]]
            if self.sorted is not None:
                x = self._sort(x if x is not base else base.copy())
            for count, refs, sets in self.places:
                x = self._place(x if x is not base else base.copy(), count, refs, sets)
            cand = self.layout.pack([x[:, i] for i in range(self.width)])
            if best is None:
                best = cand
            else:
                less = _less(cand, best)
                best[less] = cand[less]
        return best

    def _sort(self, x: np.ndarray) -> np.ndarray:
        """Order the sorted entity's slots by their keys, renaming references to them."""
        T = self.t_count
        rows = np.arange(len(x))[:, None]
        key = np.zeros((len(x), T), np.int64)
        for slot, lo, size, kind, place in self.t_fields:
            v = x[:, slot:slot + T]
            if kind == "value":
                key = key * size + (v - lo)
            elif kind == "some":
                key = key * size + (v != NONE)
            else:  # 0 for none, else 1 + the label's places outside this entity
                count, outside = place
                sig = np.zeros((len(x), count + 1), np.int64)  # column 0: none
                for b, (s, is_set) in enumerate(outside):
                    w = x[:, s]
                    for m in range(count):
                        held = ((w >> m) & 1) if is_set else (w == m)
                        sig[:, m + 1] |= held.astype(np.int64) << b
                sig[:, 1:] += 1
                key = key * size + np.take_along_axis(sig, v + 1, axis=1)
        rank = np.empty_like(key)
        rank[rows, np.argsort(key, axis=1, kind="stable")] = np.arange(T)
        held = np.full((len(x), T), T, np.int64)  # least rank of a slot referring to it
        for slot in self.t_selfref:
            for t in range(T):
                target = x[:, slot + t]
                has = target != NONE
                r = np.flatnonzero(has)
                held[r, target[r]] = np.minimum(held[r, target[r]], rank[r, t])
        key = key * (T + 1) + held
        order = np.argsort(key, axis=1, kind="stable")  # new slot i <- old slot order[:, i]
        inv = np.empty_like(order)
        inv[rows, order] = np.arange(T)
        for slot in self.t_arrays:
            x[:, slot:slot + T] = np.take_along_axis(x[:, slot:slot + T], order, axis=1)
        lut = np.concatenate([np.full((len(x), 1), NONE), inv], axis=1)  # index v + 1
        for slot in self.t_refs:
            x[:, slot] = lut[rows[:, 0], x[:, slot] + 1]
        if self.t_sets:
            raise ModelError("symmetry: sets of a sorted entity are not supported; enumerate it")
        return x


    @staticmethod
    def _place(x: np.ndarray, count: int, refs: list[int], sets: list[int]) -> np.ndarray:
        """Order a label entity's slots by the positions that hold them; rename to match."""
        n = len(x)
        sig = np.zeros((n, count), np.int64)
        for b, slot in enumerate(refs + sets):
            v = x[:, slot]
            for m in range(count):
                held = (v == m) if b < len(refs) else ((v >> m) & 1).astype(bool)
                sig[:, m] |= held.astype(np.int64) << b
        order = np.argsort(-sig, axis=1, kind="stable")  # new label i <- old label order[:, i]
        inv = np.empty_like(order)
        rows = np.arange(n)[:, None]
        inv[rows, order] = np.arange(count)
        lut = np.concatenate([np.full((n, 1), NONE), inv], axis=1)
        for slot in refs:
            x[:, slot] = lut[rows[:, 0], x[:, slot] + 1]
        for slot in sets:
            v = x[:, slot]
            out = np.zeros(n, np.int64)
            for m in range(count):
                out |= ((v >> m) & 1) << inv[:, m]
            x[:, slot] = out
        return x


def _less(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise lexicographic ``a < b`` of key batches (last word most significant)."""
    less = np.zeros(len(a), bool)
    equal = np.ones(len(a), bool)
    for w in range(a.shape[1] - 1, -1, -1):
        less |= equal & (a[:, w] < b[:, w])
        equal &= a[:, w] == b[:, w]
    return less
