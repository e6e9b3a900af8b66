"""Z3 formulas derived from a model's traced paths: states, init, steps, predicates.

Nothing here is written per model. :func:`encoding` runs the model's guards,
effects and predicates symbolically (:mod:`checker.symbolic`) once, keeps the
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

The bit width is computed from the domains by interval analysis of every
traced expression, so no intermediate value wraps around; comparisons are
signed, ``>>`` is arithmetic, as in Python. The traced paths are cached per
model (:func:`encoding`); the formulas are built once per Z3 context over
canonical vocabularies (:class:`Formulas`) and put on a copy of the state by
substitution. Engines give each run a fresh context, so that its answers do
not depend on what earlier runs in the same process asked.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import z3

from ..core.contract import Action, Instance, Model
from ..errors import ModelError
from ..core.paths import Expr, Path, render, trace_instance, trace_predicate

State = tuple  # concrete state, a tuple of ints
Vocab = tuple  # one z3 BitVec per slot

MIN_WIDTH = 8
"""Bit-width floor: leaves room for counts and masks computed by predicates traced later."""


# ---- interval analysis ------------------------------------------------------

def signed_bits(lo: int, hi: int) -> int:
    """Width of the smallest signed bit-vector holding every value of ``lo..hi``."""
    return max(max(hi, 0).bit_length(), (~lo).bit_length() if lo < 0 else 0) + 1


def _bitbound(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    n = max(abs(x).bit_length() for x in (*a, *b))
    if a[0] >= 0 and b[0] >= 0:
        return 0, (1 << n) - 1
    return -(1 << n), (1 << n) - 1


def value_range(e: Expr, domains, memo: dict | None = None) -> tuple[int, int]:
    """Bounds on the values ``e`` takes over every domain-valid state (booleans are 0..1)."""
    memo = {} if memo is None else memo
    hit = memo.get(e)
    if hit is not None:
        return hit
    tag = e[0]
    if tag == "c":
        r = (int(e[1]), int(e[1]))
    elif tag == "s":
        d = domains[e[1]]
        r = (d.lo, d.hi)
    elif tag in ("==", "!=", "<", "<=", ">", ">=", "not", "and", "or"):
        for a in e[1:]:
            value_range(a, domains, memo)
        r = (0, 1)
    else:
        args = [value_range(a, domains, memo) for a in e[1:]]
        if tag == "+":
            r = (args[0][0] + args[1][0], args[0][1] + args[1][1])
        elif tag == "-":
            r = (args[0][0] - args[1][1], args[0][1] - args[1][0])
        elif tag == "*":
            products = [x * y for x in args[0] for y in args[1]]
            r = (min(products), max(products))
        elif tag == "~":
            r = (-args[0][1] - 1, -args[0][0] - 1)
        elif tag == "&":
            a, b = args
            if a[0] >= 0 and b[0] >= 0:
                r = (0, min(a[1], b[1]))
            elif a[0] >= 0 or b[0] >= 0:
                r = (0, a[1] if a[0] >= 0 else b[1])
            else:
                r = _bitbound(a, b)
        elif tag in ("|", "^"):
            r = _bitbound(*args)
        elif tag == "<<":
            a, (_, shi) = args
            s = max(shi, 0)
            r = (min(a[0], a[0] << s), max(a[1], a[1] << s))
        elif tag == ">>":
            a = args[0]
            r = (min(a[0], -1 if a[0] < 0 else 0), max(a[1], 0))
        elif tag == "ite":
            r = (min(args[1][0], args[2][0]), max(args[1][1], args[2][1]))
        else:
            raise ModelError(f"the Z3 encoding has no rule for the operation {tag!r} in {render(e)}")
    memo[e] = r
    return r


def _subexprs(e: Expr, out: set) -> None:
    if e in out:
        return
    out.add(e)
    if e[0] not in ("c", "s"):
        for a in e[1:]:
            _subexprs(a, out)


def _shift_amounts(e: Expr, out: set) -> None:
    """Every expression used as a shift count inside ``e``."""
    if e[0] in ("c", "s"):
        return
    if e[0] in ("<<", ">>"):
        out.add(e[2])
    for a in e[1:]:
        _shift_amounts(a, out)


# ---- translation ------------------------------------------------------------

class _Translator:
    """Expressions over slots -> Z3 terms over one vocabulary (memoised)."""

    def __init__(self, v: Vocab, width: int):
        self.v, self.width, self.memo = v, width, {}
        self.ctx = v[0].ctx
        self.true, self.false = z3.BoolVal(True, self.ctx), z3.BoolVal(False, self.ctx)
        self.one, self.zero = z3.BitVecVal(1, width, self.ctx), z3.BitVecVal(0, width, self.ctx)

    def bv(self, e: Expr) -> z3.BitVecRef:
        t = self.term(e)
        return z3.If(t, self.one, self.zero) if z3.is_bool(t) else t

    def bool(self, e: Expr) -> z3.BoolRef:
        t = self.term(e)
        return t if z3.is_bool(t) else t != 0

    def term(self, e: Expr):
        hit = self.memo.get(e)
        if hit is not None:
            return hit
        tag = e[0]
        if tag == "c":
            r = (z3.BoolVal(e[1], self.ctx) if isinstance(e[1], bool)
                 else z3.BitVecVal(e[1], self.width, self.ctx))
        elif tag == "s":
            r = self.v[e[1]]
        elif tag in ("==", "!="):
            a, b = self.term(e[1]), self.term(e[2])
            if z3.is_bool(a) != z3.is_bool(b):
                a, b = self.bv(e[1]), self.bv(e[2])
            r = (a == b) if tag == "==" else (a != b)
        elif tag in ("<", "<=", ">", ">="):
            a, b = self.bv(e[1]), self.bv(e[2])
            r = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[tag]  # signed in z3py
        elif tag == "not":
            r = z3.Not(self.bool(e[1]))
        elif tag == "and":
            r = z3.And(*(self.bool(a) for a in e[1:]))
        elif tag == "or":
            r = z3.Or(*(self.bool(a) for a in e[1:]))
        elif tag == "ite":
            a, b = self.term(e[2]), self.term(e[3])
            if z3.is_bool(a) != z3.is_bool(b):
                a, b = self.bv(e[2]), self.bv(e[3])
            r = z3.If(self.bool(e[1]), a, b)
        elif tag == "~":
            r = ~self.bv(e[1])
        else:
            a, b = self.bv(e[1]), self.bv(e[2])
            if tag == "+":
                r = a + b
            elif tag == "-":
                r = a - b
            elif tag == "*":
                r = a * b
            elif tag == "&":
                r = a & b
            elif tag == "|":
                r = a | b
            elif tag == "^":
                r = a ^ b
            elif tag == "<<":
                r = a << b
            elif tag == ">>":
                r = a >> b  # arithmetic, as Python's
            else:
                raise ModelError(f"the Z3 encoding has no rule for the operation {tag!r} in {render(e)}")
        self.memo[e] = r
        return r


def _trie(paths: Iterable[tuple[tuple[Expr, ...], object]]) -> dict:
    """Condition lists as a trie (shared prefixes stored once); leaves under key None."""
    root: dict = {}
    for conds, leaf in paths:
        node = root
        for c in conds:
            node = node.setdefault(c, {})
        node.setdefault(None, []).append(leaf)
    return root


def _junction(make, args: list[z3.BoolRef]) -> z3.BoolRef:
    """``And``/``Or`` of Boolean terms of one context, without z3py's per-argument coercion."""
    if len(args) == 1:
        return args[0]
    ctx = args[0].ctx
    arr = (z3.Ast * len(args))(*(a.as_ast() for a in args))
    return z3.BoolRef(make(ctx.ref(), len(args), arr), ctx)


