"""Z3 formulas derived from a model's traced paths: states, init, steps, predicates.

Nothing here is written per model. :func:`encoding` runs the model's guards,
effects and predicates symbolically (:mod:`checker.core.paths`) once, keeps the
paths, and translates their expressions into Z3 bit-vector terms:

* a *vocabulary* is one signed ``BitVec`` per state slot, named after a copy
  of the state (``vocab(model, "s3")`` gives ``s3.t0.loc``, ...);
* :func:`step` of one instance is the disjunction, over its paths, of the
  path's conditions on the pre-state and ``post[i] == expr[i]`` for every slot;
* :func:`errors` is where the concrete model would raise instead of stepping
  (an array indexed out of range, a negative shift count, a value stored
  outside its domain): engines report it, they never read it as "disabled";
* :func:`predicate` is the disjunction of the paths on which a state
  predicate is true.

The bit width is computed from the domains by the interval analysis of
:mod:`checker.core.expr` over every traced expression, so no intermediate value wraps around; comparisons are
signed, ``>>`` is arithmetic, as in Python. The traced paths are cached per
model (:func:`encoding`); the formulas are built once per Z3 context over
canonical vocabularies (:class:`Formulas`) and put on a copy of the state by
substitution (the terms themselves come from :mod:`checker.symbolic.z3terms`). Engines give each run a fresh context, so that its answers do
not depend on what earlier runs in the same process asked.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Sequence

import z3

from ..core.contract import Action, Instance, Model
from ..core.decisions import Node, instance_tree, tree
from ..core.expr import Expr, interval, render, shift_counts, signed_bits, walk
from ..core.paths import Path, conditions, predicate_paths, trace_instance
from ..errors import ModelError
from .z3terms import Vocab, Z3Terms, conj, disj, solver

State = tuple  # concrete state, a tuple of ints

MIN_WIDTH = 8
"""Bit-width floor: leaves room for counts and masks computed by predicates traced later."""


# ---- the per-model encoding ---------------------------------------------------

class Formulas:
    """The Z3 formulas of one model in one Z3 context, over canonical vocabularies ``pre``/``post``.

    Built lazily from the traced paths and cached; :func:`step` and the other
    public functions instantiate them for a copy of the state by substitution.
    """

    def __init__(self, enc: "Encoding", ctx: z3.Context):
        self.enc, self.ctx = enc, ctx
        self.pre, self.post = enc.vocab("pre", ctx), enc.vocab("post", ctx)
        self.tr = Z3Terms(self.pre, enc.width)
        self._steps: dict = {}
        self._trees: dict = {}
        self._runs: dict = {}
        self._enabled: dict = {}
        self._errors: dict = {}
        self._predicates: dict = {}
        self._equal: dict = {}
        self._trans: z3.BoolRef | None = None
        self._probe: z3.Solver | None = None

    def _post_is(self, i: int, e: Expr) -> z3.BoolRef:
        f = self._equal.get((i, e))
        if f is None:
            f = self._equal[(i, e)] = self.post[i] == self.tr.bv(e)
        return f

    def _faults(self, p: Path) -> list[z3.BoolRef]:
        """Where path ``p``'s concrete run would raise: a negative shift, a value off its domain."""
        domains, memo, tr = self.enc.model.schema.slot_domains, self.enc.ranges, self.tr
        out = []
        amounts = {a for e in (*p.conds, *p.post) for a in shift_counts(e)}
        for a in sorted(amounts, key=render):
            if interval(a, domains, memo)[0] < 0:
                out.append(tr.bv(a) < 0)
        for i, e in enumerate(p.post):
            lo, hi = interval(e, domains, memo)
            d = domains[i]
            if lo < d.lo or hi > d.hi:
                x = tr.bv(e)
                out.append(z3.Or(x < d.lo, x > d.hi))
        return out

    def sound(self, p: Path) -> list[z3.BoolRef]:
        """What must hold for path ``p``'s concrete run not to raise (empty: it never does)."""
        faults = self._faults(p)
        return [z3.Not(disj(faults))] if faults else []

    def tree(self, inst: Instance) -> Node | None:
        """The decision tree of ``inst``'s paths that store a post-state (leaves: the paths)."""
        if inst not in self._trees:
            self._trees[inst] = instance_tree(self.enc.paths[inst], lambda p: p.post is not None)
        return self._trees[inst]

    def step(self, inst: Instance) -> z3.BoolRef:
        """``inst`` leads from ``pre`` to ``post`` on a path that does not raise."""
        f = self._steps.get(inst)
        if f is None:
            def leaf(p: Path) -> z3.BoolRef:
                return conj([self._post_is(i, e) for i, e in enumerate(p.post)] + self.sound(p))
            f = self._steps[inst] = self.tr.formula(self.tree(inst), leaf)
        return f

    def runs(self, inst: Instance) -> z3.BoolRef:
        """``inst`` is enabled in ``pre`` on a path that does not raise."""
        f = self._runs.get(inst)
        if f is None:
            def leaf(p: Path) -> z3.BoolRef:
                sound = self.sound(p)
                return sound[0] if sound else self.tr.true
            f = self._runs[inst] = self.tr.formula(self.tree(inst), leaf)
        return f

    def trans(self) -> z3.BoolRef:
        """Some instance steps from ``pre`` to ``post``."""
        if self._trans is None:
            self._trans = disj([self.step(i) for i in self.enc.model.instances])
        return self._trans

    def enabled(self, inst: Instance) -> z3.BoolRef:
        """``inst``'s guard holds in ``pre`` (paths that raise included)."""
        f = self._enabled.get(inst)
        if f is None:
            f = self._enabled[inst] = self.tr.formula(instance_tree(self.enc.paths[inst]),
                                                      lambda p: self.tr.true)
        return f

    def errors(self, inst: Instance) -> z3.BoolRef:
        """``pre`` is domain-valid and running ``inst`` on it raises."""
        f = self._errors.get(inst)
        if f is None:
            def leaf(p: Path) -> z3.BoolRef:
                if p.post is None:  # the concrete run raised (an index out of range)
                    return self.tr.true
                faults = self._faults(p)
                return disj(faults) if faults else self.tr.false
            f = z3.simplify(self.tr.formula(instance_tree(self.enc.paths[inst]), leaf))
            if not z3.is_false(f):  # keep only failures a domain-valid state can reach
                if self._probe is None:
                    self._probe = solver(ctx=self.ctx)
                    self._probe.add(domain(self.enc.model, self.pre))
                self._probe.push()
                self._probe.add(f)
                reachable = self._probe.check() != z3.unsat
                self._probe.pop()
                f = z3.And(domain(self.enc.model, self.pre), f) if reachable else self.tr.false
            self._errors[inst] = f
        return f

    def predicate(self, fn, what: str) -> z3.BoolRef:
        """``fn(view)`` holds in ``pre``."""
        f = self._predicates.get(fn)
        if f is None:
            f = self._predicates[fn] = self.tr.formula(
                self.enc.predicate_tree(fn, what), lambda truth: self.tr.true if truth else None)
        return f


