"""The transition relation as a circuit, for deep unrollings (bounded model checking).

:func:`checker.symbolic.z3enc.trans` is a relation: a disjunction, over every path of
every instance, of the path's conditions and one equation per slot. It is
the natural form for one-step questions (induction, PDR), but unrolled 20
times it asks the solver to rediscover, at every step, that every slot but
a few keeps its value. :class:`Unrolling` states the same steps as a
circuit built from the same traced paths:

* each state is one bit-vector per slot, no wider than its domain needs
  (a flag is one bit); formulas of :mod:`checker.symbolic.z3enc` read it through a
  sign- or zero-extended view at the encoding's width;
* each step has one *instance index*: instance ``a`` is chosen when it
  equals ``a``, and the chosen instance must be enabled on a path that does
  not raise (:func:`checker.symbolic.z3enc.errors` covers the others);
* each slot's next value is an if-then-else over the instances that may
  write it (the instance's decision tree picks the path), ending in the
  slot's old value: a slot no instance writes costs nothing.

The paths of one instance form a decision tree (:mod:`checker.core.decisions`),
so exactly one path of an enabled instance applies; the circuit has the successors of the relational form, a claim
``tests/checker/symbolic/test_unroll.py`` checks state by state.
"""
from __future__ import annotations

import z3

from ..core.contract import Model
from ..core.decisions import Leaf, Node
from ..core.expr import Slot, signed_bits
from ..errors import CheckerBug
from . import z3enc
from .z3terms import conj


def slot_width(lo: int, hi: int) -> int:
    """Bits of the narrowest bit-vector holding ``lo..hi`` (two's complement when ``lo < 0``)."""
    return signed_bits(lo, hi) if lo < 0 else max(1, hi.bit_length())


class Unrolling:
    """States ``0, 1, 2, ...`` of one model in one Z3 context, joined by circuit steps."""

    def __init__(self, model: Model, ctx: z3.Context):
        self.model, self.ctx = model, ctx
        enc = z3enc.encoding(model)
        domains = model.schema.slot_domains
        self.widths = [slot_width(d.lo, d.hi) for d in domains]
        self.signed = [d.lo < 0 for d in domains]
        self.wide_width = enc.width
        self.count = len(model.instances)
        self.index_width = max(1, (self.count - 1).bit_length())
        self._pre = self._narrow("pre")
        self._post = self._narrow("post")
        self._index = z3.BitVec("instance", self.index_width, ctx)
        self._step = self._build(enc)
        self.states: list[list[z3.BitVecRef]] = []

    # -- the public interface ----------------------------------------------------------

    def state(self) -> z3enc.Vocab:
        """A new state ``k`` (the next number): its view at the encoding's width."""
        self.states.append(self._narrow(f"s{len(self.states)}"))
        return self.view(self.states[-1])

    def step(self) -> z3.BoolRef:
        """The newest state follows from the one before it by one step of some instance."""
        k = len(self.states) - 1
        if k < 1:
            raise CheckerBug("an unrolling step needs two states")
        index = z3.BitVec(f"s{k}.instance", self.index_width, self.ctx)
        pairs = [*zip(self._pre, self.states[k - 1]), *zip(self._post, self.states[k]),
                 (self._index, index)]
        return z3.substitute(self._step, *pairs)

    def view(self, narrow) -> z3enc.Vocab:
        """The slots of a narrow state extended to the encoding's width, as z3enc reads them."""
        return tuple((z3.SignExt if s else z3.ZeroExt)(self.wide_width - w, x) if w < self.wide_width
                     else x for x, w, s in zip(narrow, self.widths, self.signed))

    # -- construction ------------------------------------------------------------------

    def _narrow(self, name: str) -> list[z3.BitVecRef]:
        return [z3.BitVec(f"{name}.{slot}", w, self.ctx)
                for slot, w in zip(self.model.schema.slot_names, self.widths)]

    def _build(self, enc: z3enc.Encoding) -> z3.BoolRef:
        forms = enc.formulas(self.ctx)
        tr = forms.tr
        slots = len(self.widths)
        writers: list[list[tuple[z3.BoolRef, z3.BitVecRef]]] = [[] for _ in range(slots)]
        parts = [z3.ULT(self._index, self.count)] if self.count < 1 << self.index_width else []
        for a, inst in enumerate(self.model.instances):
            chosen = self._index == a
            parts.append(z3.Implies(chosen, forms.runs(inst)))
            tree = forms.tree(inst)
            for i in range(slots):
                if any(p.post[i] != Slot(i) for p in enc.paths[inst] if p.post is not None):
                    writers[i].append((chosen, self._value(tree, i, tr)))
        for i, ws in enumerate(writers):
            value = forms.pre[i]
            for chosen, v in reversed(ws):
                value = z3.If(chosen, v, value)
            parts.append(self._post_wide_is(i, value))
        wide = conj(parts) if parts else tr.true
        return z3.substitute(wide, *zip(forms.pre, self.view(self._pre)))

    def _post_wide_is(self, i: int, value: z3.BitVecRef) -> z3.BoolRef:
        """Slot ``i`` of the post-state equals ``value`` (in its domain on every path that runs)."""
        w = self.widths[i]
        return self._post[i] == (z3.Extract(w - 1, 0, value) if w < self.wide_width else value)

    def _value(self, node: Node, i: int, tr) -> z3.BitVecRef:
        """Slot ``i`` after the instance whose decision tree is ``node``: one path applies."""
        if isinstance(node, Leaf):
            return tr.bv(node.value.post[i])
        if node.yes is None or node.no is None:
            return self._value(node.yes or node.no, i, tr)
        return z3.If(tr.bool(node.cond), self._value(node.yes, i, tr), self._value(node.no, i, tr))


class Relation:
    """The same interface over :func:`checker.symbolic.z3enc.trans` (the relational form), for comparison."""

    def __init__(self, model: Model, ctx: z3.Context):
        self.model, self.ctx = model, ctx
        self.states: list[z3enc.Vocab] = []

    def state(self) -> z3enc.Vocab:
        """A new state ``k`` at the encoding's width."""
        self.states.append(z3enc.vocab(self.model, f"s{len(self.states)}", self.ctx))
        return self.states[-1]

    def step(self) -> z3.BoolRef:
        """The newest state follows from the one before it by one step of some instance."""
        if len(self.states) < 2:
            raise CheckerBug("an unrolling step needs two states")
        return z3enc.trans(self.model, self.states[-2], self.states[-1])


UNROLLINGS = {"circuit": Unrolling, "relation": Relation}
"""The unrollings :func:`checker.symbolic.bmc.bmc` can use, by name (``circuit`` is the default)."""