def conj(args: list[z3.BoolRef]) -> z3.BoolRef:
    """The conjunction of a non-empty list of Boolean terms."""
    return _junction(z3.Z3_mk_and, args)


def disj(args: list[z3.BoolRef]) -> z3.BoolRef:
    """The disjunction of a non-empty list of Boolean terms."""
    return _junction(z3.Z3_mk_or, args)


def _trie_formula(node: dict, tr: _Translator, leaf: Callable[[object], z3.BoolRef]) -> z3.BoolRef:
    disjuncts = []
    for cond, child in node.items():
        if cond is None:
            disjuncts.extend(leaf(x) for x in child)
        else:
            disjuncts.append(conj([tr.bool(cond), _trie_formula(child, tr, leaf)]))
    if not disjuncts:
        return tr.false
    return disj(disjuncts)


# ---- the per-model encoding ---------------------------------------------------

class Formulas:
    """The Z3 formulas of one model in one Z3 context, over canonical vocabularies ``pre``/``post``.

    Built lazily from the traced paths and cached; :func:`step` and the other
    public functions instantiate them for a copy of the state by substitution.
    """

    def __init__(self, enc: "Encoding", ctx: z3.Context):
        self.enc, self.ctx = enc, ctx
        self.pre, self.post = enc.vocab("pre", ctx), enc.vocab("post", ctx)
        self.tr = _Translator(self.pre, enc.width)
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
        amounts: set = set()
        for e in (*p.conds, *p.post):
            _shift_amounts(e, amounts)
        for a in sorted(amounts, key=repr):
            if value_range(a, domains, memo)[0] < 0:
                out.append(tr.bv(a) < 0)
        for i, e in enumerate(p.post):
            lo, hi = value_range(e, domains, memo)
            d = domains[i]
            if lo < d.lo or hi > d.hi:
                x = tr.bv(e)
                out.append(z3.Or(x < d.lo, x > d.hi))
        return out

    def sound(self, p: Path) -> list[z3.BoolRef]:
        """What must hold for path ``p``'s concrete run not to raise (empty: it never does)."""
        faults = self._faults(p)
        return [z3.Not(disj(faults))] if faults else []

    def tree(self, inst: Instance) -> dict:
        """The decision tree of ``inst``'s paths that store a post-state: conditions as
        keys, the paths under ``None`` at the leaves (each path's conditions stored once)."""
        t = self._trees.get(inst)
        if t is None:
            t = self._trees[inst] = _trie((p.conds, p) for p in self.enc.paths[inst]
                                          if p.post is not None)
        return t

    def step(self, inst: Instance) -> z3.BoolRef:
        """``inst`` leads from ``pre`` to ``post`` on a path that does not raise."""
        f = self._steps.get(inst)
        if f is None:
            def leaf(p: Path) -> z3.BoolRef:
                return conj([self._post_is(i, e) for i, e in enumerate(p.post)] + self.sound(p))
            f = self._steps[inst] = _trie_formula(self.tree(inst), self.tr, leaf)
        return f

    def runs(self, inst: Instance) -> z3.BoolRef:
        """``inst`` is enabled in ``pre`` on a path that does not raise."""
        f = self._runs.get(inst)
        if f is None:
            def leaf(p: Path) -> z3.BoolRef:
                sound = self.sound(p)
                return sound[0] if sound else self.tr.true
            f = self._runs[inst] = _trie_formula(self.tree(inst), self.tr, leaf)
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
            f = self._enabled[inst] = _trie_formula(
                _trie((p.conds, p) for p in self.enc.paths[inst]), self.tr, lambda p: self.tr.true)
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
            f = z3.simplify(_trie_formula(_trie((p.conds, p) for p in self.enc.paths[inst]),
                                          self.tr, leaf))
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
            paths = self.enc.predicate_paths(fn, what)
            f = self._predicates[fn] = _trie_formula(
                _trie((conds, None) for conds in paths), self.tr, lambda _: self.tr.true)
        return f