@dataclass
class Encoding:
    """A model's traced paths and bit width; its Z3 formulas, per Z3 context, in :class:`Formulas`."""

    model: Model = field(repr=False)
    width: int
    paths: dict[Instance, list[Path]] = field(repr=False)
    ranges: dict = field(default_factory=dict, repr=False)
    _predicate_trees: dict = field(default_factory=dict, repr=False)
    _fallible: dict = field(default_factory=dict, repr=False)
    _formulas: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary,
                                                 repr=False)

    def vocab(self, name: str, ctx: z3.Context | None = None) -> Vocab:
        """One signed bit-vector per slot, named ``<name>.<slot>``, in context ``ctx``."""
        return tuple(z3.BitVec(f"{name}.{slot}", self.width, ctx)
                     for slot in self.model.schema.slot_names)

    def formulas(self, ctx: z3.Context | None = None) -> Formulas:
        """The formulas in ``ctx`` (default: Z3's main context), built on first use."""
        ctx = ctx if ctx is not None else z3.main_ctx()
        f = self._formulas.get(ctx)
        if f is None:
            f = self._formulas[ctx] = Formulas(self, ctx)
        return f

    def predicate_tree(self, fn, what: str) -> Node | None:
        """The decision tree of predicate ``fn`` (leaves: its truth); ModelError if a value
        overflows the width."""
        if fn not in self._predicate_trees:
            paths = predicate_paths(self.model, fn, what)
            domains = self.model.schema.slot_domains
            for decisions, _ in paths:
                for c in conditions(decisions):
                    for sub in walk(c):
                        lo, hi = interval(sub, domains, self.ranges)
                        if signed_bits(lo, hi) > self.width:
                            raise ModelError(
                                f"{what}: the value {render(sub)} may reach {lo}..{hi}, which does not "
                                f"fit the encoding's {self.width} bits; compute with smaller values")
            self._predicate_trees[fn] = tree(paths)
        return self._predicate_trees[fn]

    def may_fail(self, inst: Instance) -> bool:
        """Whether some domain-valid state makes ``inst`` raise."""
        if inst not in self._fallible:
            self._fallible[inst] = not z3.is_false(self.formulas().errors(inst))
        return self._fallible[inst]

    def error_messages(self, inst: Instance) -> list[str]:
        """The messages of ``inst``'s paths on which the concrete run raised."""
        return [p.error for p in self.paths[inst] if p.post is None]


_CACHE: dict[int, Encoding] = {}