@dataclass
class Encoding:
    """A model's traced paths and bit width; its Z3 formulas, per Z3 context, in :class:`Formulas`."""

    model: Model = field(repr=False)
    width: int
    paths: dict[Instance, list[Path]] = field(repr=False)
    ranges: dict = field(default_factory=dict, repr=False)
    _predicate_paths: dict = field(default_factory=dict, repr=False)
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

    def predicate_paths(self, fn, what: str) -> list[tuple[Expr, ...]]:
        """The traced true paths of predicate ``fn``; ModelError if a value overflows the width."""
        paths = self._predicate_paths.get(fn)
        if paths is None:
            paths = trace_predicate(self.model, fn, what)
            domains = self.model.schema.slot_domains
            for conds in paths:
                for c in conds:
                    for sub in _all_subexprs(c):
                        lo, hi = value_range(sub, domains, self.ranges)
                        if signed_bits(lo, hi) > self.width:
                            raise ModelError(
                                f"{what}: the value {render(sub)} may reach {lo}..{hi}, which does not "
                                f"fit the encoding's {self.width} bits; compute with smaller values")
            self._predicate_paths[fn] = paths
        return paths

    def may_fail(self, inst: Instance) -> bool:
        """Whether some domain-valid state makes ``inst`` raise."""
        if inst not in self._fallible:
            self._fallible[inst] = not z3.is_false(self.formulas().errors(inst))
        return self._fallible[inst]

    def error_messages(self, inst: Instance) -> list[str]:
        """The messages of ``inst``'s paths on which the concrete run raised."""
        return [p.error for p in self.paths[inst] if p.post is None]


def _all_subexprs(e: Expr) -> set:
    out: set = set()
    _subexprs(e, out)
    return out


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
                for sub in _all_subexprs(e):
                    width = max(width, signed_bits(*value_range(sub, domains, memo)))
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


def solver(timeout: float | None = None, logic: str | None = None,
           ctx: z3.Context | None = None) -> z3.Solver:
    """A fresh solver with a fixed random seed (repeatable results) and an optional timeout in seconds.

    ``logic="QF_BV"`` picks Z3's bit-blasting solver, faster on deep unrollings.
    """
    s = z3.SolverFor(logic, ctx=ctx) if logic else z3.Solver(ctx=ctx)
    s.set("random_seed", 0)
    s.set("smt.random_seed", 0)
    if timeout is not None:
        s.set("timeout", max(1, int(timeout * 1000)))
    return s


def instances_of(model: Model, action: Action) -> Sequence[Instance]:
    """The instances of ``action``, in the model's order."""
    return [i for i in model.instances if i.action is action]