def encoding(model: Model) -> Encoding:
    """The (cached) encoding of ``model``: every instance traced once."""
    enc = _CACHE.get(id(model))
    if enc is not None and enc.model is model:
        return enc
    paths = {inst: trace_instance(model, inst) for inst in model.instances}
    domains = model.schema.slot_domains
    memo: dict = {}
    width = MIN_WIDTH
    for d in domains:
        width = max(width, signed_bits(d.lo, d.hi))
    for ps in paths.values():
        for p in ps:
            for e in (*p.conds, *(p.post or ())):
                for sub in walk(e):
                    width = max(width, signed_bits(*interval(sub, domains, memo)))
    width += 1  # headroom for predicates traced later (counts, masks)
    enc = Encoding(model, width, paths, memo)
    _CACHE[id(model)] = enc
    weakref.finalize(model, _CACHE.pop, id(model), None)
    return enc


# ---- the public, vocabulary-level API -------------------------------------------

def vocab(model: Model, name: str, ctx: z3.Context | None = None) -> Vocab:
    """A copy of the state variables, named ``<name>.<slot>``.

    Formulas over it live in ``ctx`` (default: Z3's main context). Engines
    give each run a fresh context, so that a run's answers do not depend on
    what earlier runs in the same process asked.
    """
    return encoding(model).vocab(name, ctx)


def _on(model: Model, build, pre: Vocab, post: Vocab | None = None) -> z3.BoolRef:
    """``build(formulas)`` over the canonical vocabularies, put on ``pre`` (and ``post``)."""
    forms = encoding(model).formulas(pre[0].ctx)
    pairs = list(zip(forms.pre, pre))
    if post is not None:
        pairs += list(zip(forms.post, post))
    return z3.substitute(build(forms), *pairs)


def domain(model: Model, v: Vocab) -> z3.BoolRef:
    """Every slot of ``v`` holds a value of its domain."""
    return conj([z3.And(x >= d.lo, x <= d.hi) for x, d in zip(v, model.schema.slot_domains)])


def is_state(model: Model, v: Vocab, state: State) -> z3.BoolRef:
    """``v`` equals the concrete ``state``."""
    return conj([x == c for x, c in zip(v, state)])


def init(model: Model, v: Vocab) -> z3.BoolRef:
    """``v`` is one of the model's initial states."""
    return disj([is_state(model, v, s) for s in model.initial_states])


def step(model: Model, inst: Instance, pre: Vocab, post: Vocab) -> z3.BoolRef:
    """``inst`` is enabled in ``pre`` and leads to ``post`` (paths that raise excluded: see :func:`errors`)."""
    return _on(model, lambda f: f.step(inst), pre, post)


def action_step(model: Model, action: Action, pre: Vocab, post: Vocab) -> z3.BoolRef:
    """Some instance of ``action`` leads from ``pre`` to ``post``."""
    return _on(model, lambda f: disj([f.step(i) for i in instances_of(model, action)]), pre, post)


def trans(model: Model, pre: Vocab, post: Vocab) -> z3.BoolRef:
    """Some instance leads from ``pre`` to ``post``: the transition relation."""
    return _on(model, lambda f: f.trans(), pre, post)


def enabled(model: Model, inst: Instance, v: Vocab) -> z3.BoolRef:
    """``inst``'s guard is true in ``v`` (including paths on which the concrete run raises)."""
    return _on(model, lambda f: f.enabled(inst), v)


def errors(model: Model, inst: Instance, v: Vocab) -> z3.BoolRef:
    """``v`` is domain-valid and running ``inst`` on it would raise in the concrete model.

    That is a contract violation: an array indexed out of range, a negative
    shift count, or a value stored outside its variable's domain.
    """
    return _on(model, lambda f: f.errors(inst), v)


def may_fail(model: Model, inst: Instance) -> bool:
    """Whether :func:`errors` of ``inst`` is satisfiable at all."""
    return encoding(model).may_fail(inst)


def predicate(model: Model, fn, v: Vocab, what: str = "predicate") -> z3.BoolRef:
    """The state predicate ``fn(view)`` as a formula over ``v``."""
    return _on(model, lambda f: f.predicate(fn, what), v)


def deadlocked(model: Model, v: Vocab) -> z3.BoolRef:
    """No instance is enabled in ``v`` and it is neither terminal nor at the bound."""
    def build(f: Formulas) -> z3.BoolRef:
        parts = [z3.Not(disj([f.enabled(i) for i in model.instances]))]
        for pred, what in ((model.terminal, "terminal"), (model.at_bound, "at_bound")):
            if pred is not None:
                parts.append(z3.Not(f.predicate(pred, f"{model.name} {what}")))
        return conj(parts)
    return _on(model, build, v)


def concrete(model: Model, zmodel: z3.ModelRef, v: Vocab) -> State:
    """The concrete state a Z3 model gives ``v``."""
    return tuple(zmodel.eval(x, model_completion=True).as_signed_long() for x in v)




def instances_of(model: Model, action: Action) -> Sequence[Instance]:
    """The instances of ``action``, in the model's order."""
    return [i for i in model.instances if i.action is action]
